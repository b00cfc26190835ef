"""cilium: rendered in full (its operator registers cilium's CRDs itself)."""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.cni.host import CNI_BIN, CNI_CONF
from groundwork.manifests.common import (
    TOLERATE_ALL,
    Obj,
    config_map,
    env,
    env_field,
    host_path,
    mount,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import Backend, ClusterSpec, KubeProxyMode

CILIUM_NS = "kube-system"


def cilium_config(spec: ClusterSpec, plan: ClusterPlan) -> dict[str, str]:
    net = plan.network
    native = net.backend is Backend.NATIVE
    replace = net.kube_proxy is KubeProxyMode.NONE
    data = {
        "cluster-name": spec.name,
        "ipam": "kubernetes",  # node pod subnets come from the controller-manager
        "enable-ipv4": "true",
        "enable-ipv6": "false",
        "routing-mode": "native" if native else "tunnel",
        "mtu": str(plan.pod_mtu),
        "kube-proxy-replacement": "true" if replace else "false",
        "enable-ipv4-masquerade": "true",
        "identity-allocation-mode": "crd",
        "cni-exclusive": "true",
        "write-cni-conf-when-ready": f"/host{CNI_CONF}/05-cilium.conflist",
        "cgroup-root": "/run/cilium/cgroupv2",
        "bpf-root": "/sys/fs/bpf",
    }
    if native:
        data["ipv4-native-routing-cidr"] = str(net.pod_cidr)
        data["auto-direct-node-routes"] = "true"
    else:
        data["tunnel-protocol"] = net.backend.value  # vxlan or geneve
    return data


def _cilium_api_env(plan: ClusterPlan) -> list[Obj]:
    # Without kube-proxy, the `kubernetes` Service IP is not reachable until
    # cilium itself programs it: talk to the control plane endpoint directly.
    if plan.network.kube_proxy is not KubeProxyMode.NONE:
        return []
    return [
        env("KUBERNETES_SERVICE_HOST", plan.endpoint.host),
        env("KUBERNETES_SERVICE_PORT", str(plan.endpoint.port)),
    ]


def cilium(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    agent_image = versions.CILIUM.image("agent")
    api_env = _cilium_api_env(plan)
    config_dir = "/tmp/cilium/config-map"
    common_env = [
        env_field("K8S_NODE_NAME", "spec.nodeName"),
        env_field("CILIUM_K8S_NAMESPACE", "metadata.namespace"),
        *api_env,
    ]
    agent_rules = [
        rule(["networking.k8s.io"], ["networkpolicies"], ["get", "list", "watch"]),
        rule(["discovery.k8s.io"], ["endpointslices"], ["get", "list", "watch"]),
        rule(
            [""], ["namespaces", "services", "pods", "endpoints", "nodes"], ["get", "list", "watch"]
        ),
        rule([""], ["nodes/status", "pods"], ["patch"]),
        rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["list", "watch", "get"]),
        rule(["cilium.io"], ["*"], ["*"]),
    ]
    operator_rules = [
        rule([""], ["pods"], ["get", "list", "watch", "delete"]),
        rule(
            [""],
            ["nodes", "nodes/status", "services", "endpoints", "namespaces"],
            ["get", "list", "watch", "patch", "update"],
        ),
        rule([""], ["services/status"], ["update", "patch"]),
        rule(["discovery.k8s.io"], ["endpointslices"], ["get", "list", "watch"]),
        rule(
            ["apiextensions.k8s.io"],
            ["customresourcedefinitions"],
            ["create", "get", "list", "watch", "update"],
        ),
        rule(["coordination.k8s.io"], ["leases"], ["create", "get", "update"]),
        rule(["cilium.io"], ["*"], ["*"]),
    ]
    volumes = [
        host_path("cilium-run", "/var/run/cilium", "DirectoryOrCreate"),
        host_path("bpf-maps", "/sys/fs/bpf", "DirectoryOrCreate"),
        host_path("cilium-cgroup", "/run/cilium/cgroupv2", "DirectoryOrCreate"),
        host_path("cni-path", CNI_BIN, "DirectoryOrCreate"),
        host_path("etc-cni-netd", CNI_CONF, "DirectoryOrCreate"),
        host_path("lib-modules", "/lib/modules"),
        host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
        {"name": "cilium-config-path", "configMap": {"name": "cilium-config"}},
    ]
    privileged = {"privileged": True}
    agent_pod: Obj = {
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "cilium",
        "hostNetwork": True,
        "tolerations": TOLERATE_ALL,
        "initContainers": [
            {
                "name": "mount-bpf-fs",
                "image": agent_image,
                "command": ["/bin/bash", "-c", "--"],
                "args": ['mount | grep "/sys/fs/bpf type bpf" || mount -t bpf bpf /sys/fs/bpf'],
                "securityContext": privileged,
                "volumeMounts": [
                    {**mount("bpf-maps", "/sys/fs/bpf"), "mountPropagation": "Bidirectional"}
                ],
            },
            {
                "name": "mount-cgroup",
                "image": agent_image,
                "command": ["/bin/bash", "-c", "--"],
                "args": [
                    "mountpoint -q /run/cilium/cgroupv2 "
                    "|| mount -t cgroup2 none /run/cilium/cgroupv2"
                ],
                "securityContext": privileged,
                "volumeMounts": [
                    {
                        **mount("cilium-cgroup", "/run/cilium/cgroupv2"),
                        "mountPropagation": "Bidirectional",
                    }
                ],
            },
            {
                "name": "install-cni-binaries",
                "image": agent_image,
                "command": ["/install-plugin.sh"],
                "volumeMounts": [mount("cni-path", "/host/opt/cni/bin")],
            },
        ],
        "containers": [
            {
                "name": "cilium-agent",
                "image": agent_image,
                "command": ["cilium-agent"],
                "args": [f"--config-dir={config_dir}"],
                "env": common_env,
                "securityContext": privileged,
                "volumeMounts": [
                    mount("cilium-run", "/var/run/cilium"),
                    {**mount("bpf-maps", "/sys/fs/bpf"), "mountPropagation": "HostToContainer"},
                    mount("cilium-cgroup", "/run/cilium/cgroupv2"),
                    mount("etc-cni-netd", f"/host{CNI_CONF}"),
                    mount("lib-modules", "/lib/modules", read_only=True),
                    mount("xtables-lock", "/run/xtables.lock"),
                    mount("cilium-config-path", config_dir, read_only=True),
                ],
            }
        ],
        "volumes": volumes,
    }
    operator_pod: Obj = {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "cilium-operator",
        "hostNetwork": True,
        "tolerations": TOLERATE_ALL,
        "containers": [
            {
                "name": "cilium-operator",
                "image": versions.CILIUM.image("operator"),
                "command": ["cilium-operator-generic"],
                "args": [f"--config-dir={config_dir}"],
                "env": common_env,
                "volumeMounts": [mount("cilium-config-path", config_dir, read_only=True)],
            }
        ],
        "volumes": [{"name": "cilium-config-path", "configMap": {"name": "cilium-config"}}],
    }
    return [
        config_map("cilium-config", CILIUM_NS, cilium_config(spec, plan)),
        *rbac("cilium", CILIUM_NS, agent_rules),
        *rbac("cilium-operator", CILIUM_NS, operator_rules),
        workload("DaemonSet", "cilium", CILIUM_NS, agent_pod),
        workload("Deployment", "cilium-operator", CILIUM_NS, operator_pod, replicas=1),
    ]

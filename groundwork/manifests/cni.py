"""The network plugin's in-cluster part, per stack.

- bridge: nothing in-cluster. The node role writes the bridge CNI config and
  the static routes between node subnets, so `cni()` returns no objects.
- flannel, cilium, kube-router: rendered in full here (small, no CRDs of
  their own that we must ship; cilium's operator registers its CRDs itself).
- calico: through the tigera operator. The operator and the calico CRDs come
  from the pinned upstream bundles (`versions.CALICO.bundles`); Groundwork
  renders the `Installation` and the BGP configuration from the spec.

Every plugin gets the pod MTU from the plan, never its own guess.
"""

from __future__ import annotations

import json

from groundwork.manifests import versions
from groundwork.manifests.common import (
    TOLERATE_ALL,
    Obj,
    config_map,
    env,
    env_field,
    host_path,
    meta,
    mount,
    namespace,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import IPIP_BACKENDS, Backend, ClusterSpec, KubeProxyMode, Plugin

CNI_BIN = "/opt/cni/bin"
CNI_CONF = "/etc/cni/net.d"


def cni(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    plugin = plan.network.plugin
    if plugin is Plugin.BRIDGE:
        return []
    if plugin is Plugin.FLANNEL:
        return flannel(spec, plan)
    if plugin is Plugin.CALICO:
        return calico(spec, plan)
    if plugin is Plugin.CILIUM:
        return cilium(spec, plan)
    return kube_router(spec, plan)


# --- flannel -------------------------------------------------------------------------

FLANNEL_NS = "kube-flannel"


def flannel_net_conf(plan: ClusterPlan) -> Obj:
    net = plan.network
    return {
        "Network": str(net.pod_cidr),
        "SubnetLen": net.node_subnet_size,
        "EnableNFTables": net.kube_proxy is KubeProxyMode.NFTABLES,
        "Backend": {"Type": net.backend.value},
    }


def flannel_cni_conf(plan: ClusterPlan) -> Obj:
    return {
        "name": "cbr0",
        "cniVersion": "0.3.1",
        "plugins": [
            {
                "type": "flannel",
                # The pod MTU of the plan; flanneld sizes its own device the same way
                # (node MTU minus the backend's overhead).
                "delegate": {"hairpinMode": True, "isDefaultGateway": True, "mtu": plan.pod_mtu},
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def flannel(_spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    image = versions.FLANNEL.image("flannel")
    cni_image = versions.FLANNEL.image("cni-plugin")
    rules = [
        rule([""], ["pods"], ["get"]),
        rule([""], ["nodes"], ["get", "list", "watch"]),
        rule([""], ["nodes/status"], ["patch"]),
    ]
    pod: Obj = {
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "flannel",
        "hostNetwork": True,
        "tolerations": TOLERATE_ALL,
        "initContainers": [
            {
                "name": "install-cni-plugin",
                "image": cni_image,
                "command": ["cp"],
                "args": ["-f", "/flannel", f"{CNI_BIN}/flannel"],
                "volumeMounts": [mount("cni-plugin", CNI_BIN)],
            },
            {
                "name": "install-cni",
                "image": image,
                "command": ["cp"],
                "args": [
                    "-f",
                    "/etc/kube-flannel/cni-conf.json",
                    f"{CNI_CONF}/10-flannel.conflist",
                ],
                "volumeMounts": [
                    mount("cni", CNI_CONF),
                    mount("flannel-cfg", "/etc/kube-flannel/"),
                ],
            },
        ],
        "containers": [
            {
                "name": "kube-flannel",
                "image": image,
                "command": ["/opt/bin/flanneld"],
                "args": ["--ip-masq", "--kube-subnet-mgr"],
                "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}},
                "securityContext": {
                    "privileged": False,
                    "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]},
                },
                "env": [
                    env_field("POD_NAME", "metadata.name"),
                    env_field("POD_NAMESPACE", "metadata.namespace"),
                    env("EVENT_QUEUE_DEPTH", "5000"),
                ],
                "volumeMounts": [
                    mount("run", "/run/flannel"),
                    mount("flannel-cfg", "/etc/kube-flannel/"),
                    mount("xtables-lock", "/run/xtables.lock"),
                ],
            }
        ],
        "volumes": [
            host_path("run", "/run/flannel"),
            host_path("cni-plugin", CNI_BIN),
            host_path("cni", CNI_CONF),
            {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
            host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
        ],
    }
    return [
        namespace(FLANNEL_NS, **{"pod-security.kubernetes.io/enforce": "privileged"}),
        *rbac("flannel", FLANNEL_NS, rules),
        config_map(
            "kube-flannel-cfg",
            FLANNEL_NS,
            {
                "cni-conf.json": json.dumps(flannel_cni_conf(plan), indent=2),
                "net-conf.json": json.dumps(flannel_net_conf(plan), indent=2),
            },
        ),
        workload("DaemonSet", "kube-flannel-ds", FLANNEL_NS, pod),
    ]


# --- calico (tigera operator) ------------------------------------------------------

CALICO_ENCAPSULATION: dict[Backend, str] = {
    Backend.VXLAN: "VXLAN",
    Backend.IPIP: "IPIP",
    Backend.BGP: "None",
    Backend.IPIP_CROSS_SUBNET: "IPIPCrossSubnet",
    Backend.VXLAN_CROSS_SUBNET: "VXLANCrossSubnet",
}
# Calico accepts IPv4 block sizes from /20 to /32.
CALICO_BLOCK_SIZES = range(20, 33)


def calico_bgp_enabled(spec: ClusterSpec, backend: Backend) -> bool:
    """IP-in-IP and unencapsulated routing need BGP; VXLAN does not (unless peers are declared)."""
    peers = spec.network.bgp is not None and bool(spec.network.bgp.peers)
    return backend in {Backend.BGP, *IPIP_BACKENDS} or peers


def calico(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    net = plan.network
    if net.node_subnet_size not in CALICO_BLOCK_SIZES:
        raise ValueError(
            f"calico block size must be /20../32; nodeSubnetSize is /{net.node_subnet_size}"
        )
    bgp = calico_bgp_enabled(spec, net.backend)
    installation: Obj = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": meta("default"),
        "spec": {
            "variant": "Calico",
            "cni": {"type": "Calico", "ipam": {"type": "Calico"}},
            "calicoNetwork": {
                "bgp": "Enabled" if bgp else "Disabled",
                "mtu": plan.pod_mtu,
                "linuxDataplane": "Nftables"
                if net.kube_proxy is KubeProxyMode.NFTABLES
                else "Iptables",
                "ipPools": [
                    {
                        "name": "default-ipv4-ippool",
                        "cidr": str(net.pod_cidr),
                        "encapsulation": CALICO_ENCAPSULATION[net.backend],
                        "natOutgoing": "Enabled",
                        "blockSize": net.node_subnet_size,
                        "nodeSelector": "all()",
                    }
                ],
            },
        },
    }
    out = [installation]
    if bgp:
        asn = spec.network.bgp.asn if spec.network.bgp else 64512
        out.append(
            {
                "apiVersion": "crd.projectcalico.org/v1",
                "kind": "BGPConfiguration",
                "metadata": meta("default"),
                "spec": {
                    "asNumber": asn,
                    "nodeToNodeMeshEnabled": True,
                    "logSeverityScreen": "Info",
                },
            }
        )
        for peer in spec.network.bgp.peers if spec.network.bgp else []:
            out.append(
                {
                    "apiVersion": "crd.projectcalico.org/v1",
                    "kind": "BGPPeer",
                    "metadata": meta("peer-" + str(peer.address).replace(".", "-")),
                    "spec": {"peerIP": str(peer.address), "asNumber": peer.asn},
                }
            )
    return out


# --- cilium ---------------------------------------------------------------------------

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


# --- kube-router ----------------------------------------------------------------------

KUBE_ROUTER_NS = "kube-system"


def kube_router_args(spec: ClusterSpec, plan: ClusterPlan) -> list[str]:
    net = plan.network
    overlay = net.backend is Backend.IPIP
    replace_proxy = net.kube_proxy is KubeProxyMode.NONE
    args = [
        "--run-router=true",
        "--run-firewall=true",
        f"--run-service-proxy={'true' if replace_proxy else 'false'}",
        "--bgp-graceful-restart=true",
        f"--enable-overlay={'true' if overlay else 'false'}",
        "--enable-pod-egress=true",
    ]
    if overlay:
        args.append("--overlay-type=full")
    bgp = spec.network.bgp
    if bgp is not None:
        args.append(f"--cluster-asn={bgp.asn}")
        if bgp.peers:
            args.append("--peer-router-ips=" + ",".join(str(p.address) for p in bgp.peers))
            args.append("--peer-router-asns=" + ",".join(str(p.asn) for p in bgp.peers))
    return args


def kube_router_cni_conf(plan: ClusterPlan) -> Obj:
    return {
        "cniVersion": "0.3.0",
        "name": "mynet",
        "plugins": [
            {
                "name": "kubernetes",
                "type": "bridge",
                "bridge": "kube-bridge",
                "isDefaultGateway": True,
                "mtu": plan.pod_mtu,
                "ipam": {"type": "host-local"},
            },
            {"type": "portmap", "capabilities": {"snat": True, "portMappings": True}},
        ],
    }


def kube_router(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    image = versions.KUBE_ROUTER.image("kube-router")
    rules = [
        rule(
            [""], ["namespaces", "pods", "services", "nodes", "endpoints"], ["list", "get", "watch"]
        ),
        rule(["networking.k8s.io"], ["networkpolicies"], ["list", "get", "watch"]),
        rule(["discovery.k8s.io"], ["endpointslices"], ["get", "list", "watch"]),
        rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"]),
        rule([""], ["services/status"], ["update"]),
        rule([""], ["events"], ["create", "patch"]),
    ]
    pod: Obj = {
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "kube-router",
        "hostNetwork": True,
        "tolerations": TOLERATE_ALL,
        "initContainers": [
            {
                "name": "install-cni",
                "image": image,
                "command": ["/bin/sh", "-c"],
                "args": [
                    f"cp /etc/kube-router/cni-conf.json {CNI_CONF}/10-kuberouter.conflist.tmp && "
                    f"mv {CNI_CONF}/10-kuberouter.conflist.tmp {CNI_CONF}/10-kuberouter.conflist"
                ],
                "volumeMounts": [
                    mount("cni-conf-dir", CNI_CONF),
                    mount("kube-router-cfg", "/etc/kube-router"),
                ],
            }
        ],
        "containers": [
            {
                "name": "kube-router",
                "image": image,
                "args": kube_router_args(spec, plan),
                "env": [env_field("NODE_NAME", "spec.nodeName")],
                "securityContext": {"privileged": True},
                "volumeMounts": [
                    mount("lib-modules", "/lib/modules", read_only=True),
                    mount("cni-conf-dir", CNI_CONF),
                    mount("xtables-lock", "/run/xtables.lock"),
                ],
            }
        ],
        "volumes": [
            host_path("lib-modules", "/lib/modules"),
            host_path("cni-conf-dir", CNI_CONF),
            host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
            {"name": "kube-router-cfg", "configMap": {"name": "kube-router-cfg"}},
        ],
    }
    return [
        *rbac("kube-router", KUBE_ROUTER_NS, rules),
        config_map(
            "kube-router-cfg",
            KUBE_ROUTER_NS,
            {"cni-conf.json": json.dumps(kube_router_cni_conf(plan), indent=2)},
        ),
        workload("DaemonSet", "kube-router", KUBE_ROUTER_NS, pod),
    ]

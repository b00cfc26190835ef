"""flannel: rendered in full (a DaemonSet, its RBAC and its net-conf), as
upstream's Documentation/kube-flannel.yml of the pinned release lays it out.

The pod MTU comes from the plan; flanneld sizes its own device the same way.
"""

from __future__ import annotations

import json

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
    namespace,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, KubeProxyMode

FLANNEL_NS = "kube-flannel"
# flanneld's /healthz and /readyz, on the node's network (upstream's port).
HEALTHZ_PORT = 8081


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
                "command": ["/opt/bin/install-conf"],
                "args": ["/etc/kube-flannel/cni-conf.json", f"{CNI_CONF}/10-flannel.conflist"],
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
                # The node's declared address picks flanneld's interface
                # (upstream's default, the one of the default route, fails
                # on a node network with no route out, such as the lab's).
                "args": [
                    "--ip-masq",
                    "--kube-subnet-mgr",
                    f"--healthz-port={HEALTHZ_PORT}",
                    "--iface=$(HOST_IP)",
                ],
                "ports": [{"name": "healthz", "containerPort": HEALTHZ_PORT, "protocol": "TCP"}],
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "healthz"},
                    "initialDelaySeconds": 10,
                    "periodSeconds": 30,
                },
                "readinessProbe": {
                    "httpGet": {"path": "/readyz", "port": "healthz"},
                    "initialDelaySeconds": 5,
                    "periodSeconds": 10,
                },
                "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}},
                "securityContext": {
                    "privileged": False,
                    "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]},
                },
                "env": [
                    env_field("POD_NAME", "metadata.name"),
                    env_field("POD_NAMESPACE", "metadata.namespace"),
                    env_field("HOST_IP", "status.hostIP"),
                    env("EVENT_QUEUE_DEPTH", "5000"),
                    env("CONT_WHEN_CACHE_NOT_READY", "false"),
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

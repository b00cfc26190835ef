"""kube-router: rendered in full (a DaemonSet running routing, policy and,
with `kubeProxy: none`, the service proxy).
"""

from __future__ import annotations

import json

from groundwork.manifests import versions
from groundwork.manifests.cni.host import CNI_CONF
from groundwork.manifests.common import (
    TOLERATE_ALL,
    Obj,
    config_map,
    env_field,
    host_path,
    mount,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import Backend, ClusterSpec, KubeProxyMode

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

"""Services of type LoadBalancer on machines without a cloud: MetalLB or kube-vip.

MetalLB: its CRDs, controller, speaker, webhook and webhook certificate
rotation come from the pinned upstream `metallb-native.yaml` bundle
(`versions.METALLB.bundles`), installed by the Pulumi layer before these
objects; Groundwork renders the namespace and the address configuration:
one IPAddressPool per pool, and an L2Advertisement (l2) or a
BGPAdvertisement plus a BGPPeer per declared peer (bgp).

kube-vip: the DaemonSet in services mode (ARP, leader election per
Service) with its RBAC; when pools are declared, kube-vip-cloud-provider
assigns addresses from them (ConfigMap `kubevip`). Without pools a Service
needs `spec.loadBalancerIP` or the `kube-vip.io/loadbalancerIPs` annotation.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import (
    CONTROL_PLANE_TOLERATIONS,
    TOLERATE_ALL,
    Obj,
    config_map,
    env,
    env_field,
    meta,
    namespace,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec

METALLB_NS = "metallb-system"
METALLB_API = "metallb.io/v1beta1"
METALLB_PEER_API = "metallb.io/v1beta2"


def load_balancer(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    provider = spec.load_balancer.provider
    if provider == "metallb":
        return metallb(spec)
    if provider == "kube-vip":
        return kube_vip(spec, plan)
    return []


def metallb(spec: ClusterSpec) -> list[Obj]:
    lb = spec.load_balancer
    pools = [p.name for p in lb.pools]
    out: list[Obj] = [
        namespace(
            METALLB_NS,
            **{
                "pod-security.kubernetes.io/enforce": "privileged",
                "pod-security.kubernetes.io/audit": "privileged",
                "pod-security.kubernetes.io/warn": "privileged",
            },
        )
    ]
    out += [
        {
            "apiVersion": METALLB_API,
            "kind": "IPAddressPool",
            "metadata": meta(pool.name, METALLB_NS),
            "spec": {"addresses": list(pool.addresses), "autoAssign": True},
        }
        for pool in lb.pools
    ]
    if lb.mode == "l2":
        out.append(
            {
                "apiVersion": METALLB_API,
                "kind": "L2Advertisement",
                "metadata": meta("groundwork", METALLB_NS),
                "spec": {"ipAddressPools": pools},
            }
        )
        return out
    bgp = spec.network.bgp
    out.append(
        {
            "apiVersion": METALLB_API,
            "kind": "BGPAdvertisement",
            "metadata": meta("groundwork", METALLB_NS),
            "spec": {"ipAddressPools": pools},
        }
    )
    for peer in bgp.peers if bgp else []:
        out.append(
            {
                "apiVersion": METALLB_PEER_API,
                "kind": "BGPPeer",
                "metadata": meta("peer-" + str(peer.address).replace(".", "-"), METALLB_NS),
                "spec": {
                    "myASN": bgp.asn if bgp else 64512,
                    "peerASN": peer.asn,
                    "peerAddress": str(peer.address),
                },
            }
        )
    return out


KUBE_VIP_NS = "kube-system"


def kube_vip(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    rules = [
        rule([""], ["services/status"], ["update"]),
        rule([""], ["services", "endpoints"], ["list", "get", "watch", "update"]),
        rule([""], ["nodes"], ["list", "get", "watch", "update", "patch"]),
        rule(["coordination.k8s.io"], ["leases"], ["list", "get", "watch", "update", "create"]),
        rule(["discovery.k8s.io"], ["endpointslices"], ["list", "get", "watch", "update"]),
        rule([""], ["pods"], ["list"]),
    ]
    pod: Obj = {
        "serviceAccountName": "kube-vip",
        "hostNetwork": True,
        "tolerations": TOLERATE_ALL,
        "containers": [
            {
                "name": "kube-vip",
                "image": versions.KUBE_VIP.image("kube-vip"),
                "args": ["manager"],
                "env": [
                    env("vip_arp", "true"),
                    env("port", "6443"),
                    # Services only: the control plane VIP is keepalived's (node role).
                    env("cp_enable", "false"),
                    env("svc_enable", "true"),
                    env("svc_election", "true"),
                    env("vip_leaderelection", "false"),
                    env_field("vip_nodename", "spec.nodeName"),
                ],
                "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
            }
        ],
    }
    out = [
        *rbac("kube-vip", KUBE_VIP_NS, rules),
        workload("DaemonSet", "kube-vip-ds", KUBE_VIP_NS, pod),
    ]
    pools = spec.load_balancer.pools
    if pools:
        # One global range for every pool: kube-vip keys other ranges by namespace.
        addresses = [a for p in pools for a in p.addresses]
        data = {}
        ranges = [a for a in addresses if "-" in a]
        cidrs = [a for a in addresses if "-" not in a]
        if ranges:
            data["range-global"] = ",".join(ranges)
        if cidrs:
            data["cidr-global"] = ",".join(cidrs)
        cp_rules = [
            rule(
                [""], ["services", "services/status"], ["get", "list", "watch", "update", "patch"]
            ),
            rule([""], ["configmaps"], ["get", "list", "watch", "create", "update"]),
            rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update", "list", "watch"]),
            rule([""], ["events"], ["create", "patch", "update"]),
            rule([""], ["nodes"], ["get", "list", "watch"]),
        ]
        cp_pod: Obj = {
            "serviceAccountName": "kube-vip-cloud-controller",
            "tolerations": CONTROL_PLANE_TOLERATIONS,
            "containers": [
                {
                    "name": "kube-vip-cloud-provider",
                    "image": versions.KUBE_VIP.image("cloud-provider"),
                    "command": [
                        "/kube-vip-cloud-provider",
                        "--leader-elect-resource-name=kube-vip-cloud-controller",
                    ],
                }
            ],
        }
        out += [
            config_map("kubevip", KUBE_VIP_NS, data),
            *rbac("kube-vip-cloud-controller", KUBE_VIP_NS, cp_rules),
            workload("Deployment", "kube-vip-cloud-provider", KUBE_VIP_NS, cp_pod, replicas=1),
        ]
    return out

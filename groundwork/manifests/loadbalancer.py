"""Services of type LoadBalancer on machines without a cloud: MetalLB or kube-vip.

MetalLB: its CRDs, controller, speaker, webhook and webhook certificate
rotation are upstream's `config/manifests/metallb-native.yaml`, read from
the go.universe.tf/metallb module components/metallb pins (a bundle, see
groundwork.manifests.bundles) and installed by either door before these
objects; Groundwork renders templates/addons/metallb/metallb.yaml.j2: the
namespace and the address configuration, one IPAddressPool per pool, and an
L2Advertisement (l2) or a BGPAdvertisement plus a BGPPeer per declared peer
(bgp).

kube-vip: the DaemonSet in services mode (ARP, leader election per
Service) with its RBAC (templates/addons/kube-vip/kube-vip.yaml.j2); when
pools are declared, kube-vip-cloud-provider assigns addresses from them
(templates/addons/kube-vip/cloud-provider.yaml.j2, ConfigMap `kubevip`).
Without pools a Service needs `spec.loadBalancerIP` or the
`kube-vip.io/loadbalancerIPs` annotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.manifests import versions
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec


@dataclass(frozen=True)
class PoolView:
    """One MetalLB IPAddressPool."""

    name: str
    addresses: list[str]


@dataclass(frozen=True)
class PeerView:
    """One MetalLB BGPPeer: a router of network.bgp."""

    name: str
    address: str
    asn: int


def load_balancer(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    provider = spec.load_balancer.provider
    if provider == "metallb":
        return metallb(spec)
    if provider == "kube-vip":
        return kube_vip(spec, plan)
    return []


def metallb(spec: ClusterSpec) -> list[Obj]:
    lb = spec.load_balancer
    bgp = spec.network.bgp
    # A peer's object is named after its address: peer-10-30-0-1.
    peers = [
        PeerView("peer-" + str(p.address).replace(".", "-"), str(p.address), p.asn)
        for p in (bgp.peers if bgp else [])
    ]
    return render_objects(
        "addons/metallb/metallb.yaml.j2",
        pools=[PoolView(p.name, list(p.addresses)) for p in lb.pools],
        pool_names=[p.name for p in lb.pools],
        mode=lb.mode,
        my_asn=bgp.asn if bgp else 64512,
        peers=peers,
    )


def kube_vip(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    out = render_objects(
        "addons/kube-vip/kube-vip.yaml.j2", image=versions.KUBE_VIP.image("kube-vip")
    )
    pools = spec.load_balancer.pools
    if pools:
        # kube-vip-cloud-provider reads ranges (a-b) and CIDRs under separate keys.
        addresses = [a for p in pools for a in p.addresses]
        out += render_objects(
            "addons/kube-vip/cloud-provider.yaml.j2",
            image=versions.KUBE_VIP.image("cloud-provider"),
            range_global=",".join(a for a in addresses if "-" in a),
            cidr_global=",".join(a for a in addresses if "-" not in a),
        )
    return out

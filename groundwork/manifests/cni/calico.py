"""calico, through the tigera operator.

The operator and the calico CRDs come from the pinned upstream bundles
(`versions.CALICO.bundles`, installed by the cni layer first); this module
renders the `Installation` (templates/addons/calico/installation.yaml.j2)
and, when calico routes over BGP, the BGP configuration and one BGPPeer per
declared router (templates/addons/calico/bgp.yaml.j2).
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import IPIP_BACKENDS, Backend, ClusterSpec, KubeProxyMode

CALICO_ENCAPSULATION: dict[Backend, str] = {
    Backend.VXLAN: "VXLAN",
    Backend.IPIP: "IPIP",
    Backend.BGP: "None",
    Backend.IPIP_CROSS_SUBNET: "IPIPCrossSubnet",
    Backend.VXLAN_CROSS_SUBNET: "VXLANCrossSubnet",
}
# Calico accepts IPv4 block sizes from /20 to /32.
CALICO_BLOCK_SIZES = range(20, 33)
# The cluster's AS when the spec declares no network.bgp (the spec's default).
DEFAULT_ASN = 64512


@dataclass(frozen=True)
class PeerView:
    """One calico BGPPeer: a router of network.bgp."""

    name: str
    address: str
    asn: int


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
    bgp_enabled = calico_bgp_enabled(spec, net.backend)
    out = render_objects(
        "addons/calico/installation.yaml.j2",
        bgp="Enabled" if bgp_enabled else "Disabled",
        mtu=plan.pod_mtu,
        linux_dataplane="Nftables" if net.kube_proxy is KubeProxyMode.NFTABLES else "Iptables",
        pod_cidr=str(net.pod_cidr),
        encapsulation=CALICO_ENCAPSULATION[net.backend],
        block_size=net.node_subnet_size,
    )
    if bgp_enabled:
        bgp = spec.network.bgp
        # A peer's object is named after its address: peer-10-30-0-1.
        peers = [
            PeerView("peer-" + str(p.address).replace(".", "-"), str(p.address), p.asn)
            for p in (bgp.peers if bgp else [])
        ]
        out += render_objects(
            "addons/calico/bgp.yaml.j2",
            asn=bgp.asn if bgp else DEFAULT_ASN,
            peers=peers,
        )
    return out

"""The bridge plugin's bgp backend on each node (pure).

Every node that runs pods runs BIRD (Debian's bird2): it announces the
node's pod subnet over BGP to every other such node (a full iBGP mesh in the
cluster's AS, each peer directly connected) and to the routers the stack
declares (network.bgp.peers), and installs what it learns into the kernel:
a route to each other node's pod subnet through that node's address. Pods
attach to the node's bridge as with static routes; only the routes differ,
learned instead of written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from groundwork.spec.model import Backend, Bgp, Plugin

if TYPE_CHECKING:
    from groundwork.plan import ClusterPlan
    from groundwork.spec import ClusterSpec


@dataclass(frozen=True)
class BgpPeering:
    protocol: str  # BIRD's name for the session: mesh_<node> or peer_<n>
    address: str
    asn: int


@dataclass(frozen=True)
class BgpNode:
    router_id: str  # the node's address
    asn: int
    announce: str  # the node's pod subnet
    mesh: tuple[BgpPeering, ...]  # every other node that runs pods
    peers: tuple[BgpPeering, ...]  # the stack's routers (network.bgp.peers)

    @property
    def sessions(self) -> tuple[BgpPeering, ...]:
        return (*self.mesh, *self.peers)


def protocol_name(prefix: str, name: str) -> str:
    """A BIRD protocol name (letters, digits, underscores) for a node's name."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def planned(spec: ClusterSpec, plan: ClusterPlan, name: str) -> BgpNode | None:
    """BIRD's settings on a node that runs pods (None on other backends)."""
    net = plan.network
    node = plan.node(name)
    if (net.plugin, net.backend) != (Plugin.BRIDGE, Backend.BGP) or node.pod_subnet is None:
        return None
    bgp = spec.network.bgp or Bgp()
    mesh = tuple(
        BgpPeering(protocol_name("mesh", other.name), str(other.address), bgp.asn)
        for other in plan.nodes
        if other.name != name and other.pod_subnet is not None
    )
    peers = tuple(
        BgpPeering(f"peer_{i}", str(peer.address), peer.asn) for i, peer in enumerate(bgp.peers)
    )
    return BgpNode(str(node.address), bgp.asn, str(node.pod_subnet), mesh, peers)


def inventory_entry(node: BgpNode) -> dict[str, object]:
    """gw_bgp in a node's inventory (roles/network writes bird.conf from it)."""
    return {
        "router_id": node.router_id,
        "asn": node.asn,
        "announce": node.announce,
        "sessions": [
            {"protocol": s.protocol, "address": s.address, "asn": s.asn} for s in node.sessions
        ],
    }

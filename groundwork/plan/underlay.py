"""The macvlan backend's addresses on each node (pure).

Pods sit on the nodes' own network: each pod's interface is a macvlan
device on the node's interface, with an address from the node's pod subnet
(a range of that network) and the whole network on-link, so a pod reaches
pods and machines on other nodes directly, with no route and no overlay.
A macvlan device cannot talk to its parent interface, so the node gets one
macvlan device of its own, the shim, holding the first address of its pod
subnet: the node reaches its pods through it, and pods reach the node, the
VIP it may hold and everything off the network (Services, the world)
through the shim's address as their gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TYPE_CHECKING

from groundwork.spec.model import Backend
from groundwork.spec.rules import node_cidr

if TYPE_CHECKING:
    from groundwork.plan import ClusterPlan
    from groundwork.spec import ClusterSpec

# The node's own macvlan device (roles/network creates it).
SHIM_DEVICE = "gw-shim"


@dataclass(frozen=True)
class UnderlayNode:
    network: IPv4Network  # the nodes' network: on-link for every pod
    shim: IPv4Interface  # the node's address in its pod subnet, on the shim device
    range_start: IPv4Address  # the pods' addresses: the rest of the pod subnet
    range_end: IPv4Address
    # What pods reach through the shim: everything (the default route), and
    # the node's own addresses on the network, which its macvlan pods
    # cannot reach directly.
    via_shim: tuple[IPv4Network, ...]


def underlay_node(
    network: IPv4Network,
    pod_subnet: IPv4Network,
    node_address: IPv4Address,
    vip: IPv4Address | None,
) -> UnderlayNode:
    hosts = list(pod_subnet.hosts())
    own = [IPv4Network(f"{node_address}/32")]
    if vip is not None:
        own.append(IPv4Network(f"{vip}/32"))
    return UnderlayNode(
        network=network,
        shim=IPv4Interface(f"{hosts[0]}/{pod_subnet.prefixlen}"),
        range_start=hosts[1],
        range_end=hosts[-1],
        via_shim=(IPv4Network("0.0.0.0/0"), *own),
    )


def planned(spec: ClusterSpec, plan: ClusterPlan, name: str) -> UnderlayNode | None:
    """The macvlan backend's addresses on a node that runs pods (None otherwise)."""
    node = plan.node(name)
    if plan.network.backend is not Backend.MACVLAN or node.pod_subnet is None:
        return None
    network = node_cidr(spec)
    if not isinstance(network, IPv4Network) or not isinstance(node.address, IPv4Address):
        return None  # refused by validate (ipv4_only, underlay)
    endpoint = plan.endpoint
    vip = IPv4Address(endpoint.host) if endpoint.kind == "vip" else None
    return underlay_node(network, node.pod_subnet, node.address, vip)


def inventory_entry(node: UnderlayNode) -> dict[str, object]:
    """gw_underlay in a node's inventory (roles/network reads it)."""
    return {
        "device": SHIM_DEVICE,
        "network": str(node.network),
        "shim": str(node.shim),
        "gateway": str(node.shim.ip),
        "range_start": str(node.range_start),
        "range_end": str(node.range_end),
        "routes": [str(dst) for dst in node.via_shim],
    }

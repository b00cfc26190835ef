"""Per-node pod subnets that never move.

A node's pod subnet depends only on its own address: the slot is the
address modulo the number of subnets the pod CIDR holds, so the low bits of
the address pick the subnet (10.77.0.11 -> 10.244.11.0/24 with a /16 pod
CIDR and /24 per node, as in Kubernetes The Hard Way). Adding or removing a
node therefore never changes another node's subnet, and a node that is
rebuilt with the same address gets the same subnet back.

The price: two addresses equal in those low bits get the same subnet.
`collisions` finds such pairs (validation rejects them). They cannot happen
when the pod CIDR holds at least as many subnets as the node network has
addresses (a /16 pod CIDR of /24s covers a /24 node network).

Plain `ipaddress` types only: the spec's rules import this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network


def slot_count(pod_cidr: IPv4Network, subnet_size: int) -> int:
    """How many /subnet_size node subnets the pod CIDR holds."""
    if not pod_cidr.prefixlen <= subnet_size <= 32:
        raise ValueError(f"/{subnet_size} does not fit inside {pod_cidr}")
    return 1 << (subnet_size - pod_cidr.prefixlen)


def subnet_for(pod_cidr: IPv4Network, subnet_size: int, address: IPv4Address) -> IPv4Network:
    """The pod subnet of the node with this address."""
    slot = int(address) % slot_count(pod_cidr, subnet_size)
    first = int(pod_cidr.network_address) + (slot << (32 - subnet_size))
    return IPv4Network((first, subnet_size))


def allocate(
    pod_cidr: IPv4Network, subnet_size: int, addresses: Mapping[str, IPv4Address]
) -> dict[str, IPv4Network]:
    """node name -> pod subnet, for every node given (callers pass kubelet nodes only)."""
    return {name: subnet_for(pod_cidr, subnet_size, addr) for name, addr in addresses.items()}


def collisions(
    pod_cidr: IPv4Network, subnet_size: int, addresses: Mapping[str, IPv4Address]
) -> list[tuple[str, str, IPv4Network]]:
    """(first holder, later node, subnet) for every node whose subnet is taken.

    Nodes are compared in mapping order; each later node is paired with the
    first node that got the subnet. Identical addresses are not reported here
    (they are duplicate addresses, a different problem).
    """
    holders: dict[IPv4Network, tuple[str, IPv4Address]] = {}
    out: list[tuple[str, str, IPv4Network]] = []
    for name, addr in addresses.items():
        subnet = subnet_for(pod_cidr, subnet_size, addr)
        holder = holders.setdefault(subnet, (name, addr))
        if holder[0] != name and holder[1] != addr:
            out.append((holder[0], name, subnet))
    return out

"""The Debian packages each component needs, and a node's whole set (pure).

A node installs everything its components need in one apt transaction (the
common role): each apt run costs a package index read and dpkg's triggers,
which made three transactions per node the slowest part of a cold `up`. The
component roles still name their own packages, so a role run on its own
installs what it needs (and on a converged node finds nothing missing).
"""

from __future__ import annotations

from groundwork.plan import components

# Every node: time sync, networking and conntrack tools the kubelet and
# kube-proxy shell out to, what the roles themselves run, and the CA bundle
# containerd trusts for registries. Nothing more: every package costs each
# node an unpack on a cold `up` (curl and its ten libraries went, unused).
BASE: tuple[str, ...] = (
    "chrony",
    "iproute2",
    "iptables",
    "nftables",
    "conntrack",
    "socat",
    "procps",
    "kmod",
    "ca-certificates",
)
# The load balancer's (control-plane nodes of a VIP endpoint).
APISERVER_LB: tuple[str, ...] = ("haproxy", "keepalived")
# Debian packages per component role. etcd and the container runtime come
# from their release files (groundwork/plan/runtime.py), and the network role
# writes files only.
BY_COMPONENT: dict[str, tuple[str, ...]] = {
    components.APISERVER_LB: APISERVER_LB,
}


# The bridge plugin's bgp backend: BIRD on every node that runs pods.
BGP_ROUTER: tuple[str, ...] = ("bird2",)


def node_packages(node_components: list[str], bgp_router: bool = False) -> list[str]:
    """Every package one node needs for its components (groundwork/plan/components.py),
    and BIRD where the pod network routes with BGP, in a stable order without repeats."""
    wanted = list(BASE)
    for component, names in BY_COMPONENT.items():
        if component in node_components:
            wanted += names
    if bgp_router:
        wanted += BGP_ROUTER
    return list(dict.fromkeys(wanted))

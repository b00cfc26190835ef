"""The Debian packages each component needs, and a node's whole set (pure).

A node installs everything its components need in one apt transaction (the
common role): each apt run costs a package index read and dpkg's triggers,
which made three transactions per node the slowest part of a cold `up`. The
component roles still name their own packages, so a role run on its own
installs what it needs (and on a converged node finds nothing missing).
"""

from __future__ import annotations

from groundwork.plan.endpoint import EndpointPlan

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
# Nodes that run pods (control plane and workers).
CONTAINER_RUNTIME: tuple[str, ...] = ("containerd", "runc", "containernetworking-plugins")
# Control-plane nodes when the endpoint is a VIP served by haproxy + keepalived.
APISERVER_LB: tuple[str, ...] = ("haproxy", "keepalived")


def node_packages(runs_pods: bool, control_plane: bool, endpoint: EndpointPlan) -> list[str]:
    """Every package one node needs, in a stable order without repeats."""
    wanted = list(BASE)
    if runs_pods:
        wanted += CONTAINER_RUNTIME
    if control_plane and endpoint.haproxy:
        wanted += APISERVER_LB
    return list(dict.fromkeys(wanted))

"""The text under the picture: legend, network, endpoint, etcd, and (asked
for) the ports per role.

Only what the picture does not show: the BGP routers, storage classes, NFS
servers and the gateway are drawn, so they have no panel. The port tables
repeat `groundwork plan` and are drawn only on request.

Pure: spec + plan in, rows of (key, value) out. The SVG module only draws
them, so what the picture says is tested without parsing any geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.graph.scene import (
    BGP,
    CLASS,
    GATEWAY,
    MIRROR,
    NFS,
    REGISTRY,
    TIER_TITLES,
    TIERS,
    WORKLOAD,
    Scene,
    tier,
)
from groundwork.graph.style import COLOURS, LINE_GREY
from groundwork.plan import ClusterPlan
from groundwork.plan.ports import ETCD
from groundwork.spec.model import ClusterSpec, VipEndpoint

BOX, LINE, DOT = "box", "line", "dot"  # what a legend row's swatch looks like


@dataclass(frozen=True)
class Row:
    key: str
    value: str
    swatch: str = ""  # a colour drawn before the key (legend rows)
    mark: str = BOX


@dataclass(frozen=True)
class Panel:
    title: str
    rows: tuple[Row, ...]


# What each kind of card is, and what the lines into it mean.
CARD_MEANING: dict[str, tuple[str, str]] = {
    GATEWAY: ("gateway", "routes each hostname to a workload"),
    WORKLOAD: ("workload", "a StatefulSet; line: its volumes' class"),
    CLASS: ("storage class", "where the volumes come from"),
    BGP: ("BGP router", "line: the nodes' BGP sessions"),
    MIRROR: ("mirror", "line: nodes fetch binaries, packages"),
    REGISTRY: ("registry", "line: kubelets pull images"),
    NFS: ("NFS server", "lines: nodes mount it, classes on it"),
}


def legend(plan: ClusterPlan, scene: Scene) -> Panel:
    tiers = {tier(n) for n in plan.nodes}
    rows = [
        Row(TIER_TITLES[t], f"{sum(tier(n) == t for n in plan.nodes)} node(s)", COLOURS[t])
        for t in TIERS
        if t in tiers
    ]
    rows.append(Row("etcd badge", "an etcd member", COLOURS[ETCD]))
    cards = [*scene.outside, *scene.workloads, *scene.classes]
    if scene.gateway is not None:
        cards.append(scene.gateway)
    kinds = {c.kind for c in cards}
    rows += [Row(*CARD_MEANING[k], COLOURS[k]) for k in CARD_MEANING if k in kinds]
    rows.append(Row("line", "API endpoint to a kube-apiserver", LINE_GREY, LINE))
    if scene.node_kinds():
        rows.append(Row("dot", "lines join there (not a crossing)", LINE_GREY, DOT))
    return Panel("Legend", tuple(rows))


def network(spec: ClusterSpec, plan: ClusterPlan) -> Panel:
    net = plan.network
    rows = [
        Row("plugin", net.plugin.value),
        Row("backend", f"{net.backend} ({net.encapsulation_overhead} B encapsulation)"),
        Row("pod CIDR", f"{net.pod_cidr}, /{net.node_subnet_size} per node"),
        Row("service CIDR", str(net.service_cidr)),
        Row("MTU", f"node {net.node_mtu}, pod {net.pod_mtu}"),
        Row("kube-proxy", net.kube_proxy.value),
        Row("cluster DNS", f"{net.cluster_dns_ip} ({net.cluster_domain})"),
    ]
    bgp = spec.network.bgp
    if bgp is not None:
        # The peers are drawn beside the cluster; the nodes' own AS is said here.
        rows.append(Row("BGP", f"nodes AS {bgp.asn}, {len(bgp.peers)} peer(s)"))
    return Panel("Network", tuple(rows))


def endpoint(spec: ClusterSpec, plan: ClusterPlan) -> Panel:
    ep = plan.endpoint
    rows = [
        Row("kind", endpoint_kind(plan)),
        Row("kube-apiserver", f":{ep.apiserver_port} on each control-plane node"),
    ]
    declared = spec.control_plane.endpoint
    if isinstance(declared, VipEndpoint):
        rows.append(Row("keepalived", f"VRRP router id {declared.virtual_router_id}"))
    return Panel("Control plane endpoint", tuple(rows))


def endpoint_kind(plan: ClusterPlan) -> str:
    return {
        "vip": "VIP: keepalived + haproxy",
        "loadBalancer": "external load balancer",
        "dns": "DNS name of the apiservers",
    }.get(plan.endpoint.kind, plan.endpoint.kind)


def etcd(spec: ClusterSpec, plan: ClusterPlan) -> Panel:
    rows = [Row(m.name, m.peer_url) for m in plan.etcd.members]
    snapshots = spec.etcd.snapshots
    if snapshots is not None:
        rows.append(Row("snapshots", f"{snapshots.schedule}, keep {snapshots.keep}"))
    title = (
        f"etcd {plan.etcd.version}, {spec.etcd.topology.value}: {len(plan.etcd.members)} member(s)"
    )
    return Panel(title, tuple(rows))


def ports(plan: ClusterPlan, role: str) -> Panel:
    rows = tuple(
        Row(rule.label, "from " + ", ".join(rule.sources))
        for rule in plan.ports
        if rule.destination == role
    )
    return Panel(f"Ports open on {role} nodes", rows)


def panels(
    spec: ClusterSpec, plan: ClusterPlan, scene: Scene, with_ports: bool = False
) -> tuple[Panel, ...]:
    """Every panel in reading order; port panels only when asked for, and only
    for roles some node has."""
    roles = [r for r in TIERS if any(r in n.roles for n in plan.nodes)] if with_ports else []
    return (
        legend(plan, scene),
        network(spec, plan),
        endpoint(spec, plan),
        etcd(spec, plan),
        *(ports(plan, r) for r in roles),
    )

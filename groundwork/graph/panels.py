"""The text beside the picture: network, endpoint, etcd, ports per role, storage.

Pure: spec + plan in, rows of (key, value) out. The SVG module only draws
them, so what the picture says is tested without parsing any geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from groundwork.plan import ClusterPlan, NodePlan
from groundwork.plan.ports import CONTROL_PLANE, ETCD, WORKER
from groundwork.spec.model import ClusterSpec, VipEndpoint

# One colour per tier of the picture; the legend panel names them.
COLOURS: dict[str, str] = {
    CONTROL_PLANE: "#2b6cb0",
    WORKER: "#2f855a",
    ETCD: "#c05621",
}

# Where a node is drawn: its most important role decides.
TIER_TITLES: dict[str, str] = {
    CONTROL_PLANE: "control plane",
    ETCD: "etcd only (no kubelet)",
    WORKER: "workers",
}


@dataclass(frozen=True)
class Row:
    key: str
    value: str
    swatch: str = ""  # a colour drawn before the key (legend rows)


@dataclass(frozen=True)
class Panel:
    title: str
    rows: tuple[Row, ...]


def tier(node: NodePlan) -> str:
    """control-plane beats worker beats etcd: a worker that is also an etcd
    member runs a kubelet, so it belongs with the workers."""
    if CONTROL_PLANE in node.roles:
        return CONTROL_PLANE
    if WORKER in node.roles:
        return WORKER
    return ETCD


def legend(plan: ClusterPlan) -> Panel:
    tiers = {tier(n) for n in plan.nodes}
    rows = [
        Row(TIER_TITLES[t], f"{sum(tier(n) == t for n in plan.nodes)} node(s)", COLOURS[t])
        for t in (CONTROL_PLANE, ETCD, WORKER)
        if t in tiers
    ]
    rows.append(Row("etcd badge", "an etcd member", COLOURS[ETCD]))
    rows.append(Row("line", "API endpoint to a kube-apiserver"))
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
        rows.append(Row("BGP", f"AS {bgp.asn}"))
        rows += [Row("BGP peer", f"{p.address} AS {p.asn}") for p in bgp.peers]
    return Panel("Network", tuple(rows))


def endpoint(spec: ClusterSpec, plan: ClusterPlan) -> Panel:
    ep = plan.endpoint
    rows = [
        Row("kind", endpoint_kind(plan)),
        Row("URL", ep.url),
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


def storage(spec: ClusterSpec) -> Panel:
    rows: list[Row] = []
    for sc in spec.storage.classes:
        details = [sc.driver.value, *(["default"] if sc.default else []), sc.reclaim_policy]
        rows.append(Row(sc.name, ", ".join(details)))
        if sc.nfs is not None:
            # Its own row: a server and share rarely fit beside the class.
            rows.append(Row("", f"{sc.nfs.server}:{sc.nfs.share}"))
    return Panel("Storage classes", tuple(rows) or (Row("none", "no storage class"),))


def gateway(spec: ClusterSpec) -> Panel:
    gw, lb = spec.gateway, spec.load_balancer
    rows = [Row("gateway", gw.controller)]
    if gw.ingress_class:
        rows.append(Row("ingress class", gw.ingress_class))
    lb_text = lb.provider if lb.provider == "none" else f"{lb.provider} ({lb.mode})"
    rows.append(Row("load balancer", lb_text))
    rows += [Row(f"pool {p.name}", ", ".join(p.addresses)) for p in lb.pools]
    return Panel("Gateway and load balancer", tuple(rows))


def panels(spec: ClusterSpec, plan: ClusterPlan) -> tuple[Panel, ...]:
    """Every panel in reading order; port panels only for roles some node has."""
    roles: Sequence[str] = [
        r for r in (CONTROL_PLANE, ETCD, WORKER) if any(r in n.roles for n in plan.nodes)
    ]
    return (
        legend(plan),
        network(spec, plan),
        endpoint(spec, plan),
        etcd(spec, plan),
        *(ports(plan, r) for r in roles),
        storage(spec),
        gateway(spec),
    )

"""Draw the topology of one stack as an SVG document (a string).

No timestamps, no generated ids, ints only: the same spec and plan give the
same bytes, so a committed picture only changes when the cluster does. Lines
are drawn before boxes, so a box always covers the lines behind it.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from groundwork.graph import layout as geo
from groundwork.graph.draw import card, clean, el, fit, node, panel, rect, text, wire, wrap
from groundwork.graph.panels import panels
from groundwork.graph.scene import (
    CLASS,
    EXPORT,
    GATEWAY,
    NFS,
    ROUTE,
    TIER_TITLES,
    TIERS,
    VOLUME,
    WORKLOAD,
    Card,
    Scene,
    scene,
    tier,
)
from groundwork.graph.style import COLOURS, CSS, LINE_GREY, SANS_EM
from groundwork.graph.wires import Wire, entry_y, node_wires, route, straight
from groundwork.plan import ClusterPlan, NodePlan
from groundwork.plan.ports import CONTROL_PLANE
from groundwork.spec.model import ClusterSpec

SVG_NS = "http://www.w3.org/2000/svg"


def _header(root: ET.Element, spec: ClusterSpec, plan: ClusterPlan, view: Scene) -> None:
    x, y = geo.MARGIN, geo.MARGIN
    text(root, x, y + 18, f"{plan.name}: Kubernetes {plan.kubernetes_version}", cls="title")
    counts = ", ".join(
        f"{sum(tier(n) == t for n in plan.nodes)} {TIER_TITLES[t]}"
        for t in TIERS
        if any(tier(n) == t for n in plan.nodes)
    )
    zones = [z.name for z in view.zones if z.name]
    where = f" in {len(zones)} zone(s)" if zones else ""
    text(
        root,
        x,
        y + 38,
        f"{len(plan.nodes)} nodes ({counts}){where}; {plan.network.plugin} "
        f"{plan.network.backend}; gateway {spec.gateway.controller}; "
        f"{len(spec.workloads)} workload(s); drawn by `groundwork graph` from the stack's plan",
        cls="sub",
    )


def _endpoint(root: ET.Element, plan: ClusterPlan, box: geo.Box) -> None:
    ep = plan.endpoint
    group = el(root, "g", id="endpoint")
    el(group, "title").text = clean(f"control plane endpoint {ep.url} ({ep.kind})")
    rect(
        group,
        box,
        rx=8,
        fill="#ebf4ff",
        stroke=COLOURS[CONTROL_PLANE],
        stroke_width=2,
    )
    kind = {"vip": "VIP", "loadBalancer": "load balancer", "dns": "DNS"}.get(ep.kind, ep.kind)
    inner = box.w - 20
    text(group, box.x + 10, box.y + 19, f"API endpoint ({kind})", cls="ptitle")
    text(group, box.x + 10, box.y + 38, fit(ep.url, inner, 13), cls="mono", font_size=13)
    how = (
        f"keepalived + haproxy, to kube-apiserver :{ep.apiserver_port}"
        if ep.haproxy
        else f"to kube-apiserver :{ep.apiserver_port} on each control-plane node"
    )
    text(group, box.x + 10, box.y + 55, fit(how, inner, 12, SANS_EM), cls="sub")


def _frames(
    root: ET.Element, spec: ClusterSpec, plan: ClusterPlan, view: Scene, shape: geo.Layout
) -> None:
    """The cluster's frame and its footer, the zones' frames, the outside heading."""
    frame = shape.frame
    rect(
        root,
        frame,
        rx=10,
        fill="#fbfdff",
        stroke=LINE_GREY,
        stroke_dasharray="6 4",
    )
    net = plan.network
    nodes_net = spec.network.node_cidr or (spec.lab.subnet if spec.lab else None)
    on = f"nodes {nodes_net}, " if nodes_net else ""
    # Short enough for the narrowest frame (FRAME_MIN_W); the Network panel has the rest.
    summary = (
        f"{on}pods {net.pod_cidr} (/{net.node_subnet_size} per node), "
        f"services {net.service_cidr}, pod MTU {net.pod_mtu}"
    )
    text(
        root,
        frame.x + geo.FRAME_PAD,
        frame.bottom - 10,
        fit(summary, frame.w - 2 * geo.FRAME_PAD, 12),
        cls="mono sub",
    )
    if view.framed:
        for zone, placed in zip(view.zones, shape.zones, strict=True):
            box = placed.frame
            rect(
                root,
                box,
                rx=8,
                fill="#f4f7fb",
                stroke="#a0aec0",
                cls="zone-frame",
                data_zone=zone.name,
            )
    if shape.outside:
        x = shape.outside[0].x
        text(root, x, shape.outside_label_y, "outside the cluster", cls="tier")


def _placed(
    view: Scene, shape: geo.Layout
) -> tuple[dict[str, tuple[NodePlan, geo.Box]], list[tuple[int, int, str, str]]]:
    """Every node by name with its box; the zones' and tiers' headings."""
    nodes: dict[str, tuple[NodePlan, geo.Box]] = {}
    labels: list[tuple[int, int, str, str]] = []
    for zone, zone_shape in zip(view.zones, shape.zones, strict=True):
        frame = zone_shape.frame
        left = frame.x + geo.ZONE_PAD if view.framed else shape.frame.x + geo.FRAME_PAD
        if view.framed:
            count = sum(len(t) for t in zone.tiers)
            name = f"zone {zone.name}" if zone.name else "no zone"
            heading = fit(f"{name} ({count} nodes)", frame.w - 2 * geo.ZONE_PAD, 13, SANS_EM)
            labels.append((left, frame.y + 17, heading, "zone"))
        by_key = dict(zip(TIERS, zone.tiers, strict=True))
        for tier_shape in zone_shape.tiers:
            members = by_key[tier_shape.key]
            if members:
                labels.append((left, tier_shape.label_y, TIER_TITLES[tier_shape.key], "tier"))
            for n, box in zip(members, tier_shape.boxes, strict=True):
                nodes[n.name] = (n, box)
    return nodes, labels


def _cards(view: Scene, shape: geo.Layout) -> dict[str, tuple[Card, geo.Box]]:
    """Every card by key, with its box."""
    placed: list[tuple[Card, geo.Box]] = [
        *zip(view.outside, shape.outside, strict=True),
    ]
    band = shape.band
    if band is not None:
        if view.gateway is not None and band.gateway is not None:
            placed.append((view.gateway, band.gateway))
        placed += zip(view.workloads, band.workloads, strict=True)
        placed += zip(view.classes, band.classes, strict=True)
    return {c.key: (c, b) for c, b in placed}


def _wires(view: Scene, shape: geo.Layout, nodes: dict[str, geo.Box]) -> list[Wire]:
    cards = {key: box for key, (_, box) in _cards(view, shape).items()}
    exported = {link.target for link in view.links if link.kind == EXPORT}
    entries = {key: 2 if key in exported else 1 for key in cards}
    found = node_wires(view.node_kinds(), nodes, view.links, shape.trunks, cards, entries)
    for link in view.links:
        a, b = cards.get(link.source), cards.get(link.target)
        if a is None or b is None:
            continue
        if link.kind == ROUTE:
            found.append(route(a, b, link.source, link.target, link.label))
        elif link.kind == VOLUME:
            found.append(straight(VOLUME, link.source, link.target, a, b, b.cy))
        elif link.kind == EXPORT:
            found.append(straight(EXPORT, link.source, link.target, a, b, entry_y(b, 1, 2)))
    return found


# Each kind of card's width; the machines outside the cluster: OUTSIDE_W.
_CARD_WIDTHS = {GATEWAY: geo.GATEWAY_W, WORKLOAD: geo.WORKLOAD_W, CLASS: geo.CLASS_W}


def _wrapped(view: Scene) -> Scene:
    """The scene with its cards' lines wrapped to their cards' widths, before
    the layout counts them."""

    def rewrap(item: Card) -> Card:
        width = _CARD_WIDTHS.get(item.kind, geo.OUTSIDE_W) - 16
        return dataclasses.replace(
            item, lines=tuple(part for line in item.lines for part in wrap(line, width))
        )

    return dataclasses.replace(
        view,
        outside=tuple(map(rewrap, view.outside)),
        gateway=rewrap(view.gateway) if view.gateway else None,
        workloads=tuple(map(rewrap, view.workloads)),
        classes=tuple(map(rewrap, view.classes)),
    )


# The colour of each kind of line: the colour of what it leads to.
_LINE_COLOURS = {ROUTE: COLOURS[GATEWAY], VOLUME: COLOURS[CLASS], EXPORT: COLOURS[NFS]}


def render_svg(spec: ClusterSpec, plan: ClusterPlan, ports: bool = False) -> str:
    """The stack's topology as a standalone SVG document; `ports` adds the
    tables of ports each role opens (what `groundwork plan` lists)."""
    view = _wrapped(scene(spec, plan))
    all_panels = panels(spec, plan, view, with_ports=ports)
    routed = {link.target for link in view.links if link.kind == ROUTE}
    shape = geo.layout(
        tiers=TIERS,
        zones=[[len(t) for t in z.tiers] for z in view.zones],
        framed=view.framed,
        lanes=len(view.node_kinds()),
        gateway=len(view.gateway.lines) if view.gateway else None,
        workloads=[(len(c.lines), c.key in routed) for c in view.workloads],
        classes=[len(c.lines) for c in view.classes],
        outside=[(len(c.lines), c.kind == NFS) for c in view.outside],
        panel_rows=[len(p.rows) for p in all_panels],
    )

    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(shape.width),
            "height": str(shape.height),
            "viewBox": f"0 0 {shape.width} {shape.height}",
        },
    )
    el(root, "title").text = clean(f"{plan.name}: cluster topology")
    el(root, "style").text = CSS
    el(root, "rect", x=0, y=0, width=shape.width, height=shape.height, fill="#ffffff")
    _header(root, spec, plan, view)
    _frames(root, spec, plan, view, shape)

    # Lines first: every box, and every label, is drawn over the lines behind it.
    nodes, labels = _placed(view, shape)
    wires = _wires(view, shape, {name: box for name, (_, box) in nodes.items()})
    for kind in dict.fromkeys(w.kind for w in wires):
        colour = _LINE_COLOURS.get(kind) or COLOURS[kind]
        group = el(root, "g", cls=f"wires wires-{kind}", stroke=colour, stroke_width="1.5")
        for item in wires:
            if item.kind == kind:
                wire(group, item, colour)
    lines = el(root, "g", id="endpoint-lines", stroke=LINE_GREY, stroke_width="1.5")
    end = shape.endpoint
    for n, box in nodes.values():
        if tier(n) == CONTROL_PLANE:
            el(lines, "line", x1=end.cx, y1=end.bottom, x2=box.cx, y2=box.y)
    _endpoint(root, plan, end)

    group = el(root, "g", id="nodes")
    for x, y, label, cls in labels:
        text(group, x, y, label, cls=cls)
    etcd_members = {m.name for m in plan.etcd.members}
    for n, box in nodes.values():
        node(group, n, box, n.name in etcd_members)
    if shape.band is not None:
        heading = "workloads" if view.workloads else "storage classes"
        text(root, shape.frame.x + geo.FRAME_PAD, shape.band.label_y, heading, cls="tier")
    for shown, box in _cards(view, shape).values():
        card(root, shown, box)
    for table, box in zip(all_panels, shape.panels, strict=True):
        panel(root, table, box)

    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

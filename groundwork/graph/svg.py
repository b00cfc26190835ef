"""Draw the topology of one stack as an SVG document (a string).

Built with xml.etree, which escapes every text and attribute value, so a
name holding `<` or `&` cannot break the document. No timestamps, no
generated ids, ints only: the same spec and plan give the same bytes, so a
committed picture only changes when the cluster does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from groundwork.graph import layout as geo
from groundwork.graph.panels import COLOURS, TIER_TITLES, Panel, panels, tier
from groundwork.plan import ClusterPlan, NodePlan
from groundwork.plan.ports import CONTROL_PLANE, ETCD, WORKER
from groundwork.spec.model import ClusterSpec

SVG_NS = "http://www.w3.org/2000/svg"
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
# Average glyph width / font size, to cut text that would overflow its box.
# Exact for DejaVu Sans Mono (0.602); a safe upper bound for the sans faces.
MONO_EM = 0.605
SANS_EM = 0.62
STYLE = f"""
text {{ font-family: {SANS}; font-size: 12px; fill: #1a202c; }}
.mono {{ font-family: {MONO}; }}
.title {{ font-size: 20px; font-weight: bold; }}
.sub {{ font-size: 12px; fill: #4a5568; }}
.name {{ font-family: {MONO}; font-size: 13px; font-weight: bold; fill: #ffffff; }}
.badge {{ font-size: 10px; font-weight: bold; fill: #ffffff; }}
.tier {{ font-size: 13px; font-weight: bold; fill: #4a5568; }}
.ptitle {{ font-size: 13px; font-weight: bold; }}
.muted {{ fill: #718096; }}
"""
# XML 1.0 cannot carry most control characters, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def fit(text: str, width_px: int, font_px: int, em: float = MONO_EM, middle: bool = False) -> str:
    """`text`, cut with an ellipsis when it would be wider than `width_px`.
    `middle` keeps both ends: node names often differ only in their suffix."""
    most = max(1, int(width_px / (font_px * em)))
    if len(text) <= most:
        return text
    if middle and most >= 5:
        tail = (most - 1) // 2
        return text[: most - 1 - tail] + "\u2026" + text[-tail:]
    return text[: most - 1] + "\u2026"


def _el(parent: ET.Element, tag: str, **attrs: str | int) -> ET.Element:
    # `class` is a Python keyword: accept `cls`.
    fixed = {("class" if k == "cls" else k.replace("_", "-")): str(v) for k, v in attrs.items()}
    return ET.SubElement(parent, tag, fixed)


def _text(parent: ET.Element, x: int, y: int, text: str, **attrs: str | int) -> ET.Element:
    node = _el(parent, "text", x=x, y=y, **attrs)
    node.text = clean(text)
    return node


def _tooltip(parent: ET.Element, text: str) -> None:
    _el(parent, "title").text = clean(text)


def _header(root: ET.Element, spec: ClusterSpec, plan: ClusterPlan) -> None:
    x, y = geo.MARGIN, geo.MARGIN
    _text(root, x, y + 18, f"{plan.name}: Kubernetes {plan.kubernetes_version}", cls="title")
    counts = ", ".join(
        f"{sum(tier(n) == t for n in plan.nodes)} {TIER_TITLES[t]}"
        for t in (CONTROL_PLANE, ETCD, WORKER)
        if any(tier(n) == t for n in plan.nodes)
    )
    gateway = spec.gateway.controller
    _text(
        root,
        x,
        y + 38,
        f"{len(plan.nodes)} nodes ({counts}); {plan.network.plugin} {plan.network.backend}; "
        f"gateway {gateway}; drawn by `groundwork graph` from the stack's plan",
        cls="sub",
    )


def _endpoint(root: ET.Element, plan: ClusterPlan, box: geo.Box) -> None:
    ep = plan.endpoint
    group = _el(root, "g", id="endpoint")
    _tooltip(group, f"control plane endpoint {ep.url} ({ep.kind})")
    _el(
        group,
        "rect",
        x=box.x,
        y=box.y,
        width=box.w,
        height=box.h,
        rx=8,
        fill="#ebf4ff",
        stroke=COLOURS[CONTROL_PLANE],
        stroke_width=2,
    )
    kind = {"vip": "VIP", "loadBalancer": "load balancer", "dns": "DNS"}.get(ep.kind, ep.kind)
    inner = box.w - 20
    _text(group, box.x + 10, box.y + 19, f"API endpoint ({kind})", cls="ptitle")
    _text(group, box.x + 10, box.y + 38, fit(ep.url, inner, 13), cls="mono", font_size=13)
    how = (
        f"keepalived + haproxy, to kube-apiserver :{ep.apiserver_port}"
        if ep.haproxy
        else f"to kube-apiserver :{ep.apiserver_port} on each control-plane node"
    )
    _text(group, box.x + 10, box.y + 55, fit(how, inner, 12, SANS_EM), cls="sub")


def _node(parent: ET.Element, node: NodePlan, box: geo.Box, etcd_member: bool) -> None:
    colour = COLOURS[tier(node)]
    subnet = str(node.pod_subnet) if node.pod_subnet is not None else "none (no kubelet)"
    group = _el(parent, "g", cls="node")
    _tooltip(
        group,
        f"{node.name} {node.address} roles: {', '.join(node.roles)}; pod subnet {subnet}",
    )
    _el(
        group,
        "rect",
        x=box.x,
        y=box.y,
        width=box.w,
        height=box.h,
        rx=6,
        fill="#ffffff",
        stroke=colour,
        stroke_width="1.5",
    )
    # The coloured header: a rounded rect whose lower corners a square rect hides.
    _el(group, "rect", x=box.x, y=box.y, width=box.w, height=22, rx=6, fill=colour)
    _el(group, "rect", x=box.x, y=box.y + 12, width=box.w, height=10, fill=colour)
    badge_w = 36 if etcd_member else 0
    name_w = box.w - 16 - badge_w
    _text(group, box.x + 8, box.y + 16, fit(node.name, name_w, 13, middle=True), cls="name")
    if etcd_member:
        bx = box.x + box.w - badge_w - 4
        _el(
            group,
            "rect",
            x=bx,
            y=box.y + 4,
            width=badge_w,
            height=14,
            rx=7,
            fill=COLOURS[ETCD],
            stroke="#ffffff",
        )
        _text(group, bx + badge_w // 2, box.y + 15, "etcd", cls="badge", text_anchor="middle")
    inner = box.w - 16
    x = box.x + 8
    _text(group, x, box.y + 39, fit(str(node.address), inner, 12), cls="mono")
    _text(group, x, box.y + 56, fit(", ".join(node.roles), inner, 12, SANS_EM))
    pods = fit(f"pods {subnet}", inner, 12)
    _text(group, x, box.y + 73, pods, cls="mono" if node.pod_subnet else "mono muted")


def _panel(root: ET.Element, panel: Panel, box: geo.Box) -> None:
    group = _el(root, "g", cls="panel")
    _el(
        group,
        "rect",
        x=box.x,
        y=box.y,
        width=box.w,
        height=box.h,
        rx=6,
        fill="#f7fafc",
        stroke="#cbd5e0",
    )
    _text(group, box.x + 10, box.y + 18, fit(panel.title, box.w - 20, 13, SANS_EM), cls="ptitle")
    swatch_w = 16 if any(r.swatch for r in panel.rows) else 0
    longest = max((len(r.key) for r in panel.rows), default=0)
    key_w = min(int(longest * 12 * MONO_EM) + 14, box.w * 2 // 5)
    value_x = box.x + 10 + swatch_w + key_w
    value_w = box.x + box.w - 10 - value_x
    for index, row in enumerate(panel.rows):
        y = box.y + geo.PANEL_TITLE_H + index * geo.PANEL_ROW_H + 11
        x = box.x + 10
        if row.swatch:
            _el(group, "rect", x=x, y=y - 10, width=11, height=11, rx=2, fill=row.swatch)
        elif swatch_w and row.key == "line":
            _el(group, "line", x1=x, y1=y - 4, x2=x + 11, y2=y - 4, stroke="#a0aec0")
        _text(group, x + swatch_w, y, fit(row.key, key_w - 8, 12), cls="mono")
        _text(group, value_x, y, fit(row.value, value_w, 12), cls="mono")


def render_svg(spec: ClusterSpec, plan: ClusterPlan) -> str:
    """The stack's topology as a standalone SVG document."""
    by_tier: dict[str, list[NodePlan]] = {CONTROL_PLANE: [], ETCD: [], WORKER: []}
    for node in plan.nodes:
        by_tier[tier(node)].append(node)
    tiers = [(key, nodes) for key, nodes in by_tier.items() if nodes]
    all_panels = panels(spec, plan)
    shape = geo.layout(
        [(key, len(nodes)) for key, nodes in tiers], [len(p.rows) for p in all_panels]
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
    _el(root, "title").text = clean(f"{plan.name}: cluster topology")
    _el(root, "style").text = STYLE
    _el(root, "rect", x=0, y=0, width=shape.width, height=shape.height, fill="#ffffff")
    _header(root, spec, plan)

    frame = shape.frame
    _el(
        root,
        "rect",
        x=frame.x,
        y=frame.y,
        width=frame.w,
        height=frame.h,
        rx=10,
        fill="#fbfdff",
        stroke="#a0aec0",
        stroke_dasharray="6 4",
    )
    net = plan.network
    summary = (
        f"pod network: {net.plugin} {net.backend}, pods {net.pod_cidr} "
        f"(/{net.node_subnet_size} per node), services {net.service_cidr}, pod MTU {net.pod_mtu}"
    )
    _text(
        root,
        frame.x + geo.FRAME_PAD,
        frame.bottom - 10,
        fit(summary, frame.w - 2 * geo.FRAME_PAD, 12),
        cls="mono sub",
    )

    # Lines first, so the boxes are drawn over them.
    lines = _el(root, "g", id="endpoint-lines", stroke="#a0aec0", stroke_width="1.5")
    boxes = {t.key: t.boxes for t in shape.tiers}
    for box in boxes.get(CONTROL_PLANE, ()):
        _el(lines, "line", x1=shape.endpoint.cx, y1=shape.endpoint.bottom, x2=box.cx, y2=box.y)
    _endpoint(root, plan, shape.endpoint)

    members = {m.name for m in plan.etcd.members}
    for (key, nodes), placed in zip(tiers, shape.tiers, strict=True):
        group = _el(root, "g", id=f"tier-{key}")
        _text(group, frame.x + geo.FRAME_PAD, placed.label_y, TIER_TITLES[key], cls="tier")
        for node, box in zip(nodes, placed.boxes, strict=True):
            _node(group, node, box, node.name in members)

    for panel, box in zip(all_panels, shape.panels, strict=True):
        _panel(root, panel, box)

    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

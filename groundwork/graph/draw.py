"""Drawing primitives: escaped text cut to fit, and the boxes of the picture
(nodes, cards, panels) and the lines between them.

Built with xml.etree, which escapes every text and attribute value, so a
name holding `<` or `&` cannot break the document. A box whose text is cut
carries the whole of it in its tooltip.
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET

from groundwork.graph import layout as geo
from groundwork.graph.panels import DOT, LINE, Panel
from groundwork.graph.scene import CLASS, WORKLOAD, Card, tier
from groundwork.graph.style import COLOURS, MONO_EM, SANS_EM
from groundwork.graph.wires import Wire
from groundwork.plan import NodePlan
from groundwork.plan.ports import ETCD

# XML 1.0 cannot carry most control characters, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def fit(text: str, width_px: int, font_px: int, em: float = MONO_EM, middle: bool = False) -> str:
    """`text`, cut with an ellipsis when it would be wider than `width_px`.
    `middle` keeps both ends: node names often differ only in their suffix,
    images in their tag."""
    most = max(1, int(width_px / (font_px * em)))
    if len(text) <= most:
        return text
    if middle and most >= 5:
        tail = (most - 1) // 2
        return text[: most - 1 - tail] + "\u2026" + text[-tail:]
    return text[: most - 1] + "\u2026"


def wrap(text: str, width_px: int, font_px: int = 12) -> tuple[str, ...]:
    """`text` broken at its spaces into lines that fit `width_px`. A word
    longer than a line (a URL, an image) stays whole, for `fit` to cut."""
    most = max(1, int(width_px / (font_px * MONO_EM)))
    lines = textwrap.wrap(text, most, break_long_words=False, break_on_hyphens=False)
    return tuple(lines) or (text,)


def el(parent: ET.Element, tag: str, **attrs: str | int) -> ET.Element:
    # `class` is a Python keyword: accept `cls`. Values are cleaned too: a
    # node's name is also the data-from of its lines.
    fixed = {
        ("class" if k == "cls" else k.replace("_", "-")): clean(str(v)) for k, v in attrs.items()
    }
    return ET.SubElement(parent, tag, fixed)


def rect(parent: ET.Element, box: geo.Box, **attrs: str | int) -> ET.Element:
    """A rect covering `box` (rounded, filled and stroked as `attrs` say)."""
    return el(parent, "rect", x=box.x, y=box.y, width=box.w, height=box.h, **attrs)


def text(parent: ET.Element, x: int, y: int, content: str, **attrs: str | int) -> ET.Element:
    node = el(parent, "text", x=x, y=y, **attrs)
    node.text = clean(content)
    return node


def tooltip(parent: ET.Element, content: str) -> None:
    el(parent, "title").text = clean(content)


def _headed_box(group: ET.Element, box: geo.Box, colour: str) -> None:
    """A white box with a coloured header: a rounded rect whose lower corners
    a square rect hides."""
    rect(
        group,
        box,
        rx=6,
        fill="#ffffff",
        stroke=colour,
        stroke_width="1.5",
    )
    el(group, "rect", x=box.x, y=box.y, width=box.w, height=22, rx=6, fill=colour)
    el(group, "rect", x=box.x, y=box.y + 12, width=box.w, height=10, fill=colour)


def node(parent: ET.Element, plan_node: NodePlan, box: geo.Box, etcd_member: bool) -> None:
    colour = COLOURS[tier(plan_node)]
    subnet = str(plan_node.pod_subnet) if plan_node.pod_subnet is not None else "none (no kubelet)"
    group = el(parent, "g", cls="node")
    tooltip(
        group,
        f"{plan_node.name} {plan_node.address} roles: {', '.join(plan_node.roles)}; "
        f"pod subnet {subnet}",
    )
    _headed_box(group, box, colour)
    badge_w = 36 if etcd_member else 0
    name_w = box.w - 16 - badge_w
    text(group, box.x + 8, box.y + 16, fit(plan_node.name, name_w, 13, middle=True), cls="name")
    if etcd_member:
        bx = box.x + box.w - badge_w - 4
        el(
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
        text(group, bx + badge_w // 2, box.y + 15, "etcd", cls="badge", text_anchor="middle")
    inner = box.w - 16
    x = box.x + 8
    text(group, x, box.y + 39, fit(str(plan_node.address), inner, 12), cls="mono")
    text(group, x, box.y + 56, fit(", ".join(plan_node.roles), inner, 12, SANS_EM))
    pods = fit(f"pods {subnet}", inner, 12)
    text(group, x, box.y + 73, pods, cls="mono" if plan_node.pod_subnet else "mono muted")


def card(parent: ET.Element, item: Card, box: geo.Box) -> None:
    group = el(parent, "g", cls=f"card card-{item.kind}", data_key=item.key)
    tooltip(group, item.tooltip)
    _headed_box(group, box, COLOURS[item.kind])
    inner = box.w - 16
    # Names (of a workload, a class) in the names' face; what a box is, in words.
    if item.kind in (WORKLOAD, CLASS):
        title = text(group, box.x + 8, box.y + 16, fit(item.title, inner, 13), cls="name")
    else:
        title = text(group, box.x + 8, box.y + 16, fit(item.title, inner, 13, SANS_EM))
        title.set("class", "ctitle")
    # The lines come wrapped to this width (svg.py), so fit only cuts long words.
    for index, line in enumerate(item.lines):
        y = box.y + geo.CARD_HEAD_H + 14 + index * geo.CARD_ROW_H
        text(group, box.x + 8, y, fit(line, inner, 12, middle=True), cls="mono")


def wire(parent: ET.Element, item: Wire, colour: str) -> None:
    """Its segments (with the link's ends as data-from/data-to), joints, label."""
    ends = {"data_from": item.source} if item.source else {}
    if item.target:
        ends["data_to"] = item.target
    for s in item.segments:
        el(parent, "line", x1=s.x1, y1=s.y1, x2=s.x2, y2=s.y2, **ends)
    for x, y in item.dots:
        el(parent, "circle", cx=x, cy=y, r=3, fill=colour, stroke="none")
    if item.label:
        x, y = item.label_at
        cut = fit(item.label, geo.ROUTE_W - 12, 11)
        # A presentation attribute would lose to the stylesheet's `text` rule.
        text(parent, x, y, cut, cls="elabel", text_anchor="middle", style=f"fill: {colour}")


def panel(parent: ET.Element, item: Panel, box: geo.Box) -> None:
    group = el(parent, "g", cls="panel")
    rect(
        group,
        box,
        rx=6,
        fill="#f7fafc",
        stroke="#cbd5e0",
    )
    text(group, box.x + 10, box.y + 18, fit(item.title, box.w - 20, 13, SANS_EM), cls="ptitle")
    swatch_w = 16 if any(r.swatch for r in item.rows) else 0
    longest = max((len(r.key) for r in item.rows), default=0)
    key_w = min(int(longest * 12 * MONO_EM) + 14, box.w * 2 // 5)
    value_x = box.x + 10 + swatch_w + key_w
    value_w = box.x + box.w - 10 - value_x
    for index, row in enumerate(item.rows):
        y = box.y + geo.PANEL_TITLE_H + index * geo.PANEL_ROW_H + 11
        x = box.x + 10
        if row.swatch and row.mark == LINE:
            el(
                group,
                "line",
                x1=x,
                y1=y - 4,
                x2=x + 11,
                y2=y - 4,
                stroke=row.swatch,
                stroke_width=2,
            )
        elif row.swatch and row.mark == DOT:
            el(group, "line", x1=x, y1=y - 4, x2=x + 11, y2=y - 4, stroke=row.swatch)
            el(group, "circle", cx=x + 5, cy=y - 4, r=3, fill=row.swatch)
        elif row.swatch:
            el(group, "rect", x=x, y=y - 10, width=11, height=11, rx=2, fill=row.swatch)
        text(group, x + swatch_w, y, fit(row.key, key_w - 8, 12), cls="mono")
        text(group, value_x, y, fit(row.value, value_w, 12), cls="mono")

"""The lines between boxes, as straight segments in ints.

Pure geometry from the layout's boxes and the scene's links, so a test can
check that a link is drawn, and where, without reading SVG. Links from nodes
to a machine outside the cluster share lines: a stub down from each node to
its lane line, the lane line to the channel, the channel's vertical line of
that kind, and a line from it into each card of the kind. A dot marks each
joint, so a plain crossing of two lines reads as no link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from groundwork.graph.layout import Box, lane_y, stub_x
from groundwork.graph.scene import ROUTE, Link

Point = tuple[int, int]


@dataclass(frozen=True)
class Segment:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class Wire:
    kind: str
    source: str  # the node or card it starts at; "" on a shared line
    target: str  # the card it leads into; "" on a shared line
    segments: tuple[Segment, ...]
    dots: tuple[Point, ...] = ()
    label: str = ""
    label_at: Point = (0, 0)


def entry_y(box: Box, index: int, count: int) -> int:
    """Where the `index`th of `count` kinds of line enters a card's left side:
    spread out, so lines of different kinds never meet on the card's edge."""
    return box.y + box.h * (index + 1) // (count + 1)


def node_wires(
    kinds: Sequence[str],
    nodes: Mapping[str, Box],
    links: Sequence[Link],
    trunks: Sequence[int],
    cards: Mapping[str, Box],
    entries: Mapping[str, int],
) -> list[Wire]:
    """The lines from nodes to the cards outside: `kinds` in lane order, each
    with its channel line at `trunks[k]`; `entries`: how many kinds of line
    enter each card (node links enter first)."""
    wires: list[Wire] = []
    for k, kind in enumerate(kinds):
        mine = [link for link in links if link.kind == kind and link.source in nodes]
        sources = {link.source for link in mine}
        targets = list(dict.fromkeys(link.target for link in mine if link.target in cards))
        if not sources or not targets:
            continue
        trunk = trunks[k]
        lanes: dict[int, list[int]] = {}
        for name, box in nodes.items():
            if name not in sources:
                continue
            x, y = stub_x(box, k), lane_y(box, k)
            wires.append(Wire(kind, name, "", (Segment(x, box.bottom, x, y),), ((x, y),)))
            lanes.setdefault(y, []).append(x)
        for y, xs in sorted(lanes.items()):
            wires.append(Wire(kind, "", "", (Segment(min(xs), y, trunk, y),), ((trunk, y),)))
        ends: list[int] = []
        for key in targets:
            box = cards[key]
            y = entry_y(box, 0, entries.get(key, 1))
            wires.append(Wire(kind, "", key, (Segment(trunk, y, box.x, y),), ((trunk, y),)))
            ends.append(y)
        span = [*lanes, *ends]
        wires.append(Wire(kind, "", "", (Segment(trunk, min(span), trunk, max(span)),)))
    return wires


def route(gateway: Box, workload: Box, source: str, target: str, label: str) -> Wire:
    """A level line from the gateway into the workload, its hostname above it."""
    y = workload.cy
    mid = (gateway.right + workload.x) // 2
    return Wire(
        ROUTE, source, target, (Segment(gateway.right, y, workload.x, y),), (), label, (mid, y - 6)
    )


def straight(kind: str, source: str, target: str, a: Box, b: Box, b_y: int) -> Wire:
    """From the middle of `a`'s right side to `b`'s left side at `b_y`."""
    return Wire(kind, source, target, (Segment(a.right, a.cy, b.x, b_y),))

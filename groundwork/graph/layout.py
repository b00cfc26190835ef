"""Where everything goes: a fixed grid, so the same stack always draws the same.

Top to bottom: the title, the API endpoint, a frame for the cluster network
holding one tier of node boxes per kind (control plane, etcd only, workers),
then the text panels in columns. Rows wrap at MAX_COLUMNS boxes, which keeps
50 nodes readable (9 rows) without a layout engine. All coordinates are ints
so the SVG text never depends on float formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MARGIN = 28
HEADER_H = 56  # title and subtitle
BOX_W = 220
BOX_H = 84
GAP = 18
MAX_COLUMNS = 6
ENDPOINT_W = 420
ENDPOINT_H = 64
ENDPOINT_TO_FRAME = 44  # room for the lines from the endpoint down to the control plane
FRAME_PAD = 18
TIER_LABEL_H = 24
FRAME_FOOTER_H = 26  # the network summary line at the bottom of the frame
PANEL_MIN_W = 440  # panels widen to share the picture's width
PANEL_TITLE_H = 26
PANEL_ROW_H = 17
PANEL_PAD = 10
MIN_PANEL_COLUMNS = 2


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class TierLayout:
    key: str  # the tier's role name
    label_y: int  # baseline of the tier's heading
    boxes: tuple[Box, ...]  # one per node, in declaration order


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    endpoint: Box
    frame: Box
    tiers: tuple[TierLayout, ...]
    panels: tuple[Box, ...]


def panel_height(rows: int) -> int:
    return PANEL_TITLE_H + max(rows, 1) * PANEL_ROW_H + PANEL_PAD


def columns_for(count: int) -> int:
    return max(1, min(MAX_COLUMNS, count))


def grid(count: int, columns: int, left: int, width: int, top: int) -> tuple[Box, ...]:
    """`count` boxes in rows of `columns`, each row centred in [left, left+width)."""
    boxes: list[Box] = []
    for index in range(count):
        row, col = divmod(index, columns)
        in_row = min(columns, count - row * columns)
        row_w = in_row * BOX_W + (in_row - 1) * GAP
        x0 = left + (width - row_w) // 2
        boxes.append(Box(x0 + col * (BOX_W + GAP), top + row * (BOX_H + GAP), BOX_W, BOX_H))
    return tuple(boxes)


def rows_height(count: int, columns: int) -> int:
    rows = -(-count // columns)
    return rows * BOX_H + (rows - 1) * GAP


def layout(tiers: Sequence[tuple[str, int]], panel_rows: Sequence[int]) -> Layout:
    """`tiers`: (role, node count) in drawing order, empty tiers left out;
    `panel_rows`: the number of rows of each panel, in reading order."""
    columns = columns_for(max((count for _, count in tiers), default=1))
    nodes_w = columns * BOX_W + (columns - 1) * GAP + 2 * FRAME_PAD
    panels_min_w = MIN_PANEL_COLUMNS * PANEL_MIN_W + (MIN_PANEL_COLUMNS - 1) * GAP
    inner_w = max(nodes_w, panels_min_w, ENDPOINT_W)
    width = inner_w + 2 * MARGIN

    endpoint = Box(MARGIN + (inner_w - ENDPOINT_W) // 2, MARGIN + HEADER_H, ENDPOINT_W, ENDPOINT_H)
    frame_top = endpoint.bottom + ENDPOINT_TO_FRAME
    y = frame_top + FRAME_PAD
    tier_layouts: list[TierLayout] = []
    for key, count in tiers:
        label_y = y + TIER_LABEL_H - 8
        y += TIER_LABEL_H
        boxes = grid(count, columns, MARGIN + FRAME_PAD, inner_w - 2 * FRAME_PAD, y)
        tier_layouts.append(TierLayout(key, label_y, boxes))
        y += rows_height(count, columns) + GAP
    frame = Box(MARGIN, frame_top, inner_w, y - frame_top + FRAME_FOOTER_H)

    # Panels fill the shortest column first (ties: leftmost), so columns end
    # at similar heights whatever the panels' lengths.
    panel_columns = max(1, (inner_w + GAP) // (PANEL_MIN_W + GAP))
    panel_w = (inner_w - (panel_columns - 1) * GAP) // panel_columns
    column_y = [frame.bottom + 2 * GAP] * panel_columns
    panel_boxes: list[Box] = []
    for rows in panel_rows:
        col = column_y.index(min(column_y))
        h = panel_height(rows)
        panel_boxes.append(Box(MARGIN + col * (panel_w + GAP), column_y[col], panel_w, h))
        column_y[col] += h + GAP
    height = max(column_y) - GAP + MARGIN if panel_boxes else frame.bottom + MARGIN
    return Layout(width, height, endpoint, frame, tuple(tier_layouts), tuple(panel_boxes))

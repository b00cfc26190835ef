"""Where everything goes: a fixed grid, so the same stack always draws the same.

Top to bottom: the title, the API endpoint, the cluster frame, then the text
panels in columns. In the frame: a frame per zone, side by side, each holding
a tier of node boxes per kind (control plane, etcd only, workers); under the
zones, the workloads band (gateway, workloads, storage classes). Right of the
cluster frame: a channel for vertical lines, then the machines outside the
cluster, stacked.

Every row of nodes has a lane under it with one line per kind of link
(mirror, BGP ...). Tiers are as tall in every zone, so a lane is one straight
line across all zones, which the channel's vertical line of its kind collects:
a node is linked by a short stub, not by a line across the picture.

Rows wrap at the columns a zone gets, at most MAX_COLUMNS across all zones,
which keeps 50 nodes readable without a layout engine. All coordinates are
ints so the SVG text never depends on float formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MARGIN = 28
HEADER_H = 56  # title and subtitle
BOX_W = 220
BOX_H = 84
GAP = 18
# Node columns across all zones: with the outside column beside them the
# picture stays about 1500 px wide, readable without zooming.
MAX_COLUMNS = 4
ENDPOINT_W = 420
ENDPOINT_H = 64
ENDPOINT_TO_FRAME = 44  # room for the lines from the endpoint down to the control plane
FRAME_PAD = 18
FRAME_MIN_W = 720  # the network summary at the frame's foot fits
TIER_LABEL_H = 24
ZONE_LABEL_H = 24
ZONE_PAD = 12
FRAME_FOOTER_H = 26  # the network summary line at the bottom of the frame
# A lane: LANE_PAD above its first line and below its last, LANE_STEP apart.
LANE_PAD = 10
LANE_STEP = 7
# A node's stubs leave its bottom edge STUB_X in from its left, STUB_STEP apart.
STUB_X = 14
STUB_STEP = 9
CARD_HEAD_H = 22
CARD_ROW_H = 16
CARD_PAD = 8
CARD_GAP = 14
GATEWAY_W = 220
ROUTE_W = 200  # between the gateway and the workloads: room for a hostname
WORKLOAD_W = 360  # an image reference with its registry and tag fits
VOLUME_W = 60
CLASS_W = 190
CHANNEL_PAD = 18
TRUNK_STEP = 12
OUTSIDE_W = 300
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
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class TierLayout:
    key: str  # the tier's role name
    label_y: int  # baseline of the tier's heading
    boxes: tuple[Box, ...]  # one per node of the zone's tier, in declaration order


@dataclass(frozen=True)
class ZoneLayout:
    frame: Box  # drawn only when zones are framed
    tiers: tuple[TierLayout, ...]  # the tiers some zone has, empty here or not


@dataclass(frozen=True)
class BandLayout:
    label_y: int
    top: int  # of the cards
    gateway: Box | None
    workloads: tuple[Box, ...]
    classes: tuple[Box, ...]


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    endpoint: Box
    frame: Box
    zones: tuple[ZoneLayout, ...]
    band: BandLayout | None
    trunks: tuple[int, ...]  # x of the channel's vertical line of each lane line
    outside_label_y: int
    outside: tuple[Box, ...]
    panels: tuple[Box, ...]


def panel_height(rows: int) -> int:
    return PANEL_TITLE_H + max(rows, 1) * PANEL_ROW_H + PANEL_PAD


def card_height(lines: int) -> int:
    return CARD_HEAD_H + lines * CARD_ROW_H + CARD_PAD


def lane_height(kinds: int) -> int:
    """The space under a row of nodes: a plain gap, or one line per kind of link."""
    return max(GAP, 2 * LANE_PAD + (kinds - 1) * LANE_STEP) if kinds else GAP


def lane_y(box: Box, index: int) -> int:
    """The y of the lane line `index` under a node box."""
    return box.bottom + LANE_PAD + index * LANE_STEP


def stub_x(box: Box, index: int) -> int:
    return box.x + STUB_X + index * STUB_STEP


def zone_columns(zones: Sequence[Sequence[int]], budget: int = MAX_COLUMNS) -> tuple[int, ...]:
    """Columns per zone: one each, then one at a time while the budget lasts, to
    the zone whose extra column makes the picture shortest (tiers are as tall in
    every zone), then to the zone with the most rows, then to the first."""
    cols = [1] * len(zones)
    tiers = max((len(zone) for zone in zones), default=0)

    def rows(i: int, extra: int = 0) -> list[int]:
        return [-(-count // (cols[i] + extra)) for count in zones[i]]

    def height(grown: int) -> int:
        return sum(
            max(rows(i, int(i == grown))[t] for i in range(len(zones))) for t in range(tiers)
        )

    while sum(cols) < budget:
        wanting = [i for i, zone in enumerate(zones) if cols[i] < max(zone, default=0)]
        if not wanting:
            break
        cols[min(wanting, key=lambda i: (height(i), -sum(rows(i)), i))] += 1
    return tuple(cols)


def grid(
    count: int, columns: int, left: int, width: int, top: int, pitch: int = BOX_H + GAP
) -> tuple[Box, ...]:
    """`count` boxes in rows of `columns`, `pitch` apart, each row centred in
    [left, left+width)."""
    boxes: list[Box] = []
    for index in range(count):
        row, col = divmod(index, columns)
        in_row = min(columns, count - row * columns)
        row_w = in_row * BOX_W + (in_row - 1) * GAP
        x0 = left + (width - row_w) // 2
        boxes.append(Box(x0 + col * (BOX_W + GAP), top + row * pitch, BOX_W, BOX_H))
    return tuple(boxes)


def stack(x: int, width: int, top: int, heights: Sequence[int], gap: int = CARD_GAP) -> list[Box]:
    """Boxes one under the other."""
    boxes: list[Box] = []
    for h in heights:
        boxes.append(Box(x, top, width, h))
        top += h + gap
    return boxes


def _band_offsets(gateway: bool, workloads: bool, classes: bool) -> tuple[dict[str, int], int]:
    """x of each band column from the band's left, and the band's width; the
    gaps hold the lines between columns (and a hostname over each route)."""
    widths = {"gateway": GATEWAY_W, "workloads": WORKLOAD_W, "classes": CLASS_W}
    gaps = {("gateway", "workloads"): ROUTE_W, ("workloads", "classes"): VOLUME_W}
    present = [
        name
        for name, there in (("gateway", gateway), ("workloads", workloads), ("classes", classes))
        if there
    ]
    offsets: dict[str, int] = {}
    x = 0
    for before, name in zip([None, *present], present, strict=False):
        if before is not None:
            x += gaps.get((before, name), 2 * GAP)
        offsets[name] = x
        x += widths[name]
    return offsets, x


def _band(
    left: int,
    top: int,
    gateway: int | None,
    workloads: Sequence[tuple[int, bool]],
    classes: Sequence[int],
) -> BandLayout:
    offsets, _ = _band_offsets(gateway is not None, bool(workloads), bool(classes))
    cards_top = top + TIER_LABEL_H
    placed = stack(
        left + offsets.get("workloads", 0),
        WORKLOAD_W,
        cards_top,
        [card_height(lines) for lines, _ in workloads],
    )
    gw_box = None
    if gateway is not None:
        # Beside the exposed workloads, from the first to the last, so that
        # each route is a level line.
        exposed = [box for box, (_, out) in zip(placed, workloads, strict=True) if out]
        gw_top = exposed[0].y if exposed else cards_top
        span = exposed[-1].bottom - gw_top if exposed else 0
        gw_box = Box(left, gw_top, GATEWAY_W, max(card_height(gateway), span))
    sc_boxes = stack(
        left + offsets.get("classes", 0), CLASS_W, cards_top, [card_height(n) for n in classes]
    )
    return BandLayout(top + TIER_LABEL_H - 8, cards_top, gw_box, tuple(placed), tuple(sc_boxes))


def layout(
    *,
    tiers: Sequence[str],
    zones: Sequence[Sequence[int]],
    framed: bool,
    lanes: int,
    gateway: int | None,
    workloads: Sequence[tuple[int, bool]],
    classes: Sequence[int],
    outside: Sequence[tuple[int, bool]],
    panel_rows: Sequence[int],
) -> Layout:
    """`zones`: node counts per tier of `tiers`, per zone; `lanes`: lines in
    each lane; `gateway`, `workloads`, `classes`: the band's cards as line
    counts (no gateway card: None), a workload's with whether the gateway
    routes to it; `outside`: each outside card's line count and whether it
    belongs beside the band (an NFS server, linked to classes); `panel_rows`: the number of rows of each panel, in reading order."""
    columns = zone_columns(zones)
    pad = ZONE_PAD if framed else 0
    zone_ws = [c * BOX_W + (c - 1) * GAP + 2 * pad for c in columns]
    zones_w = sum(zone_ws) + (len(zone_ws) - 1) * GAP
    has_band = gateway is not None or bool(workloads) or bool(classes)
    _, band_w = _band_offsets(gateway is not None, bool(workloads), bool(classes))
    channel_w = 2 * CHANNEL_PAD + max(lanes - 1, 0) * TRUNK_STEP
    outside_w = channel_w + OUTSIDE_W if outside else 0
    panels_min_w = MIN_PANEL_COLUMNS * PANEL_MIN_W + (MIN_PANEL_COLUMNS - 1) * GAP
    frame_w = max(max(zones_w, band_w) + 2 * FRAME_PAD, FRAME_MIN_W, panels_min_w - outside_w)
    content_w = frame_w + outside_w
    width = content_w + 2 * MARGIN

    endpoint = Box(MARGIN + (frame_w - ENDPOINT_W) // 2, MARGIN + HEADER_H, ENDPOINT_W, ENDPOINT_H)
    frame_top = endpoint.bottom + ENDPOINT_TO_FRAME
    top = frame_top + FRAME_PAD
    pitch = BOX_H + lane_height(lanes)
    # Each tier is as many rows high in every zone, so rows and lanes line up.
    tier_rows = [
        max(-(-zone[t] // cols) for zone, cols in zip(zones, columns, strict=True))
        for t in range(len(tiers))
    ]
    x = MARGIN + (frame_w - zones_w) // 2
    y = top
    zone_layouts: list[ZoneLayout] = []
    for zone, cols, zone_w in zip(zones, columns, zone_ws, strict=True):
        y = top + (ZONE_LABEL_H if framed else 0)
        placed: list[TierLayout] = []
        for t, key in enumerate(tiers):
            if not tier_rows[t]:
                continue
            boxes = grid(zone[t], cols, x + pad, zone_w - 2 * pad, y + TIER_LABEL_H, pitch)
            placed.append(TierLayout(key, y + TIER_LABEL_H - 8, boxes))
            y += TIER_LABEL_H + tier_rows[t] * pitch
        y += pad
        zone_layouts.append(ZoneLayout(Box(x, top, zone_w, y - top), tuple(placed)))
        x += zone_w + GAP

    band = None
    if has_band:
        band_top = y + (GAP if framed else 0)
        band = _band(MARGIN + (frame_w - band_w) // 2, band_top, gateway, workloads, classes)
        y = max(b.bottom for b in (band.gateway, *band.workloads, *band.classes) if b) + GAP
    frame = Box(MARGIN, frame_top, frame_w, y - frame_top + FRAME_FOOTER_H)

    trunks = tuple(MARGIN + frame_w + CHANNEL_PAD + k * TRUNK_STEP for k in range(lanes))
    column_x = MARGIN + frame_w + channel_w
    y = top + TIER_LABEL_H
    outside_boxes: list[Box] = []
    for lines, beside_band in outside:
        if beside_band and band is not None:
            y = max(y, band.top)
        outside_boxes.append(Box(column_x, y, OUTSIDE_W, card_height(lines)))
        y += outside_boxes[-1].h + GAP

    # Panels fill the shortest column first (ties: leftmost), so columns end
    # at similar heights whatever the panels' lengths.
    panel_columns = max(1, (content_w + GAP) // (PANEL_MIN_W + GAP))
    panel_w = (content_w - (panel_columns - 1) * GAP) // panel_columns
    above = max([frame.bottom, *(b.bottom for b in outside_boxes)])
    column_y = [above + 2 * GAP] * panel_columns
    panel_boxes: list[Box] = []
    for rows in panel_rows:
        col = column_y.index(min(column_y))
        h = panel_height(rows)
        panel_boxes.append(Box(MARGIN + col * (panel_w + GAP), column_y[col], panel_w, h))
        column_y[col] += h + GAP
    height = max(column_y) - GAP + MARGIN if panel_boxes else above + MARGIN
    return Layout(
        width,
        height,
        endpoint,
        frame,
        tuple(zone_layouts),
        band,
        trunks,
        top + TIER_LABEL_H - 8,
        tuple(outside_boxes),
        tuple(panel_boxes),
    )

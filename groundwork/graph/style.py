"""Colours and fonts: one hue per kind of thing, shared by its boxes, the
lines that lead to it and the legend row that names it."""

from __future__ import annotations

from groundwork.graph.scene import BGP, CLASS, GATEWAY, MIRROR, NFS, REGISTRY, WORKLOAD
from groundwork.plan.ports import CONTROL_PLANE, ETCD, WORKER

COLOURS: dict[str, str] = {
    CONTROL_PLANE: "#2b6cb0",
    WORKER: "#2f855a",
    ETCD: "#c05621",
    GATEWAY: "#b83280",
    WORKLOAD: "#6b46c1",
    CLASS: "#2c7a7b",
    NFS: "#2c7a7b",  # the classes' colour: both are storage
    BGP: "#c53030",
    MIRROR: "#4a5568",
    REGISTRY: "#975a16",
}
LINE_GREY = "#a0aec0"  # the API endpoint's lines, frames

SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
# Average glyph width / font size, to cut text that would overflow its box.
# Exact for DejaVu Sans Mono (0.602); a safe upper bound for the sans faces.
MONO_EM = 0.605
SANS_EM = 0.62
CSS = f"""
text {{ font-family: {SANS}; font-size: 12px; fill: #1a202c; }}
.mono {{ font-family: {MONO}; }}
.title {{ font-size: 20px; font-weight: bold; }}
.sub {{ font-size: 12px; fill: #4a5568; }}
.name {{ font-family: {MONO}; font-size: 13px; font-weight: bold; fill: #ffffff; }}
.badge {{ font-size: 10px; font-weight: bold; fill: #ffffff; }}
/* Headings wear a halo of the frame's colour: one stays legible where a line
   from the API endpoint crosses it. */
.tier, .zone {{ font-size: 13px; font-weight: bold; fill: #4a5568; paint-order: stroke;
  stroke: #f7fafc; stroke-width: 4px; }}
.zone {{ fill: #2d3748; }}
.ptitle {{ font-size: 13px; font-weight: bold; }}
.muted {{ fill: #718096; }}
.ctitle {{ font-size: 13px; font-weight: bold; fill: #ffffff; }}
/* A white halo: a label stays legible where a line crosses it. */
.elabel {{ font-family: {MONO}; font-size: 11px; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }}
"""

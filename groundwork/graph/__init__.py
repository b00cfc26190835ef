"""A picture of one stack as SVG: machines by zone, endpoint, workloads and
their hostnames, and the machines outside the cluster that serve it.

`render_svg(spec, plan)` is pure (no I/O, same input gives the same bytes);
`groundwork graph` writes its result to a file.
"""

from groundwork.graph.svg import render_svg

__all__ = ["render_svg"]

"""A picture of one stack: machines, endpoint, pod subnets, ports, as SVG.

`render_svg(spec, plan)` is pure (no I/O, same input gives the same bytes);
`groundwork graph` writes its result to a file.
"""

from groundwork.graph.svg import render_svg

__all__ = ["render_svg"]

"""`groundwork graph`: draw a stack's topology as an SVG file; never contacts a host."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from groundwork.cli.common import Subparsers, add_verb, fail, load_spec_from_args
from groundwork.graph import render_svg
from groundwork.plan import build_plan


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "graph",
        summary="draw the stack's topology as an SVG picture (no host is contacted)",
        description=(
            "Validate a stack and draw it as a standalone SVG: the control plane endpoint "
            "(VIP, load balancer or DNS name) on top; the control-plane, etcd-only and "
            "worker machines with their address, roles, pod subnet and etcd membership, "
            "framed by zone (their topology.kubernetes.io/zone label); the workloads with "
            "the gateway and hostname that expose them and the storage classes their "
            "volumes come from; beside the cluster, the machines that serve it (BGP "
            "routers, NFS servers, the artifact mirror and image registry), with lines from "
            "the nodes that use them; and panels for the network, the endpoint and etcd. "
            "--ports adds the ports each role must open (as `groundwork plan` lists them). "
            "The same stack always gives the same bytes, so the picture can be committed "
            "and reviewed. Needs no graphviz and no browser."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork graph --stack prod                  # writes ./prod.svg\n"
            "  groundwork graph --stack lab --output docs/lab.svg\n"
            "  groundwork graph --stack prod --ports          # with the port tables\n"
            "  groundwork graph --stack dev --output - | rsvg-convert -o dev.png\n"
            "\nExit codes: 0 written, 1 the file could not be written, 2 invalid stack."
        ),
        run=run_graph,
    )
    parser.add_argument(
        "--output",
        "-o",
        type=str,
        default=None,
        metavar="FILE",
        help="where to write the SVG (default: <stack name>.svg in the current directory; "
        "`-` writes it to stdout and nothing else)",
    )
    parser.add_argument(
        "--ports",
        action="store_true",
        help="also draw the tables of the ports each role must open (what `groundwork plan` "
        "lists); left out by default",
    )


def default_path(stack_name: str) -> Path:
    return Path(f"{stack_name}.svg")


def run_graph(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    svg = render_svg(spec, build_plan(spec), ports=args.ports)
    if args.output == "-":
        sys.stdout.write(svg)
        return 0
    path = Path(args.output) if args.output else default_path(spec.name)
    try:
        path.write_text(svg, encoding="utf-8")
    except OSError as err:
        return fail(f"cannot write {path}: {err}", "choose a writable path with --output")
    # Plain print: a path is not rich markup, and scripts may read this line.
    print(f"wrote {path} ({len(spec.nodes)} nodes of stack {spec.name})")
    return 0

"""`groundwork rebuild`: destroy -> up -> verify, one JUnit report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from groundwork.cli.common import (
    add_stack_options,
    console,
    err_console,
    fail,
    is_tty,
    load_spec_from_args,
)
from groundwork.cli.destroy import confirmed
from groundwork.steps.rebuild import RebuildResult, rebuild


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rebuild",
        help="destroy, up and verify the stack's nodes; one JUnit report",
        description=(
            "Rebuild the stack's nodes from a clean state: `destroy` (playbooks/reset.yml, "
            "SSH checked afterwards), `up` (lab up for a lab stack, PKI, inventory, roles) and "
            "`verify` (the node checks). Stops at the first failed step; the steps after it "
            "are reported as skipped. --junit writes one report: the three steps as test "
            "cases of the suite `rebuild`, then every node check of the verify step. A stack "
            "without a lab is real machines: it needs --yes, or an answer on a terminal."
        ),
        epilog="Exit codes: 0 every step passed, 1 a step failed, 2 invalid stack.",
    )
    add_stack_options(parser)
    parser.add_argument("--junit", type=Path, default=None, metavar="FILE", help="write JUnit XML")
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do not ask (needed for a non-lab stack in scripts)",
    )
    parser.set_defaults(func=cmd_rebuild)


def steps_table(result: RebuildResult) -> Table:
    table = Table(title=f"rebuild {result.stack}", title_justify="left")
    for column in ("step", "result", "seconds", "detail"):
        table.add_column(column)
    for step in result.steps:
        if step.skipped:
            verdict = Text("skipped", style="yellow")
        else:
            verdict = Text("ok", style="green") if step.ok else Text("FAILED", style="red")
        table.add_row(step.name, verdict, f"{step.seconds:.1f}", step.message)
    return table


def cmd_rebuild(args: argparse.Namespace) -> int:
    start = time.monotonic()
    spec = load_spec_from_args(args)
    if not confirmed(spec, args.yes):
        return fail(
            f"not rebuilding stack {spec.name}: its machines are not a lab",
            "pass --yes to rebuild without a question",
        )

    def progress(message: str) -> None:
        err_console.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] {message}")

    result = rebuild(spec, junit=args.junit, console=console, live=is_tty(), progress=progress)
    console.print(steps_table(result))
    for step in result.steps:
        if not step.ok and not step.skipped and step.output:
            err_console.print(f"[red]{step.name}:[/red]\n{step.output}")
    if args.junit is not None:
        console.print(f"JUnit: {args.junit}")
    total = time.monotonic() - start
    if not result.ok:
        failed = next(s.name for s in result.steps if not s.ok and not s.skipped)
        return fail(f"rebuild of {spec.name} failed at {failed} ({total:.1f} s)")
    console.print(f"[green]rebuilt[/green] {spec.name}: destroyed, up and verified ({total:.1f} s)")
    return 0

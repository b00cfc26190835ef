"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any, TypeAlias

from rich.console import Console

from groundwork.progress import Progress
from groundwork.spec import ClusterSpec, Problem, SpecError, load_stack, warnings

# What `register(subparsers)` receives (argparse's own type is generic only
# for type checkers).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# Progress and tables go to stderr-free stdout; errors go to stderr.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class HelpFormatter(argparse.HelpFormatter):
    """Fills each line of a description or epilog on its own: prose lines wrap
    to the terminal, indented lines (examples) are kept whole so they can be
    pasted into a shell. argparse's default joins all lines into one paragraph."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for line in text.splitlines():
            if not line.strip() or line[0].isspace():
                out.append(indent + line if line.strip() else "")
            else:
                out.append(
                    textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n".join(out)


def stack_ref(args: argparse.Namespace) -> str:
    """The stack the user named: --stack-file wins over --stack."""
    return str(args.stack_file) if getattr(args, "stack_file", None) else str(args.stack)


def load_spec_from_args(args: argparse.Namespace, show_warnings: bool = True) -> ClusterSpec:
    """Load and validate the stack; raises SpecError (main() exits 2)."""
    spec = load_stack(stack_ref(args))
    if show_warnings:
        for warning in warnings(spec):
            err_console.print(f"[yellow]warning[/yellow] {warning}")
    return spec


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "output", None) == "json"


def problems_json(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in problems]


def invalid_document(err: SpecError) -> dict[str, Any]:
    """What a read verb prints with --output json when the stack is invalid."""
    return {"valid": False, "source": err.source, "problems": problems_json(err.problems)}


def load_spec_or_report(args: argparse.Namespace, show_warnings: bool = True) -> ClusterSpec | None:
    """load_spec_from_args, except that with --output json an invalid stack is
    written to stdout as one JSON document and None is returned (the verb exits
    2): stdout must stay parseable, and main() would print plain lines."""
    if not wants_json(args):
        return load_spec_from_args(args, show_warnings)
    try:
        return load_spec_from_args(args, show_warnings)
    except SpecError as err:
        print_json(invalid_document(err))
        return None


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2))


def add_output_option(parser: argparse.ArgumentParser, table: str) -> None:
    """--output table|json, the same on every read verb."""
    parser.add_argument(
        "--output",
        "-o",
        choices=("table", "json"),
        default="table",
        help=f"table (default: {table}) or json (the same data for scripts; "
        "only JSON on stdout, even for an invalid stack)",
    )


def add_stack_options(parser: argparse.ArgumentParser, default: str = "lab") -> None:
    """--stack NAME / --stack-file PATH, on every verb that reads a stack."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--stack",
        "-s",
        default=default,
        help=f"stack name: reads stacks/Pulumi.<NAME>.yaml (default: {default})",
    )
    group.add_argument(
        "--stack-file", type=str, default=None, help="path to a stack file instead of a name"
    )


def add_verb(
    subparsers: Subparsers,
    name: str,
    *,
    summary: str,
    description: str,
    epilog: str,
    run: Callable[[argparse.Namespace], int] | None = None,
    stack: bool = True,
    yes: bool = False,
    output: str = "",
) -> argparse.ArgumentParser:
    """Register one verb the way every verb is registered: its one-line
    summary (in `groundwork --help`), description, epilog (examples kept
    whole by HelpFormatter), --stack/--stack-file, --yes for a verb that may
    ask before it changes real machines, --output for a verb that prints a
    table (`output` says what the table shows), and the function it runs."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
    if stack:
        add_stack_options(parser)
    if yes:
        parser.add_argument(
            "--yes",
            "-y",
            action="store_true",
            help="do not ask (needed for a non-lab stack in scripts)",
        )
    if output:
        add_output_option(parser, output)
    if run is not None:
        parser.set_defaults(func=run)
    return parser


def timed_progress() -> Progress:
    """Progress lines on stderr, each after the seconds since this call."""
    start = time.monotonic()

    def show(message: str) -> None:
        err_console.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] {message}")

    return show


def fail(message: str, hint: str = "") -> int:
    """Print an error (and what to do next) and return exit code 1."""
    err_console.print(f"[red]error[/red] {message}")
    if hint:
        err_console.print(f"  next: {hint}")
    return 1


def is_tty() -> bool:
    return sys.stdout.isatty()

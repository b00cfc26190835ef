"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from rich.console import Console

from groundwork.progress import Progress
from groundwork.spec import (
    ClusterSpec,
    Problem,
    SpecError,
    load_stack,
    load_stack_file,
    stack_path,
    warnings,
)
from groundwork.spec.load import did_you_mean

# What `register(subparsers)` receives (argparse's own type is generic only
# for type checkers).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# Exit codes, the same for every verb.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID_STACK = 2  # only this: a script may act on "the declaration is wrong"
EXIT_USAGE = 64  # sysexits.h EX_USAGE; argparse's own 2 would read as an invalid stack
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `... | head`

EXIT_CODES_NOTE = (
    "Exit codes of every verb: 64 a usage error (an unknown option, a missing argument), "
    "130 interrupted, 141 the reader of the output went away (e.g. `| head`)."
)

# Piped output (a file, CI logs) is never wrapped or cut: a line is as long
# as what it says. Rich would use 80 columns when not on a terminal.
UNWRAPPED_WIDTH = 100_000

# Progress and tables go to stdout; errors go to stderr.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class Parser(argparse.ArgumentParser):
    """argparse, except that a usage error exits 64 (EX_USAGE), so that 2
    always means an invalid stack."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """-v and --no-color, before or after the verb. SUPPRESS as the default:
    a verb's parser would otherwise reset what was given before the verb."""
    parser.add_argument(
        "--verbose",
        "-v",
        action="count",
        default=argparse.SUPPRESS,
        help="more detail from Ansible in the run's log (-vv, -vvv: more)",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no colours (also when the NO_COLOR environment variable is set)",
    )


def verbosity(args: argparse.Namespace) -> int:
    return int(getattr(args, "verbose", 0))


def wants_no_color(args: argparse.Namespace, environ: Mapping[str, str]) -> bool:
    """--no-color, or NO_COLOR set to anything but "" (no-color.org)."""
    return bool(getattr(args, "no_color", False)) or environ.get("NO_COLOR", "") != ""


def configure_output(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> None:
    """Set up the shared consoles for this run (they exist before the options are read)."""
    no_color = wants_no_color(args, environ)
    for out in (console, err_console):
        if not _is_a_terminal(out):
            out.width = UNWRAPPED_WIDTH
        out.no_color = no_color


def _is_a_terminal(out: Console) -> bool:
    """The stream itself, not rich's is_terminal (FORCE_COLOR makes a log "a terminal")."""
    isatty = getattr(out.file, "isatty", None)
    return bool(isatty and isatty())


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


def stack_file(args: argparse.Namespace) -> Path:
    """The stack file the user named: --stack-file (a path, whatever its name)
    wins over --stack (a name, or a path)."""
    use_stacks_dir(args)
    if getattr(args, "stack_file", None):
        return Path(args.stack_file)
    return stack_path(str(args.stack))


def use_stacks_dir(args: argparse.Namespace) -> None:
    """--stacks-dir, through the environment: the Pulumi program a verb
    starts reads the same folder."""
    if getattr(args, "stacks_dir", None):
        os.environ["GROUNDWORK_STACKS_DIR"] = str(Path(args.stacks_dir).resolve())


def load_spec_from_args(args: argparse.Namespace, show_warnings: bool = True) -> ClusterSpec:
    """Load and validate the stack; raises SpecError (main() exits 2) or
    StackFileError (exit 1)."""
    use_stacks_dir(args)
    if getattr(args, "stack_file", None):
        spec = load_stack_file(Path(args.stack_file))
    else:
        spec = load_stack(str(args.stack))
    if show_warnings:
        for warning in warnings(spec):
            err_console.print(f"[yellow]warning[/yellow] {warning}")
    return spec


def add_limit_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--limit",
        default="",
        metavar="NODES",
        help=f"{what} only these nodes (names, comma-separated); the others are not contacted",
    )


def limit_of(args: argparse.Namespace, spec: ClusterSpec) -> tuple[str, ...]:
    """The --limit nodes, each a node of the stack (else fail, naming it)."""
    names = tuple(n for n in str(getattr(args, "limit", "")).split(",") if n)
    known = [node.name for node in spec.nodes]
    unknown = [n for n in names if n not in known]
    if unknown:
        hints = [f"{n!r}{did_you_mean(n, known)}" for n in unknown]
        fail(
            f"--limit: no node {', '.join(hints)} in stack {spec.name}",
            f"its nodes: {', '.join(known)}",
        )
    return names


def wants_json(args: argparse.Namespace) -> bool:
    """--output json on a verb whose --output is the format (graph's is a file)."""
    return bool(getattr(args, "output_is_format", False)) and args.output == "json"


def problems_json(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    return [{"path": p.path, "message": p.message, "line": p.line} for p in problems]


def error_document(error: str, hint: str = "", problems: Sequence[Problem] = ()) -> dict[str, Any]:
    """What any verb prints with --output json when it fails."""
    return {"error": error, "hint": hint, "problems": problems_json(problems)}


def invalid_document(err: SpecError) -> dict[str, Any]:
    """What a verb prints with --output json when the stack is invalid."""
    return {
        **error_document(f"invalid stack: {len(err.problems)} problem(s)", problems=err.problems),
        "valid": False,
        "source": err.source,
    }


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
        "only JSON on stdout, even for an invalid stack or a failure)",
    )
    parser.set_defaults(output_is_format=True)


def add_stack_options(parser: argparse.ArgumentParser, default: str = "lab") -> None:
    """--stack NAME / --stack-file PATH, on every verb that reads a stack."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--stack",
        "-s",
        default=default,
        help=f"stack name: reads <stacks dir>/Pulumi.<NAME>.yaml (default: {default})",
    )
    group.add_argument(
        "--stack-file", type=str, default=None, help="path to a stack file instead of a name"
    )
    parser.add_argument(
        "--stacks-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where stack names are found (default: ./stacks in the current folder when it "
        "exists, else, run from a checkout, its stacks/; also GROUNDWORK_STACKS_DIR)",
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
        epilog=f"{epilog}\n{EXIT_CODES_NOTE}",
        formatter_class=HelpFormatter,
    )
    add_common_options(parser)
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


class CommandFailed(Exception):
    """A verb cannot go on: main() reports `message` and `hint` and exits 1."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


def fail(message: str, hint: str = "") -> NoReturn:
    """Stop the verb with an error and what to do next: main() prints them
    (as a JSON error object with --output json) and exits 1."""
    raise CommandFailed(message, hint)


def is_tty() -> bool:
    return sys.stdout.isatty()

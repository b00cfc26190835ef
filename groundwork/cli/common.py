"""Helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from groundwork.spec import ClusterSpec, load_stack, warnings

# Progress and tables go to stderr-free stdout; errors go to stderr.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


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


def fail(message: str, hint: str = "") -> int:
    """Print an error (and what to do next) and return exit code 1."""
    err_console.print(f"[red]error[/red] {message}")
    if hint:
        err_console.print(f"  next: {hint}")
    return 1


def is_tty() -> bool:
    return sys.stdout.isatty()

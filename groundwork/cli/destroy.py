"""`groundwork destroy`: reset every node of the stack, keeping SSH working."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from groundwork.cli.common import (
    add_stack_options,
    console,
    err_console,
    fail,
    is_tty,
    load_spec_from_args,
)
from groundwork.inventory import InventoryError
from groundwork.lab import LabError
from groundwork.pki import PkiError
from groundwork.spec import ClusterSpec
from groundwork.steps.destroy import Consent, DestroyResult, consent, destroy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "destroy",
        help="reset every node: services, data, configs, certificates removed; SSH kept",
        description=(
            "Run playbooks/reset.yml on every node of the stack: stop and disable the "
            "services, remove the containers they ran, their data, configuration, "
            "certificates and binaries, the CNI interfaces and pod routes. The firewall and "
            "sshd are not touched; a new SSH session to every node is opened afterwards to "
            "prove it. Packages stay installed; the stack's PKI on this machine stays (a later "
            "`up` reuses it); lab machines stay (`groundwork lab down` removes them). A stack "
            "without a lab is real machines: it needs --yes, or an answer on a terminal."
        ),
        epilog="Exit codes: 0 every node reset and reachable over SSH, 1 otherwise, "
        "2 invalid stack.",
    )
    add_stack_options(parser)
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do not ask (needed for a non-lab stack in scripts)",
    )
    parser.set_defaults(func=cmd_destroy)


def confirmed(spec: ClusterSpec, yes: bool) -> bool:
    """Ask for the stack's name when its machines are real; False means stop."""
    answer = consent(spec, yes, sys.stdin.isatty())
    if answer is Consent.PROCEED:
        return True
    if answer is Consent.REFUSE:
        return False
    names = ", ".join(n.name for n in spec.nodes)
    err_console.print(f"destroy resets {len(spec.nodes)} node(s) of stack {spec.name}: {names}")
    typed = input(f"type the stack name ({spec.name}) to go on: ")
    return typed.strip() == spec.name


def report(result: DestroyResult, seconds: float) -> int:
    if result.summary is None:
        console.print(result.nothing_to_do)
        return 0
    if result.ok:
        console.print(
            f"[green]destroyed[/green] {result.stack}: {len(result.ssh)} node(s) reset, "
            f"SSH answers on every one ({seconds:.1f} s)"
        )
        return 0
    for line in result.problems():
        err_console.print(f"[red]{line}[/red]")
    return fail(
        f"destroy of {result.stack} did not finish cleanly",
        f"fix the cause above and run `groundwork destroy` again (logs: "
        f"{result.summary.artifact_dir})",
    )


def cmd_destroy(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    if not confirmed(spec, args.yes):
        return fail(
            f"not destroying stack {spec.name}: its machines are not a lab",
            "pass --yes to destroy without a question",
        )
    start = time.monotonic()
    try:
        result = destroy(spec, console=console, live=is_tty())
    except (InventoryError, LabError, PkiError) as err:
        return fail(str(err))
    return report(result, time.monotonic() - start)

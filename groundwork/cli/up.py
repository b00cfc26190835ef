"""`groundwork up`: lab (if any) -> validate -> PKI -> inventory -> roles -> verify."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up",
        help="make the nodes match the stack (roles over SSH), then verify them",
        description=(
            "Bring the stack's nodes to the declared state: boot the lab if the stack has "
            "one, validate the stack, create the PKI, render the Ansible inventory "
            "(inventories/<stack>/), run playbooks/site.yml with ansible-runner (live "
            "progress per host, summary per host), then run the node checks. A second "
            "`up` with no change reports changed=0 on every host. Nodes added to or "
            "removed from a stack already applied are named first; removed nodes are "
            "drained, leave etcd and are reset; new etcd members join one at a time; a "
            "removal that would lose etcd quorum is refused before any change."
        ),
        epilog=(
            "Exit codes: 0 roles and verification passed, 1 a step failed, 2 invalid stack "
            "or a refused membership change (e.g. one that would lose etcd quorum)."
        ),
    )
    add_stack_options(parser)
    parser.add_argument(
        "--no-lab", action="store_true", help="do not run `lab up` first (the lab is up)"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip verification (exit reflects roles only)"
    )
    parser.add_argument("--junit", type=Path, default=None, help="write verification JUnit XML")
    parser.add_argument(
        "--replace-member",
        dest="replace_members",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "the etcd member NAME's machine lost its etcd data (a new disk or machine at the "
            "same address): remove the old member, add it back empty, it syncs from the "
            "others. Refused if the remaining members are unhealthy or too few. Repeatable; "
            "no other membership change in the same run"
        ),
    )
    parser.set_defaults(func=cmd_up)


def _progress(start: float) -> Any:
    def show(message: str) -> None:
        err_console.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] {message}")

    return show


def cmd_up(args: argparse.Namespace) -> int:
    start = time.monotonic()
    progress = _progress(start)
    spec = load_spec_from_args(args)  # invalid stack: SpecError -> exit 2, no host touched
    from groundwork.steps.provision import RecordError, ScaleRefused, provision

    try:
        summary = provision(
            spec,
            lab_up=not args.no_lab,
            console=console,
            live=is_tty(),
            progress=progress,
            replace_members=args.replace_members,
        )
    except ScaleRefused as err:
        # Like an invalid stack: every reason, each naming its config path,
        # and nothing was touched.
        for problem in err.problems:
            err_console.print(f"[red]refused[/red] {problem}")
        err_console.print("nothing was changed: no node was contacted")
        return 2
    except (InventoryError, LabError, PkiError, RecordError) as err:
        return fail(str(err))
    if not summary.ok:
        return fail(
            f"the roles failed on {len(summary.failures) or 'some'} host(s); nothing was verified",
            f"fix the cause above and run `groundwork up` again (logs: {summary.artifact_dir})",
        )
    changed = summary.changed
    roles_line = f"roles: {changed} change(s) in {summary.seconds:.1f} s"
    if args.no_verify:
        console.print(f"{roles_line}; verification skipped")
        if summary.not_installed:
            console.print(f"[bold yellow]NOT INSTALLED[/bold yellow] {summary.not_installed}")
        return 0
    # Imported lazily: the verify step belongs to another part of the tree.
    from groundwork.steps.verify import verify

    report = verify(spec, junit=args.junit)
    # One line per node that is right; a table only where something drifted
    # (`groundwork verify` lists every check).
    report.print_table(all_checks=False)
    total = time.monotonic() - start
    if not report.ok:
        return fail(f"{roles_line}, but verification failed ({total:.1f} s in all)")
    console.print(f"[green]up[/green] {spec.name}: {roles_line}; verified ({total:.1f} s in all)")
    if summary.not_installed:
        # Loud, last, and on stdout: the substrate is verified, but this is
        # not a Kubernetes cluster yet, and the user must not think it is.
        console.print(f"[bold yellow]NOT INSTALLED[/bold yellow] {summary.not_installed}")
    return 0

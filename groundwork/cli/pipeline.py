"""What `up`, `destroy` and `rebuild` share: the options of a run, its table,
dry-run and the report of a failed phase."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from groundwork.cli.common import console, err_console, fail
from groundwork.spec import ClusterSpec

if TYPE_CHECKING:  # the phases import ansible-runner: only when a verb runs
    from groundwork.phases import RunResult
    from groundwork.runner import RunSummary

STYLES = {"ok": "green", "FAILED": "red", "skipped": "yellow", "not run": "yellow"}


def add_run_options(parser: argparse.ArgumentParser, junit_help: str) -> None:
    parser.add_argument("--junit", type=Path, default=None, metavar="FILE", help=junit_help)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=(
            "preview, changing nothing: per host, the tasks, files and services that would "
            "change (the playbooks in Ansible's check mode); etcd membership changes; the "
            "cluster objects that would change (the API server's dry run); which phases "
            "would run and why the others would not"
        ),
    )


def phases_table(result: RunResult) -> Table:
    table = Table(title=f"{result.verb} {result.stack}", title_justify="left")
    for column in ("phase", "result", "seconds", "detail"):
        table.add_column(column)
    for phase in result.phases:
        verdict = Text(phase.status.value, style=STYLES.get(phase.status.value, ""))
        table.add_row(phase.name, verdict, f"{phase.seconds:.1f}", phase.message)
    return table


def report_dry_run(result: RunResult) -> int:
    """The phases, then each preview's findings (per host, per object)."""
    from groundwork.phases.runner import Status

    console.print(phases_table(result))
    for phase in result.phases:
        if phase.status is Status.PREVIEWED and phase.output:
            console.print(f"\n[bold]{phase.name}[/bold]: {phase.message}", soft_wrap=True)
            for line in phase.output.splitlines():
                console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if not result.ok:
        return fail(result.describe_failure())
    console.print(f"\ndry run: nothing on the nodes of {result.stack} was changed")
    return 0


def report_failure(result: RunResult, summary: RunSummary | None, seconds: float) -> int:
    """The failed phase, its detail lines, and what to do next; exit code 1."""
    failed = result.failure
    if failed is None:
        raise ValueError("report_failure needs a failed run")
    for line in failed.output.splitlines():
        err_console.print(f"[red]{line}[/red]")
    logs = f" (logs: {summary.artifact_dir})" if summary is not None else ""
    return fail(
        f"{result.verb} of {result.stack} failed at {failed.name}: {failed.message} "
        f"({seconds:.1f} s)",
        f"fix the cause above and run `groundwork {result.verb}` again{logs}",
    )


def confirmed(spec: ClusterSpec, yes: bool) -> bool:
    """Ask for the stack's name when its machines are real; False means stop."""
    from groundwork.phases.destroy import Consent, consent

    answer = consent(spec, yes, sys.stdin.isatty())
    if answer is Consent.PROCEED:
        return True
    if answer is Consent.REFUSE:
        return False
    names = ", ".join(n.name for n in spec.nodes)
    err_console.print(f"destroy resets {len(spec.nodes)} node(s) of stack {spec.name}: {names}")
    typed = input(f"type the stack name ({spec.name}) to go on: ")
    return typed.strip() == spec.name

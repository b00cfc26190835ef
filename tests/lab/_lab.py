"""Helpers the lab test modules share: commands on a node, a converged lab."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from rich.console import Console

from groundwork.lab import ssh
from groundwork.phases import UP, Context, Options, run
from groundwork.progress import Progress, silent
from groundwork.runner import RunSummary
from groundwork.spec import ClusterSpec
from groundwork.verify import VerifyReport, verify


def on_node(
    spec: ClusterSpec, node: str, script: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a shell script on a lab node over SSH (pinned host key)."""
    argv = ssh.target(spec, node).argv([script])
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def must(spec: ClusterSpec, node: str, script: str, timeout: float = 120) -> str:
    """`on_node` that must succeed; its stdout."""
    out = on_node(spec, node, script, timeout)
    assert out.returncode == 0, f"{node}: {script}: {out.stdout}{out.stderr}"
    return out.stdout


def show(report: VerifyReport) -> str:
    """The report's failed checks as verify prints them (node, check, drift,
    message), and pytest's own error if it failed: what an assertion names."""
    console = Console(record=True, width=200)
    report.print_table(console, all_checks=False)
    return console.export_text() + report.error


def provision(
    spec: ClusterSpec,
    *,
    lab: bool = True,
    kubernetes: bool = True,
    replace_members: Sequence[str] = (),
    progress: Progress = silent,
    console: Console | None = None,
) -> RunSummary:
    """The `up` pipeline without its checks (as `groundwork up --no-verify`):
    the playbook runs as one summary. A phase that failed before any playbook
    ran (lab, PKI, inventory) fails the test here, with its message."""
    options = Options(
        live=False,
        lab=lab,
        kubernetes=kubernetes,
        verify=False,
        replace_members=tuple(replace_members),
    )
    context = Context(spec, options, console or Console(width=160), progress)
    result = run(UP, context)
    summary = context.summary
    assert summary is not None, result.describe_failure()
    return summary


def converge_and_verify(spec: ClusterSpec) -> None:
    """`up` (lab up, roles) then `verify`; both must pass."""
    summary = provision(spec)
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status
    report = verify(spec)
    assert report.ok, report.summary() + "\n" + show(report)

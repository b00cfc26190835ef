"""Helpers the lab test modules share: commands on a node, a converged lab."""

from __future__ import annotations

import subprocess

from rich.console import Console

from groundwork.lab import ssh
from groundwork.spec import ClusterSpec
from groundwork.steps.provision import provision
from groundwork.steps.verify import verify
from groundwork.verify import VerifyReport


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


def converge_and_verify(spec: ClusterSpec) -> None:
    """`up` (lab up, roles) then `verify`; both must pass."""
    summary = provision(spec, console=Console(width=160), live=False)
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status
    report = verify(spec)
    assert report.ok, report.summary() + "\n" + show(report)

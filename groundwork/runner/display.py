"""Rich renderings of a run: the live per-host table and the final summary."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from groundwork.runner.events import RunState, RunSummary

_STYLE = {"running": "cyan", "done": "green", "failed": "red", "unreachable": "red"}


def live_table(state: RunState, title: str) -> Table:
    table = Table(title=f"{title}  [dim]{state.play}[/dim]", title_justify="left", expand=False)
    for column in ("host", "state", "role", "task", "ok", "changed", "failed"):
        table.add_column(column, no_wrap=column != "task")
    for host in sorted(state.hosts.values(), key=lambda h: h.name):
        status = host.status
        table.add_row(
            host.name,
            Text(status, style=_STYLE[status]),
            host.role,
            host.task,
            str(host.ok),
            str(host.changed),
            str(host.failed + host.unreachable),
        )
    return table


def summary_table(summary: RunSummary) -> Table:
    verdict = "[green]ok[/green]" if summary.ok else "[red]FAILED[/red]"
    table = Table(
        title=f"{summary.playbook}: {verdict} in {summary.seconds:.1f} s",
        title_justify="left",
    )
    for column in ("host", "ok", "changed", "failed", "unreachable", "skipped"):
        table.add_column(column, justify="left" if column == "host" else "right")
    for host in summary.hosts:
        table.add_row(
            host.name,
            str(host.ok),
            Text(str(host.changed), style="yellow" if host.changed else ""),
            Text(str(host.failed), style="red" if host.failed else ""),
            Text(str(host.unreachable), style="red" if host.unreachable else ""),
            str(host.skipped),
        )
    return table


ERROR_CONTEXT_LINES = 12


def error_lines(artifact_dir: str) -> list[str]:
    """The first [ERROR] of Ansible's output and the lines after it (its origin)."""
    try:
        lines = Path(artifact_dir, "stdout").read_text(errors="replace").splitlines()
    except OSError:
        return []
    for index, line in enumerate(lines):
        if line.startswith("[ERROR]") or line.startswith("ERROR!"):
            return [text for text in lines[index : index + ERROR_CONTEXT_LINES] if text.strip()]
    return lines[-ERROR_CONTEXT_LINES:]


def print_summary(console: Console, summary: RunSummary) -> None:
    parts: list[Table | Text] = [summary_table(summary)]
    for failure in summary.failures:
        parts.append(Text(failure.describe(), style="red"))
    if not summary.ok and not summary.failures:
        # No host failed: Ansible stopped before any task (a playbook or
        # inventory error). Its own words are at the end of its output.
        parts.append(Text(f"ansible-runner ended {summary.status} (rc {summary.rc})", style="red"))
        parts.extend(Text(line, style="red") for line in error_lines(summary.artifact_dir))
    parts.append(Text(f"logs: {summary.artifact_dir}", style="dim"))
    console.print(Group(*parts))

"""kube-bench's `--json` output, per node (pure).

kube-bench prints {"Controls": [...], "Totals": {...}}: one entry per
target it ran (master, etcd, node, ...), each with its groups of checks,
each check with its number, text, status (PASS, FAIL, WARN, INFO), whether
it is scored, and what it found.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("PASS", "FAIL", "WARN", "INFO")


class ReportError(Exception):
    """kube-bench's output could not be read."""


@dataclass(frozen=True)
class Finding:
    """One check's result on one node."""

    id: str
    text: str
    status: str  # PASS, FAIL, WARN, INFO
    scored: bool
    target: str  # master, controlplane, etcd, node, policies
    actual: str = ""  # what the audit found (kube-bench's actual_value)
    expected: str = ""
    reason: str = ""  # kube-bench's reason (manual, skipped, an audit error)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NodeReport:
    node: str
    targets: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    seconds: float = 0.0
    error: str = ""  # kube-bench could not run there

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)

    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in STATUSES}

    def with_status(self, *statuses: str) -> list[Finding]:
        return [f for f in self.findings if f.status in statuses]

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.findings) and self.count("FAIL") == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "targets": list(self.targets),
            "counts": self.counts(),
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class CisReport:
    """The benchmark's result on every node of a stack."""

    stack: str
    benchmark: str  # cis-1.11
    kubernetes: str  # the minor the benchmark was mapped from
    kube_bench: str  # kube-bench's version
    nodes: tuple[NodeReport, ...] = field(default=())
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.nodes) and all(n.ok for n in self.nodes)

    def totals(self) -> dict[str, int]:
        return {s: sum(n.count(s) for n in self.nodes) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "benchmark": self.benchmark,
            "mappedFrom": self.kubernetes,
            "kubeBench": self.kube_bench,
            "ok": self.ok,
            "totals": self.totals(),
            "seconds": round(self.seconds, 1),
            "nodes": [n.to_dict() for n in self.nodes],
        }


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_controls(doc: Any) -> list[Finding]:
    """Every check of kube-bench's JSON document, in its order."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Controls"), list):
        raise ReportError("kube-bench's JSON has no Controls list")
    findings: list[Finding] = []
    for controls in doc["Controls"]:
        target = _text(controls.get("node_type"))
        for group in controls.get("tests") or []:
            for check in group.get("results") or []:
                status = _text(check.get("status")).upper()
                if status not in STATUSES:
                    raise ReportError(
                        f"check {check.get('test_number')}: unknown status {status!r}"
                    )
                findings.append(
                    Finding(
                        id=_text(check.get("test_number")),
                        text=_text(check.get("test_desc")),
                        status=status,
                        scored=bool(check.get("scored")),
                        target=target,
                        actual=_text(check.get("actual_value")),
                        expected=_text(check.get("expected_result")),
                        reason=_text(check.get("reason")),
                    )
                )
    return findings


def parse_output(stdout: str) -> list[Finding]:
    """The findings of kube-bench's `--json` output (the last JSON line:
    anything it printed before it is not the report)."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return parse_controls(json.loads(line))
            except json.JSONDecodeError as err:
                raise ReportError(f"kube-bench's JSON cannot be read: {err}") from None
    raise ReportError("kube-bench printed no JSON report")


def summary_line(report: NodeReport) -> str:
    counts = report.counts()
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES)


def problems(reports: Sequence[NodeReport]) -> list[str]:
    """One line per node that failed a check or could not run kube-bench."""
    out = []
    for r in reports:
        if r.error:
            out.append(f"{r.node}: {r.error}")
        elif r.count("FAIL"):
            ids = ", ".join(f.id for f in r.with_status("FAIL"))
            out.append(f"{r.node}: {r.count('FAIL')} FAIL ({ids})")
    return out

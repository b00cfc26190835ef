"""The result of one verification: parsed from pytest's junit XML, shown per node."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from groundwork.verify.drift import CLUSTER, PROP_CHECK, PROP_DRIFT, PROP_NODE, Drift, parse_drift

Outcome = Literal["passed", "failed", "error", "skipped"]

_PARAM = re.compile(r"^(?P<func>[^\[]+)(?:\[(?P<param>.*)\])?$")


@dataclass(frozen=True)
class CheckResult:
    node: str
    check: str
    outcome: Outcome
    drifts: tuple[Drift, ...] = ()
    message: str = ""
    seconds: float = 0.0
    test_id: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "check": self.check,
            "outcome": self.outcome,
            "drift": [
                {"what": d.what, "declared": d.declared, "live": d.live} for d in self.drifts
            ],
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "test": self.test_id,
        }


@dataclass
class VerifyReport:
    stack: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0
    # Set when pytest itself failed (no junit, collection error, crash):
    # the run proves nothing, so it is not ok.
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.results) and all(r.ok for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]

    def nodes(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.results:
            seen.setdefault(r.node, None)
        # Cluster-wide checks last.
        return sorted(seen, key=lambda n: (n == CLUSTER, n))

    def for_node(self, node: str) -> list[CheckResult]:
        return [r for r in self.results if r.node == node]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "passed": sum(r.ok for r in self.results),
            "failed": len(self.failures),
            "results": [r.to_dict() for r in self.results],
        }

    def summary(self) -> str:
        if self.error:
            return f"verify {self.stack}: could not run the checks: {self.error}"
        bad_nodes = sorted({r.node for r in self.failures})
        text = (
            f"verify {self.stack}: {len(self.results) - len(self.failures)}/{len(self.results)}"
            f" checks passed on {len(self.nodes())} node(s) in {self.seconds:.1f}s"
        )
        if bad_nodes:
            text += f"; drift or failure on: {', '.join(bad_nodes)}"
        return text

    def print_table(self, console: Console | None = None, *, all_checks: bool = True) -> None:
        """One table per node: check, result, and for failures declared vs live."""
        console = console or Console(highlight=False)
        for node in self.nodes():
            rows = self.for_node(node)
            bad = sum(not r.ok for r in rows)
            title = f"{node}: {len(rows) - bad}/{len(rows)} ok"
            if not bad and not all_checks:
                console.print(Text(title, style="green"))
                continue
            table = Table(title=title, title_justify="left", expand=False, show_lines=False)
            table.add_column("check", no_wrap=True)
            table.add_column("result", no_wrap=True)
            table.add_column("what")
            table.add_column("declared")
            table.add_column("live")
            messages = {first_line(r.message) for r in rows}
            if bad == len(rows) > 1 and len(messages) == 1 and not any(r.drifts for r in rows):
                # Unreachable node: one reason, not one row per check.
                reason = messages.pop()
                table.add_row(f"(all {len(rows)} checks)", Text("error", style="red"), reason)
                console.print(table)
                continue
            for r in sorted(rows, key=lambda r: (r.ok, r.check)):
                if r.ok and not all_checks:
                    continue
                style = "green" if r.ok else "red"
                result = Text("ok" if r.ok else r.outcome, style=style)
                if r.drifts:
                    for i, d in enumerate(r.drifts):
                        table.add_row(
                            r.check if i == 0 else "",
                            result if i == 0 else "",
                            d.what,
                            d.declared,
                            d.live,
                        )
                else:
                    table.add_row(r.check, result, "" if r.ok else first_line(r.message), "", "")
            console.print(table)
        style = "green" if self.ok else "red"
        console.print(Text(self.summary(), style=style))


def first_line(text: str, limit: int = 160) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def split_test_name(name: str) -> tuple[str, str | None]:
    """('test_sysctls', 'v-cp1') from 'test_sysctls[v-cp1]'."""
    m = _PARAM.match(name)
    if m is None:
        return name, None
    return m.group("func"), m.group("param")


def check_name(func: str) -> str:
    return func.removeprefix("test_").replace("_", " ")


def _case_result(case: ET.Element) -> CheckResult:
    name = case.get("name", "")
    func, param = split_test_name(name)
    props = {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}
    node = props.get(PROP_NODE) or (param or CLUSTER).split("-to-")[0]
    check = props.get(PROP_CHECK) or check_name(func)
    drifts = tuple(parse_drift(props[PROP_DRIFT])) if PROP_DRIFT in props else ()
    outcome: Outcome = "passed"
    message = ""
    for tag in ("failure", "error", "skipped"):
        el = case.find(tag)
        if el is not None:
            outcome = "failed" if tag == "failure" else ("error" if tag == "error" else "skipped")
            message = el.get("message") or (el.text or "")
            break
    return CheckResult(
        node=node,
        check=check,
        outcome=outcome,
        drifts=drifts,
        message=message,
        seconds=float(case.get("time") or 0.0),
        test_id=f"{case.get('classname', '')}::{name}",
    )


def merge(results: Iterable[CheckResult]) -> list[CheckResult]:
    """A test can appear twice (failed call + error in teardown): keep the worst."""
    rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
    merged: dict[str, CheckResult] = {}
    for r in results:
        old = merged.get(r.test_id)
        if old is None or rank[r.outcome] > rank[old.outcome]:
            merged[r.test_id] = r
    return list(merged.values())


def parse_junit(text: str | bytes, stack: str) -> VerifyReport:
    root = ET.fromstring(text)
    cases = root.iter("testcase")
    return VerifyReport(stack=stack, results=merge(_case_result(c) for c in cases))


def parse_junit_file(path: Path, stack: str) -> VerifyReport:
    return parse_junit(path.read_bytes(), stack)

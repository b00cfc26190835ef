"""The rebuild step: destroy -> up (roles) -> verify, reported as one JUnit file.

Each step is a test case of the suite `rebuild`; a step after a failed one is
reported as skipped (it did not run, so it proves nothing). The node checks of
the verify step follow as their own suites, copied from the verify run's JUnit
(groundwork/verify), so CI shows every check by name.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from groundwork.inventory import InventoryError
from groundwork.lab import LabError
from groundwork.paths import state_dir
from groundwork.pki import PkiError
from groundwork.progress import Progress, silent
from groundwork.spec import ClusterSpec
from groundwork.steps.destroy import destroy
from groundwork.steps.provision import provision
from groundwork.steps.verify import verify

STEPS = ("destroy", "up", "verify")
SUITE = "rebuild"


@dataclass(frozen=True)
class StepOutcome:
    name: str
    ok: bool
    seconds: float = 0.0
    message: str = ""  # why it failed, or what it could not do
    skipped: bool = False
    output: str = ""  # extra detail for the report (one problem per line)


@dataclass(frozen=True)
class RebuildResult:
    stack: str
    steps: tuple[StepOutcome, ...]

    @property
    def ok(self) -> bool:
        return len(self.steps) == len(STEPS) and all(s.ok and not s.skipped for s in self.steps)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


def skipped_after(failed: str, names: Sequence[str]) -> list[StepOutcome]:
    """The steps that did not run because `failed` failed (pure)."""
    return [StepOutcome(n, False, message=f"not run: {failed} failed", skipped=True) for n in names]


def junit_document(
    stack: str, steps: Sequence[StepOutcome], verify_junit: bytes | None = None
) -> bytes:
    """One JUnit XML for a rebuild: the steps, then the verify run's suites (pure)."""
    root = ET.Element("testsuites", name=f"groundwork rebuild {stack}")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=SUITE,
        tests=str(len(steps)),
        failures=str(sum(not s.ok and not s.skipped for s in steps)),
        errors="0",
        skipped=str(sum(s.skipped for s in steps)),
        time=f"{sum(s.seconds for s in steps):.3f}",
    )
    for step in steps:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{SUITE}.{stack}",
            name=step.name,
            time=f"{step.seconds:.3f}",
        )
        if step.skipped:
            ET.SubElement(case, "skipped", message=step.message)
        elif not step.ok:
            failure = ET.SubElement(case, "failure", message=step.message)
            failure.text = step.output or step.message
        elif step.output:
            ET.SubElement(case, "system-out").text = step.output
    if verify_junit:
        checks = ET.fromstring(verify_junit)
        found = [checks] if checks.tag == "testsuite" else checks.findall("testsuite")
        for verify_suite in found:
            verify_suite.set("name", f"verify {stack}")
            root.append(verify_suite)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _destroy_step(spec: ClusterSpec, console: Console, live: bool) -> StepOutcome:
    started = time.monotonic()
    result = destroy(spec, console=console, live=live)
    seconds = time.monotonic() - started
    if result.ok:
        return StepOutcome("destroy", True, seconds, output=result.nothing_to_do)
    problems = result.problems()
    return StepOutcome(
        "destroy",
        False,
        seconds,
        f"{len(problems)} problem(s) resetting the nodes",
        False,
        "\n".join(problems),
    )


def _up_step(spec: ClusterSpec, console: Console, live: bool, progress: Progress) -> StepOutcome:
    started = time.monotonic()
    try:
        summary = provision(spec, console=console, live=live, progress=progress)
    except (InventoryError, LabError, PkiError) as err:
        return StepOutcome("up", False, time.monotonic() - started, str(err))
    seconds = time.monotonic() - started
    if not summary.ok:
        failures = [f.describe() for f in summary.failures]
        message = f"the roles failed on {len({f.host for f in summary.failures}) or 'some'} host(s)"
        return StepOutcome("up", False, seconds, message, False, "\n".join(failures))
    detail = f"{summary.changed} change(s); logs: {summary.artifact_dir}"
    if summary.not_installed:
        detail += f"\nNOT INSTALLED {summary.not_installed}"
    return StepOutcome("up", True, seconds, output=detail)


def _verify_step(spec: ClusterSpec, junit: Path) -> tuple[StepOutcome, bytes | None]:
    started = time.monotonic()
    report = verify(spec, junit=junit)
    seconds = time.monotonic() - started
    xml = junit.read_bytes() if junit.exists() else None
    if report.ok:
        return StepOutcome("verify", True, seconds, output=report.summary()), xml
    lines = [
        f"{r.node}: {r.check}: {r.message.strip().splitlines()[0] if r.message.strip() else r.outcome}"
        for r in report.failures
    ]
    if report.error:
        lines.insert(0, report.error)
    return StepOutcome("verify", False, seconds, report.summary(), False, "\n".join(lines)), xml


def rebuild(
    spec: ClusterSpec,
    *,
    junit: Path | None = None,
    console: Console | None = None,
    live: bool = True,
    progress: Progress = silent,
) -> RebuildResult:
    """Destroy the nodes, bring them up again, verify them; stop at the first failure."""
    console = console or Console(highlight=False)
    steps: list[StepOutcome] = []
    verify_xml: bytes | None = None
    progress("rebuild: destroy")
    steps.append(_destroy_step(spec, console, live))
    if steps[-1].ok:
        progress("rebuild: up")
        steps.append(_up_step(spec, console, live, progress))
    if len(steps) == 2 and steps[-1].ok:
        progress("rebuild: verify")
        work = state_dir(spec.name) / "rebuild"
        work.mkdir(mode=0o700, exist_ok=True)
        outcome, verify_xml = _verify_step(spec, work / "verify-junit.xml")
        steps.append(outcome)
    if len(steps) < len(STEPS):
        steps += skipped_after(steps[-1].name, STEPS[len(steps) :])
    result = RebuildResult(spec.name, tuple(steps))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_bytes(junit_document(spec.name, result.steps, verify_xml))
    return result

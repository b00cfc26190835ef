"""The one runner: every phase of a pipeline gets the same timing, progress
line, error translation, skip reasons, dry-run and JUnit report.

A pipeline stops at its first failed phase; the phases after it are
reported as not run (they prove nothing). A phase whose `should_run` says no
is reported as skipped with its reason and does not fail the run.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from groundwork.lock import StackBusy, stack_lock
from groundwork.phases.base import STEP_ERRORS, Context, Decision, Outcome, Phase

# The name a run reports when another run holds the stack (groundwork.lock).
LOCK = "lock"


@dataclass(frozen=True)
class Pipeline:
    """A verb's phases, in order (groundwork.phases.lists)."""

    verb: str
    phases: tuple[Phase, ...]


class Status(Enum):
    PASSED = "ok"
    FAILED = "FAILED"
    SKIPPED = "skipped"  # its own decision: nothing to do this time
    NOT_RUN = "not run"  # an earlier phase failed
    PLANNED = "would run"  # dry run: the phase cannot preview itself
    PREVIEWED = "previewed"  # dry run: what it would change was found


@dataclass(frozen=True)
class PhaseResult:
    name: str
    status: Status
    seconds: float = 0.0
    message: str = ""  # what it did, why it failed or why it did not run
    output: str = ""  # detail for the report, one item per line

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


@dataclass(frozen=True)
class RunResult:
    verb: str
    stack: str
    phases: tuple[PhaseResult, ...]

    @property
    def ok(self) -> bool:
        return not any(p.status in (Status.FAILED, Status.NOT_RUN) for p in self.phases)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def failure(self) -> PhaseResult | None:
        return next((p for p in self.phases if p.failed), None)

    def describe_failure(self) -> str:
        """The failed phase, its message and its detail lines (pure); "" when ok."""
        failed = self.failure
        if failed is None:
            return ""
        lines = [f"{self.verb} of {self.stack} failed at {failed.name}: {failed.message}"]
        lines += [f"  {line}" for line in failed.output.splitlines()]
        return "\n".join(lines)


def not_run_after(failed: str, names: Sequence[str]) -> list[PhaseResult]:
    """The phases that did not run because `failed` failed (pure)."""
    return [PhaseResult(n, Status.NOT_RUN, message=f"not run: {failed} failed") for n in names]


def _decide(phase: Phase, context: Context) -> Decision | Outcome:
    try:
        return phase.should_run(context)
    except STEP_ERRORS as err:
        return Outcome(False, str(err))


def _run(phase: Phase, context: Context) -> Outcome:
    try:
        return phase.run(context)
    except STEP_ERRORS as err:
        return Outcome(False, str(err))


def _preview(phase: Phase, context: Context) -> Outcome | None:
    try:
        return phase.preview(context)
    except STEP_ERRORS as err:
        return Outcome(False, str(err))


def run(pipeline: Pipeline, context: Context) -> RunResult:
    """Run the pipeline's phases in order, holding the stack's run lock
    unless it is a dry run; write its JUnit if the options ask."""
    if context.options.dry_run:
        done = _run_phases(pipeline, context)
    else:
        try:
            with stack_lock(context.spec.name, pipeline.verb):
                done = _run_phases(pipeline, context)
        except StackBusy as busy:
            names = [p.name for p in pipeline.phases]
            done = [PhaseResult(LOCK, Status.FAILED, message=str(busy))]
            done += not_run_after(LOCK, names)
    result = RunResult(pipeline.verb, context.spec.name, tuple(done))
    junit = context.options.junit
    if junit is not None and not context.options.dry_run:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_bytes(junit_document(result, context.verify_junit))
    return result


def _run_phases(pipeline: Pipeline, context: Context) -> list[PhaseResult]:
    done: list[PhaseResult] = []
    # In a dry run, a check after a phase that would have changed something
    # would check the state before that change: it is planned, not run.
    planned_change = False
    # ...and a preview after a phase that cannot preview itself (a rebuild's
    # destroy) would preview the state before it: planned too.
    blind = False
    for index, phase in enumerate(pipeline.phases):
        started = time.monotonic()
        decided = _decide(phase, context)
        if isinstance(decided, Decision) and not decided.run:
            context.progress(f"{pipeline.verb}: {phase.name} skipped: {decided.reason}")
            done.append(PhaseResult(phase.name, Status.SKIPPED, message=decided.reason))
            continue
        previewed = False
        if isinstance(decided, Decision):
            if context.options.dry_run and (planned_change or not phase.changes_nothing):
                preview = None if phase.changes_nothing or blind else _preview(phase, context)
                if preview is None:
                    planned_change = True
                    blind = blind or not phase.changes_nothing
                    done.append(PhaseResult(phase.name, Status.PLANNED))
                    continue
                if preview.changes:
                    planned_change = True
                    context.would_change.append(phase.name)
                outcome, previewed = preview, True
            else:
                context.progress(f"{pipeline.verb}: {phase.name}")
                outcome = _run(phase, context)
        else:
            outcome = decided
        seconds = time.monotonic() - started
        passed = Status.PREVIEWED if previewed else Status.PASSED
        status = passed if outcome.ok else Status.FAILED
        done.append(PhaseResult(phase.name, status, seconds, outcome.message, outcome.output))
        if not outcome.ok:
            later = [p.name for p in pipeline.phases[index + 1 :]]
            done += not_run_after(phase.name, later)
            break
    return done


def junit_document(result: RunResult, verify_junit: bytes | None = None) -> bytes:
    """The run as JUnit XML: one test case per phase in the suite named after
    the verb, then the verify run's suites, so CI shows every check (pure)."""
    stack, verb = result.stack, result.verb
    root = ET.Element("testsuites", name=f"groundwork {verb} {stack}")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=verb,
        tests=str(len(result.phases)),
        failures=str(sum(p.failed for p in result.phases)),
        errors="0",
        skipped=str(sum(p.status in (Status.SKIPPED, Status.NOT_RUN) for p in result.phases)),
        time=f"{result.seconds:.3f}",
    )
    for phase in result.phases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{verb}.{stack}",
            name=phase.name,
            time=f"{phase.seconds:.3f}",
        )
        if phase.status in (Status.SKIPPED, Status.NOT_RUN):
            ET.SubElement(case, "skipped", message=phase.message)
        elif phase.failed:
            failure = ET.SubElement(case, "failure", message=phase.message)
            failure.text = phase.output or phase.message
        elif phase.message or phase.output:
            text = "\n".join(t for t in (phase.message, phase.output) if t)
            ET.SubElement(case, "system-out").text = text
    if verify_junit:
        checks = ET.fromstring(verify_junit)
        found = [checks] if checks.tag == "testsuite" else checks.findall("testsuite")
        for verify_suite in found:
            verify_suite.set("name", f"verify {stack}")
            root.append(verify_suite)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document

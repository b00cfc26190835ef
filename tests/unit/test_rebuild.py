"""rebuild: the verdict over its steps and its one JUnit report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from groundwork.steps.rebuild import (
    STEPS,
    RebuildResult,
    StepOutcome,
    junit_document,
    skipped_after,
)
from groundwork.verify.report import parse_junit

# The shape pytest writes for `groundwork verify` (junit_family=xunit1).
VERIFY_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="2" time="3.1">
<testcase classname="test_etcd" name="test_etcd_service[cp1]" time="0.2"/>
<testcase classname="test_etcd" name="test_etcd_service[cp2]" time="0.2">
<failure message="etcd.service active: declared active, live inactive">drift</failure>
</testcase>
</testsuite></testsuites>
"""


def _cases(document: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(document)
    suite = root.find("testsuite[@name='rebuild']")
    assert suite is not None
    return {c.get("name", ""): c for c in suite.findall("testcase")}


def test_all_steps_passed_is_ok() -> None:
    steps = tuple(StepOutcome(n, True, 1.0) for n in STEPS)
    result = RebuildResult("lab", steps)
    assert result.ok
    assert result.seconds == 3.0


def test_a_failed_or_skipped_or_missing_step_is_not_ok() -> None:
    destroy = StepOutcome("destroy", True, 1.0)
    up = StepOutcome("up", False, 2.0, "the roles failed on 1 host(s)")
    assert not RebuildResult("lab", (destroy, up, *skipped_after("up", ["verify"]))).ok
    assert not RebuildResult("lab", (destroy,)).ok
    # A skipped step never counts as passed, even if marked ok by mistake.
    skipped = StepOutcome("verify", True, skipped=True)
    assert not RebuildResult("lab", (destroy, StepOutcome("up", True), skipped)).ok


def test_skipped_after_names_the_failed_step() -> None:
    assert skipped_after("destroy", ["up", "verify"]) == [
        StepOutcome("up", False, message="not run: destroy failed", skipped=True),
        StepOutcome("verify", False, message="not run: destroy failed", skipped=True),
    ]


def test_junit_has_one_case_per_step_with_its_outcome() -> None:
    steps = [
        StepOutcome("destroy", True, 12.5, output="5 node(s) reset"),
        StepOutcome("up", False, 40.0, "the roles failed on 1 host(s)", output="w2: unreachable"),
        *skipped_after("up", ["verify"]),
    ]
    document = junit_document("faults", steps)
    root = ET.fromstring(document)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = _cases(document)
    assert list(cases) == ["destroy", "up", "verify"]
    assert cases["destroy"].find("failure") is None
    assert cases["destroy"].get("time") == "12.500"
    failure = cases["up"].find("failure")
    assert failure is not None
    assert failure.get("message") == "the roles failed on 1 host(s)"
    assert failure.text == "w2: unreachable"
    skipped = cases["verify"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not run: up failed"


def test_junit_carries_every_verify_check() -> None:
    steps = [StepOutcome(n, n != "verify", 1.0, "" if n != "verify" else "1 failed") for n in STEPS]
    document = junit_document("faults", steps, VERIFY_XML)
    root = ET.fromstring(document)
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["rebuild", "verify faults"]
    # The verify checks are still readable by verify's own parser, per node.
    report = parse_junit(document, "faults")
    failed = {(r.node, r.check) for r in report.failures}
    assert ("cp2", "etcd service") in failed
    assert ("cp1", "etcd service") not in failed

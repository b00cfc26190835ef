"""The phase runner: the verdict over a pipeline's phases, skips, stops,
error translation, dry-run, and its one JUnit report (with every verify check)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from groundwork.cli import main
from groundwork.inventory import InventoryError, RenderedInventory
from groundwork.lock import stack_lock
from groundwork.phases import REBUILD, UP, Context, Options, Outcome, Pipeline, run
from groundwork.phases import inventory as inventory_phase
from groundwork.phases.base import RUN, Decision, skip
from groundwork.phases.runner import PhaseResult, RunResult, Status, junit_document, not_run_after
from groundwork.spec import load_stack
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
STEPS = ("destroy", "up", "verify")


@pytest.fixture(autouse=True)
def _private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs below take the stack's lock: never the real lab's."""
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path / "state"))


def _cases(document: bytes, suite_name: str = "rebuild") -> dict[str, ET.Element]:
    root = ET.fromstring(document)
    suite = root.find(f"testsuite[@name='{suite_name}']")
    assert suite is not None
    return {c.get("name", ""): c for c in suite.findall("testcase")}


def test_all_phases_passed_is_ok() -> None:
    phases = tuple(PhaseResult(n, Status.PASSED, 1.0) for n in STEPS)
    result = RunResult("rebuild", "lab", phases)
    assert result.ok
    assert result.seconds == 3.0


def test_a_failed_or_not_run_phase_is_not_ok() -> None:
    destroy = PhaseResult("destroy", Status.PASSED, 1.0)
    up = PhaseResult("up", Status.FAILED, 2.0, "the roles failed on 1 host(s)")
    assert not RunResult("rebuild", "lab", (destroy, up, *not_run_after("up", ["verify"]))).ok
    not_run = PhaseResult("verify", Status.NOT_RUN)
    assert not RunResult("rebuild", "lab", (destroy, PhaseResult("up", Status.PASSED), not_run)).ok
    # A phase that decided it had nothing to do does not fail the run.
    skipped = PhaseResult("lab", Status.SKIPPED, message="the stack has no lab")
    assert RunResult("up", "dev", (skipped, PhaseResult("site", Status.PASSED))).ok


def test_not_run_after_names_the_failed_phase() -> None:
    assert not_run_after("destroy", ["up", "verify"]) == [
        PhaseResult("up", Status.NOT_RUN, message="not run: destroy failed"),
        PhaseResult("verify", Status.NOT_RUN, message="not run: destroy failed"),
    ]


def test_junit_has_one_case_per_phase_with_its_outcome() -> None:
    phases = (
        PhaseResult("destroy", Status.PASSED, 12.5, output="5 node(s) reset"),
        PhaseResult("up", Status.FAILED, 40.0, "the roles failed on 1 host(s)", "w2: unreachable"),
        *not_run_after("up", ["verify"]),
    )
    document = junit_document(RunResult("rebuild", "faults", phases))
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
    phases = tuple(
        PhaseResult(n, Status.PASSED if n != "verify" else Status.FAILED, 1.0) for n in STEPS
    )
    document = junit_document(RunResult("rebuild", "faults", phases), VERIFY_XML)
    root = ET.fromstring(document)
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["rebuild", "verify faults"]
    # The verify checks are still readable by verify's own parser, per node.
    report = parse_junit(document, "faults")
    failed = {(r.node, r.check) for r in report.failures}
    assert ("cp2", "etcd service") in failed
    assert ("cp1", "etcd service") not in failed


# --- the runner over phases that only record what happens -----------------------


@dataclass
class Fake:
    """A phase that returns what it is told to, or raises it."""

    name: str
    result: Outcome | Exception = field(default_factory=lambda: Outcome(True, "done"))
    decision: Decision = RUN
    changes_nothing: bool = False
    ran: list[str] = field(default_factory=list)
    # What its dry-run preview finds (None: it cannot preview itself).
    previewed: Outcome | None = None

    def should_run(self, context: Context) -> Decision:
        return self.decision

    def preview(self, context: Context) -> Outcome | None:
        return self.previewed

    def run(self, context: Context) -> Outcome:
        self.ran.append(self.name)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _context(options: Options | None = None) -> Context:
    return Context(load_stack("lab"), options or Options())


def test_the_runner_stops_at_the_first_failure_and_marks_the_rest_not_run() -> None:
    first, broken, last = Fake("a"), Fake("b", Outcome(False, "broke", "x: y")), Fake("c")
    result = run(Pipeline("up", (first, broken, last)), _context())
    assert [(p.name, p.status) for p in result.phases] == [
        ("a", Status.PASSED),
        ("b", Status.FAILED),
        ("c", Status.NOT_RUN),
    ]
    assert last.ran == []
    assert not result.ok
    assert result.describe_failure() == "up of lab failed at b: broke\n  x: y"


def test_a_skipped_phase_says_why_and_the_run_goes_on() -> None:
    lines: list[str] = []
    context = Context(load_stack("lab"), progress=lines.append)
    lazy, after = Fake("lab", decision=skip("asked not to (--no-lab)")), Fake("pki")
    result = run(Pipeline("up", (lazy, after)), context)
    assert result.ok
    assert result.phases[0] == PhaseResult("lab", Status.SKIPPED, message="asked not to (--no-lab)")
    assert lazy.ran == [] and after.ran == ["pki"]
    assert lines == ["up: lab skipped: asked not to (--no-lab)", "up: pki"]


def test_a_step_error_is_the_phase_failure_and_a_bug_is_not() -> None:
    missing = Fake("inventory", InventoryError("etcd 3.6.0: no sha256 pinned"))
    result = run(Pipeline("up", (missing,)), _context())
    assert result.phases[0].status is Status.FAILED
    assert result.phases[0].message == "etcd 3.6.0: no sha256 pinned"
    with pytest.raises(ZeroDivisionError):
        run(Pipeline("up", (Fake("site", ZeroDivisionError()),)), _context())


def test_dry_run_runs_only_the_phases_that_change_nothing() -> None:
    check, change = Fake("validate", changes_nothing=True), Fake("site")
    result = run(Pipeline("up", (check, change)), _context(Options(dry_run=True)))
    assert check.ran == ["validate"] and change.ran == []
    assert [p.status for p in result.phases] == [Status.PASSED, Status.PLANNED]
    assert result.ok
    # A check after a change it would not see (rebuild: destroy, then the
    # membership check) is planned too.
    later = Fake("validate", changes_nothing=True)
    result = run(Pipeline("rebuild", (Fake("destroy"), later)), _context(Options(dry_run=True)))
    assert later.ran == []
    assert [p.status for p in result.phases] == [Status.PLANNED, Status.PLANNED]


def test_a_dry_run_previews_what_can_tell_and_checks_only_an_unchanged_state() -> None:
    unchanged = Fake("pki", previewed=Outcome(True, "unchanged"))
    site = Fake("site", previewed=Outcome(True, "no node would change"))
    check = Fake("verify", changes_nothing=True)
    result = run(Pipeline("up", (unchanged, site, check)), _context(Options(dry_run=True)))
    assert [p.status for p in result.phases] == [Status.PREVIEWED] * 2 + [Status.PASSED]
    assert unchanged.ran == site.ran == [] and check.ran == ["verify"]
    # A preview that finds a change: the check after it would see the state
    # before that change, so it is planned, not run.
    site = Fake("site", previewed=Outcome(True, "would change w1", "w1: common", changes=True))
    check = Fake("verify", changes_nothing=True)
    context = _context(Options(dry_run=True))
    result = run(Pipeline("up", (site, check)), context)
    assert [p.status for p in result.phases] == [Status.PREVIEWED, Status.PLANNED]
    assert result.phases[0].output == "w1: common" and context.would_change == ["site"]
    assert check.ran == [] and result.ok
    # A preview that fails (a node did not answer) fails the dry run.
    lost = Fake("site", previewed=Outcome(False, "a node did not answer the preview"))
    result = run(Pipeline("up", (lost, Fake("verify"))), _context(Options(dry_run=True)))
    assert [p.status for p in result.phases] == [Status.FAILED, Status.NOT_RUN]
    # After a phase that cannot preview itself (a rebuild's destroy), a
    # preview would show the state before it: planned instead.
    site = Fake("site", previewed=Outcome(True, "no node would change"))
    result = run(Pipeline("rebuild", (Fake("destroy"), site)), _context(Options(dry_run=True)))
    assert [p.status for p in result.phases] == [Status.PLANNED, Status.PLANNED]


def test_the_run_writes_its_junit_when_asked(tmp_path: Path) -> None:
    junit = tmp_path / "reports" / "up.xml"
    run(Pipeline("up", (Fake("pki"), Fake("site"))), _context(Options(junit=junit)))
    assert list(_cases(junit.read_bytes(), "up")) == ["pki", "site"]


def test_rebuild_is_destroy_then_every_phase_of_up() -> None:
    # What the CLI door could not bring up again is refused before the destroy.
    assert [p.name for p in REBUILD.phases[:3]] == ["pinned-bundles", "door", "destroy"]
    assert REBUILD.phases[3:] == UP.phases
    names = [p.name for p in UP.phases]
    # before anything is touched
    assert names[:3] == ["door", "validate-membership", "pinned-bundles"]
    assert names[-1] == "verify"
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("verb", ["up", "destroy", "rebuild"])
def test_a_dry_run_names_the_phases_and_touches_nothing(
    verb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))

    def touched(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dry run ran a playbook on a stack never converged")

    for runner in ("base.run_playbook", "destroy.run_playbook"):
        monkeypatch.setattr(f"groundwork.phases.{runner}", touched)
    from groundwork.inventory import write_inventory

    def preview_inventory(directory: Path, rendered: RenderedInventory) -> list[str]:
        assert directory.name == inventory_phase.DRY_RUN_INVENTORY, directory
        return write_inventory(directory, rendered)

    monkeypatch.setattr(inventory_phase, "write_inventory", preview_inventory)
    # dev's mirror is a real site's, unreachable from here.
    monkeypatch.setattr(inventory_phase, "artifact_mirror", lambda spec: None)
    monkeypatch.setattr(inventory_phase, "substrate_sha256", lambda *args: {})
    # dev is real machines: a dry run needs no --yes, as it changes nothing.
    assert main([verb, "--stack", "dev", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would run" in out and "nothing on the nodes of dev was changed" in out
    assert not (tmp_path / "dev" / "pki").exists()


def test_a_dry_run_of_a_stack_the_cli_door_cannot_install_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    # prod's calico operator and Envoy Gateway are known only by their URL.
    assert main(["up", "--stack", "prod", "--dry-run"]) != 0
    out = "".join(capsys.readouterr())
    assert "cluster.network.plugin" in out and "cluster.gateway.controller" in out
    assert not (tmp_path / "prod" / "pki").exists()


def test_a_second_run_on_a_busy_stack_fails_at_once_naming_the_holder() -> None:
    phase = Fake("a")
    with stack_lock("lab", "rebuild"):
        result = run(Pipeline("up", (phase, Fake("b"))), _context())
    assert phase.ran == []
    assert [(p.name, p.status) for p in result.phases] == [
        ("lock", Status.FAILED),
        ("a", Status.NOT_RUN),
        ("b", Status.NOT_RUN),
    ]
    message = result.phases[0].message
    assert "stack lab is busy" in message and "rebuild, pid " in message
    # Released when the holder's block ends, and by a run when it ends.
    assert run(Pipeline("up", (phase,)), _context()).ok
    assert run(Pipeline("up", (phase,)), _context()).ok


def test_a_dry_run_takes_no_lock() -> None:
    with stack_lock("lab", "up"):
        result = run(
            Pipeline("up", (Fake("a", changes_nothing=True),)), _context(Options(dry_run=True))
        )
    assert result.ok


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    """A killed run leaves no stale lock: the kernel drops an flock with its process."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from groundwork.lock import stack_lock\n"
            "with stack_lock('lab', 'up'):\n"
            "    print('held', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert not run(Pipeline("up", (Fake("a"),)), _context()).ok
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert run(Pipeline("up", (Fake("a"),)), _context()).ok


def test_limit_reaches_the_playbooks_and_leaves_the_cluster_objects_alone() -> None:
    from groundwork.phases.addons import Addons

    context = Context(load_stack("lab"), Options(live=False, limit=("cp2", "w1")))
    assert context.run_options().limit == "cp2,w1"
    assert context.run_options().host_count == 2
    assert not Addons().should_run(context).run


def test_limit_names_only_nodes_of_the_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--stack", "lab", "--limit", "cp1,cp4"]) == 1
    out = "".join(capsys.readouterr())
    assert "--limit: no node 'cp4'; did you mean" in out and "its nodes: cp1, cp2" in out

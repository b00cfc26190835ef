"""The release phase: a stack declaring another Kubernetes release than the
cluster runs is an upgrade, checked (U1-U6) before any node changes, and
run with playbooks/upgrade.yml instead of kubernetes.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundwork.phases import Context, Options, Outcome, release
from groundwork.phases import kubernetes as kubernetes_phase
from groundwork.spec import load_stack
from groundwork.verify.kube import KubeError

DECLARED = "1.36.3"  # stacks/Pulumi.lab.yaml


def test_moves_when_any_component_is_at_another_release() -> None:
    assert not release.moves("v1.36.3", {"cp1": "v1.36.3", "w1": "v1.36.3"}, "1.36.3")
    assert release.moves("v1.36.3", {"cp1": "v1.36.3", "w1": "v1.36.3"}, "1.37.2")
    # A stopped upgrade: the control plane moved, one kubelet did not.
    assert release.moves("v1.37.2", {"cp1": "v1.37.2", "w1": "v1.36.3"}, "1.37.2")


class _Api:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass


def _run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    running: tuple[str, dict[str, str]] | KubeError,
) -> tuple[Outcome, Context]:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(release, "KubeApi", _Api)

    def versions(_api: object) -> tuple[str, dict[str, str]]:
        if isinstance(running, KubeError):
            raise running
        return running

    monkeypatch.setattr(release, "running_versions", versions)
    context = Context(load_stack("lab"), Options(live=False))
    return release.Release().run(context), context


def test_the_declared_release_running_is_no_upgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcome, context = _run(monkeypatch, tmp_path, ("v1.36.3", {"cp1": "v1.36.3"}))
    assert outcome.ok and context.upgrade_from is None
    assert outcome.message == f"the cluster runs {DECLARED}"


def test_the_next_patch_or_minor_is_an_upgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcome, context = _run(monkeypatch, tmp_path, ("v1.35.4", {"cp1": "v1.35.4", "w1": "v1.35.4"}))
    assert outcome.ok and context.upgrade_from == "v1.35.4"
    assert "upgrade v1.35.4 -> 1.36.3" in outcome.message
    assert "2 node(s) drained and upgraded one at a time" in outcome.message


def test_a_skipped_minor_and_a_downgrade_are_refused_with_every_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcome, context = _run(monkeypatch, tmp_path, ("v1.34.3", {"cp1": "v1.34.3", "w1": "v1.37.0"}))
    assert not outcome.ok and context.upgrade_from is None
    assert outcome.message.startswith("refused before any change")
    rules = [line.split(":", 1)[0] for line in outcome.output.splitlines()]
    assert rules == ["U5", "U6"]
    outcome, _ = _run(monkeypatch, tmp_path, ("v1.37.2", {"cp1": "v1.37.2"}))
    assert not outcome.ok and outcome.output.startswith("U4:")


def test_a_cluster_that_does_not_answer_is_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcome, context = _run(monkeypatch, tmp_path, KubeError("connection refused"))
    assert outcome.ok and context.upgrade_from is None
    assert outcome.message.endswith(f"{DECLARED} is installed")


def test_the_kubernetes_phase_runs_the_upgrade_playbook_for_an_upgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran: list[str] = []

    def record(_context: Context, playbook: str) -> Outcome:
        ran.append(playbook)
        return Outcome(True)

    monkeypatch.setattr(kubernetes_phase, "run_and_record", record)
    _, context = _run(monkeypatch, tmp_path, ("v1.36.3", {"cp1": "v1.36.3"}))
    kubernetes_phase.Kubernetes().run(context)
    context.upgrade_from = "v1.35.4"
    kubernetes_phase.Kubernetes().run(context)
    assert ran == ["kubernetes.yml", "upgrade.yml"]


def test_a_new_cluster_is_not_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    context = Context(load_stack("lab"), Options(live=False))
    decision = release.Release().should_run(context)
    assert not decision.run and "new cluster" in decision.reason

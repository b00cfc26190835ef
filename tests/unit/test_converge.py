"""site.yml and kubernetes.yml in one ansible-playbook run (playbooks/converge.yml):
the site and Kubernetes phases each report their own plays of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from groundwork.phases import Context, Options, Outcome
from groundwork.phases import kubernetes as kubernetes_phase
from groundwork.phases import site as site_phase
from groundwork.runner import PLAYBOOKS_DIR, RunSummary
from groundwork.runner.events import Failure, HostState, RunState
from groundwork.spec import load_stack

SITE = site_phase.play_names("site.yml")
KUBERNETES = site_phase.play_names("kubernetes.yml")


def summary(*failures: Failure, status: str = "") -> RunSummary:
    hosts = (HostState("cp1", ok=30, failed=len(failures)), HostState("w1", ok=20))
    status = status or ("failed" if failures else "successful")
    rc = 0 if status == "successful" else 2
    return RunSummary("converge.yml", status, rc, hosts, failures, "/logs", 9.0)


def failure(play: str) -> Failure:
    return Failure("cp1", "etcd", "Install etcd", "disk full", play=play)


def test_converge_runs_site_then_kubernetes_with_a_barrier_between() -> None:
    plays = yaml.safe_load((PLAYBOOKS_DIR / "converge.yml").read_text())
    imported = [p.get("ansible.builtin.import_playbook") for p in plays]
    assert imported == ["site.yml", None, "kubernetes.yml"]
    barrier = plays[1]
    assert barrier["any_errors_fatal"] is True and barrier["hosts"] == "all"
    # Each playbook's plays are told apart by name, and neither is the barrier's.
    assert SITE and KUBERNETES and not SITE & KUBERNETES
    assert barrier["name"] not in SITE | KUBERNETES


def test_a_failure_records_the_play_it_happened_in() -> None:
    state = RunState()
    state.apply({"event": "playbook_on_play_start", "event_data": {"play": "Kubernetes nodes"}})
    state.apply(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "w1", "role": "node", "task": "t", "res": {"msg": "no"}},
        }
    )
    state.apply(
        {"event": "runner_on_unreachable", "event_data": {"host": "w2", "res": {"msg": "gone"}}}
    )
    assert [(f.host, f.play) for f in state.failures] == [
        ("w1", "Kubernetes nodes"),
        ("w2", "Kubernetes nodes"),
    ]


def test_a_run_that_passed_passes_both_parts() -> None:
    run = summary()
    assert site_phase.part_outcome(run, SITE).ok
    assert site_phase.part_outcome(run, KUBERNETES).ok


def test_a_failure_in_the_kubernetes_plays_fails_only_the_kubernetes_part() -> None:
    kube = failure(sorted(KUBERNETES)[0])
    run = summary(kube)
    assert site_phase.part_outcome(run, SITE).ok
    outcome = site_phase.part_outcome(run, KUBERNETES)
    assert not outcome.ok and outcome.output == kube.describe()


def test_a_failure_in_the_substrate_fails_the_site_part_with_its_own_failures() -> None:
    site, barrier = failure(sorted(SITE)[0]), failure("the barrier")
    outcome = site_phase.part_outcome(summary(site, barrier), SITE)
    assert not outcome.ok and outcome.output == site.describe()


def test_a_run_that_ended_with_no_failure_to_tell_by_fails_every_part() -> None:
    run = summary(status="canceled")
    assert not site_phase.part_outcome(run, SITE).ok
    assert not site_phase.part_outcome(run, KUBERNETES).ok


@pytest.mark.parametrize(
    ("kubernetes", "missing", "upgrade_from", "playbook"),
    [
        (True, (), None, "converge.yml"),
        (False, (), None, "site.yml"),  # up --substrate-only
        (True, ("kubelet",), None, "site.yml"),  # NOT INSTALLED
        (True, (), "1.35.4", "site.yml"),  # upgrade.yml drains node by node after it
    ],
)
def test_the_site_phase_runs_both_layers_in_one_run_when_kubernetes_follows(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kubernetes: bool,
    missing: tuple[str, ...],
    upgrade_from: str | None,
    playbook: str,
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    ran: list[str] = []

    def run_playbook(self: Context, name: str, extra_vars: object = None) -> RunSummary:
        ran.append(name)
        return summary(failure(sorted(KUBERNETES)[0]))

    monkeypatch.setattr(Context, "run_playbook", run_playbook)
    # What a passed substrate records (the membership) is not this test's.
    monkeypatch.setattr(site_phase, "applied_after", lambda *a: None)
    monkeypatch.setattr(site_phase, "write_applied", lambda *a: None)
    monkeypatch.setattr(
        Context,
        "members",
        lambda self: type("Members", (), {"bootstrap": {}, "fresh": True, "changes": True}),
    )
    context = Context(load_stack("lab"), Options(live=False, kubernetes=kubernetes))
    context.kube_missing, context.upgrade_from = missing, upgrade_from
    outcome = site_phase.Site().run(context)
    assert ran == [playbook]
    if playbook == "site.yml":
        # The failure (of a kubernetes play) is the whole run's: site failed.
        assert not outcome.ok and context.converge_run is None
        return
    # The substrate passed; the Kubernetes phase reports the failure from the
    # same run, without running a playbook of its own.
    assert outcome.ok and context.converge_run is not None
    kube: Outcome = kubernetes_phase.Kubernetes().run(context)
    assert not kube.ok and "disk full" in kube.output
    assert ran == [playbook]

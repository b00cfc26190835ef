"""Leaving converged nodes alone (groundwork/converged.py): what a run may
vouch for, the reads it keeps, and the node program giving the very digests
the modules give."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from test_node_modules import a_file, owner_args, run_module

from groundwork import converged
from groundwork.phases import Context, Options
from groundwork.phases import kubernetes as kubernetes_phase
from groundwork.phases import site as site_phase
from groundwork.runner.events import HostState, Observation, RunState, RunSummary
from groundwork.spec import load_stack

PROBE = Observation("groundwork_probe", "common: Probe", {"paths": ["/x"]}, "a" * 64)
FILES = Observation("groundwork_files", "etcd: Install", {"files": [{"dest": "/y"}]}, "b" * 64)


def summary(*hosts: HostState, status: str = "successful") -> RunSummary:
    return RunSummary("converge.yml", status, 0, hosts, (), "/tmp/a", 1.0)


def host(name: str, **counts: Any) -> HostState:
    state = HostState(name, done=True, observations=[PROBE, FILES])
    for key, value in counts.items():
        setattr(state, key, value)
    return state


def test_only_a_passed_run_that_changed_nothing_on_every_node_vouches() -> None:
    assert converged.unrecordable(summary(host("a"), host("b")), ["a", "b"]) == ""
    assert converged.unrecordable(summary(host("a"), status="failed"), ["a"]) == (
        "the run did not pass"
    )
    assert converged.unrecordable(summary(host("a")), ["a", "b"]) == "no task ran on b"
    assert converged.unrecordable(summary(host("a", changed=1)), ["a"]) == "a changed"
    unread = host("a", unobserved=["etcd: Check the members"])
    assert converged.unrecordable(summary(unread), ["a"]) == (
        "a: 'etcd: Check the members' reports no digest of what it read"
    )
    assert converged.unrecordable(summary(host("a", observations=[])), ["a"]) == "a: nothing read"


def event(kind: str, action: str, res: dict[str, Any], task: str = "Probe") -> dict[str, Any]:
    data = {"host": "cp1", "task": task, "role": "etcd", "resolved_action": action, "res": res}
    return {"event": kind, "event_data": data}


def test_the_run_state_keeps_each_read_and_names_a_task_that_reads_without_one() -> None:
    state = RunState()
    files_args = {
        "directories": [{"path": "/d", "mode": "0755", "owner": "root", "group": "root"}],
        "links": [{"src": "/opt/x", "dest": "/usr/bin/x", "force": True}],
        "files": [{"dest": "/f", "content": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "mode": "0600"}],
        "blocks": [{"path": "/etc/hosts", "marker": "gw", "content": "10.0.0.1 a"}],
    }
    probe_args = {"units": ["etcd"], "paths": []}
    state.apply(
        event(
            "runner_on_ok",
            "groundwork_probe",
            {"observed": "1", "invocation": {"module_args": probe_args}},
        )
    )
    state.apply(
        event(
            "runner_on_ok",
            "groundwork_files",
            {"observed": "2", "invocation": {"module_args": files_args}},
            task="Install",
        )
    )
    state.apply(event("runner_on_ok", "ansible.builtin.include_role", {}, task="Components"))
    state.apply(event("runner_on_ok", "ansible.builtin.command", {}, task="Ask etcd"))
    state.apply(event("runner_on_skipped", "ansible.builtin.user", {}, task="Create the user"))
    cp1 = state.hosts["cp1"]
    assert [(o.module, o.task, o.observed) for o in cp1.observations] == [
        ("groundwork_probe", "etcd: Probe", "1"),
        ("groundwork_files", "etcd: Install", "2"),
    ]
    assert cp1.observations[0].args == probe_args
    # What the files call manages, never its contents.
    assert cp1.observations[1].args == {
        "directories": [{"path": "/d"}],
        "links": [{"dest": "/usr/bin/x"}],
        "files": [{"dest": "/f"}],
        "blocks": [{"path": "/etc/hosts", "marker": "gw"}],
    }
    assert cp1.unobserved == ["etcd: Ask etcd"]


def test_differences_name_the_reads_whose_digest_moved() -> None:
    recorded = (PROBE, FILES)
    assert converged.differences(recorded, [PROBE.observed, FILES.observed]) == []
    assert converged.differences(recorded, [PROBE.observed, "c" * 64]) == ["etcd: Install"]
    # A node that could not answer gives its error in place of the digests.
    assert converged.differences(recorded, ["error: exit 255: refused"]) == [
        "error: exit 255: refused"
    ]
    assert converged.differences(recorded, []) == ["no answer"]


def test_the_controller_files_an_inventory_names_under_the_state_root() -> None:
    text = (
        "gw_pki_dir: /var/lib/groundwork/lab/pki\n"
        "args: -o UserKnownHostsFile=/var/lib/groundwork/lab/lab/ssh/known_hosts -o X=y\n"
        "key: '/var/lib/groundwork/lab/secrets/encryption-key'\n"
        "elsewhere: /etc/kubernetes/pki\n"
    )
    assert converged.controller_paths(text, Path("/var/lib/groundwork")) == [
        Path("/var/lib/groundwork/lab/lab/ssh/known_hosts"),
        Path("/var/lib/groundwork/lab/pki"),
        Path("/var/lib/groundwork/lab/secrets/encryption-key"),
    ]


def test_the_inputs_digest_moves_with_a_controller_file_the_inventory_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "state"
    key = root / "st" / "secrets" / "key"
    key.parent.mkdir(parents=True)
    key.write_text("one")
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(root))
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text(f"all:\n  vars:\n    gw_key: {key}\n")
    first = converged.inputs_digest(inventory)
    assert converged.inputs_digest(inventory) == first
    key.write_text("two")
    second = converged.inputs_digest(inventory)
    assert second != first
    (inventory / "hosts.yml").write_text(f"all:\n  vars:\n    gw_key: {key}\n    gw_x: 1\n")
    assert converged.inputs_digest(inventory) not in {first, second}


def test_the_connection_is_the_inventory_s(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        "all:\n"
        "  vars:\n"
        "    ansible_python_interpreter: /usr/bin/python3\n"
        "    ansible_ssh_common_args: -o StrictHostKeyChecking=yes\n"
        "  hosts:\n"
        "    cp1: {ansible_host: 10.0.0.11, ansible_port: 2222, ansible_user: ops,"
        " ansible_become: true, ansible_ssh_private_key_file: /k}\n"
        "    w1: {ansible_host: 10.0.0.21}\n"
    )
    found = converged.connections(tmp_path)
    argv = found["cp1"].argv()
    assert argv[:6] == ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-p"]
    assert argv[6:10] == ["2222", "-i", "/k", "ops@10.0.0.11"]
    assert argv[10].startswith("sudo -n /usr/bin/python3 -c ")
    assert found["w1"].argv()[-2] == "root@10.0.0.21"
    assert not found["w1"].argv()[-1].startswith("sudo")


def node_digests(observations: list[Observation]) -> list[str]:
    """The node program, run here as it runs on a node."""
    out = subprocess.run(
        [sys.executable, "-c", converged.NODE_PROGRAM],
        input=converged.node_payload(observations),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [str(d) for d in json.loads(out.stdout)]


def test_the_node_program_gives_the_digests_the_modules_give(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    config = tmp_path / "dir" / "app.conf"
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    files_args: dict[str, Any] = {
        "directories": [{"path": str(tmp_path / "dir"), "mode": "0755", **owner_args()}],
        "links": [{"src": str(config), "dest": str(tmp_path / "link")}],
        "files": [a_file(config, "key = 1\n", mode="0600")],
        "blocks": [{"path": str(hosts), "marker": "gw", "content": "10.0.0.1 a\n"}],
    }
    written = run_module("groundwork_files", tmp_path, **files_args)
    probe_args: dict[str, Any] = {
        "paths": [str(config), str(tmp_path / "nothing")],
        "users": ["root"],
    }
    probed = run_module("groundwork_probe", tmp_path, **probe_args)
    # The module's processed arguments, as the run's events carry them.
    reads = [
        Observation("groundwork_probe", "probe", probed["invocation"]["module_args"], ""),
        Observation("groundwork_files", "files", files_args, ""),
    ]
    assert node_digests(reads) == [probed["observed"], written["observed"]]

    config.chmod(0o644)  # drift in a mode
    assert node_digests(reads)[1] != written["observed"]
    again = run_module("groundwork_files", tmp_path, **files_args)
    assert again["changed"] and node_digests(reads)[1] == written["observed"]
    config.unlink()  # a path the probe reads is gone, and a file the files call manages
    probe_now, files_now = node_digests(reads)
    assert probe_now != probed["observed"] and files_now != written["observed"]


class Members:
    """The membership plan of a cluster already applied, with nothing to change."""

    bootstrap: ClassVar[dict[str, Any]] = {}
    fresh = False
    changes = False


def a_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Context:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(Context, "members", lambda self: Members())
    context = Context(load_stack("lab"), Options(live=False, **options))
    context.inventory = tmp_path / "inventory"
    return context


@pytest.mark.parametrize(
    ("options", "may"),
    [
        ({}, True),
        ({"full": True}, False),
        ({"limit": ("w1",)}, False),
        ({"replace_members": ("cp3",)}, False),
        ({"renew_certificates": True}, False),
        ({"kubernetes": False}, False),  # up --substrate-only
    ],
)
def test_only_a_plain_up_of_both_layers_may_leave_nodes_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], may: bool
) -> None:
    assert site_phase.may_leave_nodes_alone(a_context(tmp_path, monkeypatch, **options)) is may


def test_nodes_as_last_seen_run_no_role_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = a_context(tmp_path, monkeypatch)
    said: list[str] = []
    context.progress = said.append
    record = converged.Record(
        "i", "2026-12-07T19:20:00+00:00", {"cp1": (PROBE, FILES), "w1": (PROBE,)}
    )
    converged.write_record("lab", record)
    verdict = converged.Verdict(False, ("w1: etcd: Install",), 0.4)
    monkeypatch.setattr(converged, "check", lambda stack, inventory: verdict)
    assert site_phase.nodes_as_last_seen(context) is None
    assert said == ["site: every role runs: w1: etcd: Install"]
    assert context.runs == [] and not context.nodes_left_alone

    verdict = converged.Verdict(True, (), 0.4, record)
    outcome = site_phase.nodes_as_last_seen(context)
    assert outcome is not None and outcome.ok
    assert outcome.message == (
        "every node as the run of 2026-12-07T19:20:00+00:00 that changed nothing saw it "
        "(3 reads on 2 nodes in 0.4 s): no role run; `up --full` runs them"
    )
    summary = context.summary
    assert summary is not None and summary.ok and summary.note
    assert summary.changed_by_host() == {"cp1": 0, "w1": 0}
    kube = kubernetes_phase.Kubernetes().run(context)
    assert kube.ok and "no role run" in kube.message


def test_any_playbook_run_ends_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = a_context(tmp_path, monkeypatch)
    converged.write_record("lab", converged.Record("i", "t", {"cp1": (PROBE,)}))
    ran = summary(host("cp1", changed=2))
    monkeypatch.setattr("groundwork.phases.base.run_playbook", lambda *a, **k: ran)
    # It may change nodes: the record goes before it starts.
    assert context.run_playbook("reset.yml") is ran
    assert converged.read_record("lab") is None


def test_a_converge_records_only_when_it_can_vouch_for_every_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = a_context(tmp_path, monkeypatch)
    context.inventory = tmp_path / "inventory"
    context.inventory.mkdir()
    (context.inventory / "hosts.yml").write_text("all: {}\n")
    said: list[str] = []
    context.progress = said.append
    nodes = [host(node.name) for node in context.spec.nodes]
    context.converge_run = summary(*nodes[:-1], host(nodes[-1].name, changed=1))
    site_phase.record_if_unchanged(context)
    assert converged.read_record("lab") is None
    assert said == [f"site: no record for the next up: {nodes[-1].name} changed"]

    context.converge_run = summary(*nodes)
    site_phase.record_if_unchanged(context)
    record = converged.read_record("lab")
    assert record is not None and record.hosts == {h.name: (PROBE, FILES) for h in nodes}
    assert record.inputs == converged.inputs_digest(context.inventory)


@pytest.mark.parametrize(
    ("argv", "full"),
    [
        (["up", "--stack", "lab", "--full"], True),
        (["up", "--stack", "lab"], False),
        # certs renew runs up's pipeline with a parser of its own.
        (["certs", "renew", "--stack", "lab"], False),
    ],
)
def test_the_verbs_that_run_up_ask_for_every_role_only_with_full(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], full: bool
) -> None:
    import groundwork.phases
    from groundwork.cli import main

    asked: list[Options] = []

    def run(pipeline: object, context: Context) -> object:
        asked.append(context.options)
        raise SystemExit(0)

    monkeypatch.setattr(groundwork.phases, "run", run)
    with pytest.raises(SystemExit):
        main(argv)
    assert [options.full for options in asked] == [full]

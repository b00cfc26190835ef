"""`up` on the lab: every host converges, etcd is healthy, a second `up` changes
nothing, a changed pod network is refused before any node is touched.

Verification assertions live in tests/lab/test_verify.py. The stack defaults
to the lab stack; GROUNDWORK_UP_LAB_STACK points at another stack file (a
private lab, so engineers do not collide).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _lab import must, provision

from groundwork import converged
from groundwork.lab import ssh
from groundwork.runner import RunSummary
from groundwork.spec import ClusterSpec, Role, load_stack

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_UP_LAB_STACK", "lab")
CLI = "import sys; from groundwork.cli import main; sys.exit(main(sys.argv[1:]))"
# A pod range no lab stack uses, clear of their node and Service ranges.
MOVED_POD_CIDR = "10.245.0.0/16"


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def first_up(spec: ClusterSpec) -> RunSummary:
    return provision(spec)


def test_up_converges_every_host(spec: ClusterSpec, first_up: RunSummary) -> None:
    assert first_up.ok, "\n".join(f.describe() for f in first_up.failures) or first_up.status
    assert sorted(h.name for h in first_up.hosts) == sorted(n.name for n in spec.nodes)
    for host in first_up.hosts:
        assert (host.failed, host.unreachable) == (0, 0), host


def test_etcd_is_healthy_with_every_member(spec: ClusterSpec, first_up: RunSummary) -> None:
    assert first_up.ok
    members = spec.nodes_with(Role.ETCD)
    endpoints = ",".join(f"https://{n.address}:2379" for n in members)
    for node in members:
        # One string: ssh hands the command to the node's login shell as is.
        script = (
            f". /etc/etcd/etcdctl.env && ETCDCTL_ENDPOINTS={endpoints} "
            "etcdctl endpoint health && etcdctl member list"
        )
        argv = ssh.target(spec, node.name).argv([script])
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.count("is healthy") == len(members), out.stdout
        for member in members:
            assert f", started, {member.name}, https://{member.address}:2380" in out.stdout


def test_second_up_changes_nothing(spec: ClusterSpec, first_up: RunSummary) -> None:
    assert first_up.ok
    # --full: every role runs on every node (the roles' own idempotence).
    second = provision(spec, full=True)
    assert second.ok, "\n".join(f.describe() for f in second.failures)
    changed = {h.name: h.changed_tasks for h in second.hosts if h.changed}
    assert changed == {}, f"a no-change up changed something: {changed}"
    assert second.changed_by_host() == {n.name: 0 for n in spec.nodes}
    assert second.artifact_dir and not second.note


def test_up_with_nothing_to_do_runs_no_role_until_a_node_drifts(
    spec: ClusterSpec, first_up: RunSummary
) -> None:
    """After a run that changed nothing, `up` makes that run's reads again on
    every node and runs no role while each gives the same digest; a drifted
    file makes every role run, which repairs it."""
    assert first_up.ok
    vouching = provision(spec, full=True)
    assert vouching.ok and vouching.changed == 0
    record = converged.read_record(spec.name)
    assert record is not None and sorted(record.hosts) == sorted(n.name for n in spec.nodes)
    # Every role's probe and file call on every node is among the reads.
    for host, reads in record.hosts.items():
        assert {r.module for r in reads} == {"groundwork_probe", "groundwork_files"}, host
    quiet = provision(spec)
    assert quiet.ok and quiet.note, quiet
    assert quiet.changed_by_host() == {n.name: 0 for n in spec.nodes}
    assert quiet.artifact_dir == ""  # no ansible-playbook ran

    worker = next(n for n in spec.nodes if Role.WORKER in n.roles)
    config = "/var/lib/kubelet/config.yaml"
    mode = must(spec, worker.name, f"stat -c %a {config}").strip()
    must(spec, worker.name, f"chmod 0644 {config}")
    repaired = provision(spec)
    assert repaired.ok and not repaired.note, repaired
    assert repaired.changed_by_host()[worker.name] > 0
    assert must(spec, worker.name, f"stat -c %a {config}").strip() == mode
    # A run that changed something vouches for nothing: the next one runs
    # every role again (and, changing nothing, records anew).
    assert converged.read_record(spec.name) is None


def test_limit_converges_and_checks_only_the_named_node(
    spec: ClusterSpec, first_up: RunSummary
) -> None:
    """`up --limit w1` repairs w1's drift and contacts no other node; `verify
    --limit w1` checks w1 (and the cluster)."""
    from groundwork.cli import main
    from groundwork.phases import UP, Context, Options, run
    from groundwork.verify import verify
    from groundwork.verify.expect import CNI_CONFIG

    assert first_up.ok
    argv = ssh.target(spec, "w1").argv([f"echo drifted > {CNI_CONFIG}"])
    subprocess.run(argv, check=True, timeout=60)
    context = Context(spec, Options(live=False, verify=False, limit=("w1",)))
    result = run(UP, context)
    summary = context.summary
    assert result.ok and summary is not None, result.describe_failure()
    assert [h.name for h in summary.hosts] == ["w1"]
    assert summary.changed_by_host()["w1"] > 0
    report = verify(spec, limit=("w1",))
    assert report.ok, report.summary()
    assert {r.node for r in report.results} == {"w1", "(cluster)"}
    # A node the stack does not have is named before anything runs.
    assert main(["up", "--stack", STACK, "--limit", "w9", "--no-lab"]) == 1


def test_dry_run_previews_each_hosts_changes_and_changes_nothing(
    spec: ClusterSpec, first_up: RunSummary
) -> None:
    """`up --dry-run` on a converged cluster finds nothing to change and runs
    verify; with a node's file drifted it names the node, the task and the
    file, and leaves the drift in place."""
    from groundwork.phases import UP, Context, Options, run
    from groundwork.phases.runner import Status
    from groundwork.verify.expect import CNI_CONFIG

    assert first_up.ok

    def dry_run() -> dict[str, tuple[Status, str, str]]:
        result = run(UP, Context(spec, Options(live=False, dry_run=True)))
        assert result.ok, result.describe_failure()
        return {p.name: (p.status, p.message, p.output) for p in result.phases}

    phases = dry_run()
    for name in ("site", "kubernetes"):
        assert phases[name][:2] == (Status.PREVIEWED, "no node would change"), phases[name]
    assert phases["addons"][0] is Status.PREVIEWED, phases["addons"]
    assert phases["addons"][1].startswith("none of the"), phases["addons"]
    assert phases["verify"][0] is Status.PASSED, phases["verify"]

    argv = ssh.target(spec, "w1").argv([f"echo drifted > {CNI_CONFIG}"])
    subprocess.run(argv, check=True, timeout=60)
    phases = dry_run()
    status, message, output = phases["site"]
    assert (status, message) == (Status.PREVIEWED, "would change w1"), phases["site"]
    assert f"w1:   writes {CNI_CONFIG}" in output.splitlines(), output
    # Checks after a change it would make are planned, not run on the old state.
    assert phases["verify"][0] is Status.PLANNED
    argv = ssh.target(spec, "w1").argv([f"cat {CNI_CONFIG}"])
    kept = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
    assert kept.stdout == "drifted\n"
    repaired = provision(spec)
    assert repaired.ok and repaired.changed_by_host()["w1"] > 0


def test_a_changed_pod_cidr_is_refused_before_any_phase_touches_anything(
    spec: ClusterSpec, first_up: RunSummary, tmp_path: Path
) -> None:
    """`up` of the stack with another network.podCidr exits 2, naming the
    field and the rebuild, and no phase after the refusal runs: no playbook
    ran, the inventory is as it was, no node has a file newer than a marker,
    and the record still holds the running cluster's network."""
    from groundwork.applied import read_applied
    from groundwork.inventory import inventory_dir
    from groundwork.paths import state_dir
    from groundwork.spec.load import resolve_stack

    assert first_up.ok
    record = read_applied(spec.name)
    # The up above recorded the network it brought up: that is what is compared.
    assert record is not None and record.network is not None
    document = yaml.safe_load(resolve_stack(STACK).read_text())
    network = document["config"]["groundwork:cluster"]["network"]
    assert network["podCidr"] != MOVED_POD_CIDR
    network["podCidr"] = MOVED_POD_CIDR
    moved = tmp_path / f"Pulumi.{spec.name}.yaml"
    moved.write_text(yaml.safe_dump(document, sort_keys=False))

    def files(directory: Path) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}

    runs = state_dir(spec.name) / "runner" / "artifacts"
    before_runs = set(runs.iterdir())
    before_inventory = files(inventory_dir(spec.name))
    marker = "/run/groundwork-network-marker"
    for n in spec.nodes:
        must(spec, n.name, f"touch {marker}")
    # The preview first: were it not refused, the real run would renumber the lab.
    for dry_run in (["--dry-run"], []):
        argv = [sys.executable, "-c", CLI, "up", "--stack-file", str(moved), "--no-lab", *dry_run]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        said = " ".join((out.stdout + out.stderr).split())  # rich wraps long lines
        assert out.returncode == 2, said
        assert "cluster.network.podCidr" in said and "rebuild" in said, said
        assert f"the stack declares {MOVED_POD_CIDR}" in said, said
    assert set(runs.iterdir()) == before_runs
    assert files(inventory_dir(spec.name)) == before_inventory
    for n in spec.nodes:
        newer = must(spec, n.name, f"find /etc /opt /usr/local -newer {marker} | head -5")
        assert newer.strip() == "", f"{n.name}: {newer}"
    assert read_applied(spec.name) == record

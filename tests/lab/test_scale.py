"""Scale on the lab: nodes added to and removed from a running cluster.

One private lab (stack `scale`, 10.79.0.0/24), driven through one scenario:
3 control-plane + etcd nodes and a worker, then

- a worker added: only /etc/hosts and the pod routes change elsewhere;
- two etcd/control-plane nodes added (joining one at a time with
  `initial-cluster-state: existing`): the members are healthy, no current
  member's etcd configuration changes or restarts;
- a removal while a remaining member is down: refused before any change;
- the two members and the worker removed: etcd healthy with the three left,
  the removed nodes reset (no etcd service or data) and still reachable;
- removing 2 of the 3 members at once: refused before any node is contacted.

The lab is torn down at the end of the module. Timings are printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from _lab import must, provision

from groundwork import lab
from groundwork.applied import forget_applied, read_applied
from groundwork.paths import PROJECT_ROOT, state_dir
from groundwork.plan.membership import ScaleRefused
from groundwork.runner import RunSummary
from groundwork.spec import ClusterSpec, load_stack

pytestmark = pytest.mark.lab

NAME = "scale"
NET = "10.79.0"
CP = ["control-plane", "etcd"]

# What a node that stays may change when another node comes or goes: the
# files that list every node, nothing else (exact task names, then paths).
HOSTS_AND_ROUTES = {
    "common: Write the package source, module, sysctl and chrony configuration and the "
    "cluster's /etc/hosts block",
    "network: Write the CNI configuration, the pod routes and their unit",
    "network: Restore missing or stale pod routes",
    "network: Apply pod routes",
}
# ... and on control-plane nodes when a control-plane node comes or goes:
# the haproxy backends and keepalived's peers.
BACKENDS = {
    "apiserver_lb: Configure haproxy and keepalived",
    "apiserver_lb: Reload haproxy",
    "apiserver_lb: Restart keepalived",
}


def node(name: str, last: int, roles: list[str]) -> dict[str, Any]:
    return {"name": name, "address": f"{NET}.{last}", "roles": roles, "ssh": {"key": "lab"}}


BASE = [node("cp1", 11, CP), node("cp2", 12, CP), node("cp3", 13, CP), node("w1", 21, ["worker"])]
W2 = node("w2", 22, ["worker"])
NEW_MEMBERS = [node("cp4", 14, CP), node("cp5", 15, CP)]


def write_stack(directory: Path, label: str, nodes: list[dict[str, Any]]) -> ClusterSpec:
    """The lab stack renamed onto this test's own subnet, with these nodes."""
    lab_stack = yaml.safe_load((PROJECT_ROOT / "stacks" / "Pulumi.lab.yaml").read_text())
    cluster = lab_stack["config"]["groundwork:cluster"]
    cluster.update(
        name=NAME,
        nodes=nodes,
        controlPlane={"endpoint": {"vip": f"{NET}.10", "port": 6443}},
        artifacts={"source": "mirror", "mirror": f"http://{NET}.1:8080"},
        lab={"subnet": f"{NET}.0/24", "gateway": f"{NET}.1", "mirrorPort": 8080},
    )
    path = directory / f"Pulumi.{label}.yaml"
    path.write_text(yaml.safe_dump(lab_stack, sort_keys=False))
    return load_stack(str(path))


class Stacks:
    def __init__(self, directory: Path) -> None:
        self.base = write_stack(directory, "base", BASE)
        self.worker = write_stack(directory, "worker", [*BASE, W2])
        self.members = write_stack(directory, "members", [*BASE, W2, *NEW_MEMBERS])
        self.one_member = write_stack(directory, "one-member", [BASE[0], BASE[3]])


# What `up` announced (its progress lines) in the last call of up().
announced: list[str] = []


def up(spec: ClusterSpec) -> tuple[RunSummary, float]:
    announced.clear()

    def progress(line: str) -> None:
        announced.append(line)
        print(line)

    started = time.monotonic()
    # The substrate's membership (etcd joins and leaves, workers added and
    # removed); the Kubernetes layer has tests of its own.
    summary = provision(spec, kubernetes=False, progress=progress)
    return summary, time.monotonic() - started


def announced_changes() -> list[str]:
    return [line for line in announced if line.startswith("scale: ")]


def assert_ok(summary: RunSummary) -> None:
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status


# The files those tasks may change: the node list and the pod routes, and on
# control-plane nodes the haproxy backends and keepalived's peers.
NODE_LIST_PATHS = {"/etc/hosts", "/etc/groundwork/pod-routes"}
BACKEND_PATHS = {"/etc/haproxy/haproxy.cfg", "/etc/keepalived/keepalived.conf"}


def changed_tasks(summary: RunSummary) -> dict[str, set[str]]:
    return {h.name: set(h.changed_tasks) for h in summary.hosts}


def changed_paths(summary: RunSummary) -> dict[str, set[str]]:
    return {h.name: set(h.changed_paths) for h in summary.hosts}


def etcdctl(*args: str) -> str:
    return ". /etc/etcd/etcdctl.env && etcdctl --command-timeout=5s " + " ".join(args)


def members(spec: ClusterSpec, via: str = "cp1") -> dict[str, str]:
    """name -> status of every member, read from one member."""
    out = must(spec, via, etcdctl("member", "list"))
    rows = [[f.strip() for f in line.split(",")] for line in out.splitlines() if line.strip()]
    return {row[2]: row[1] for row in rows}


def healthy_endpoints(spec: ClusterSpec, via: str = "cp1") -> int:
    return must(spec, via, etcdctl("endpoint", "health", "--cluster")).count("is healthy")


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stacks]:
    found = Stacks(tmp_path_factory.mktemp("scale-stacks"))
    widest = found.members
    # A clean start: machines or a record left by an interrupted run would
    # carry another cluster's etcd data.
    lab.down(widest)
    forget_applied(NAME)
    yield found
    lab.down(widest)
    forget_applied(NAME)
    assert lab.leftovers(widest) == []


@pytest.fixture(scope="module")
def base(stacks: Stacks) -> ClusterSpec:
    summary, seconds = up(stacks.base)
    assert_ok(summary)
    print(f"[scale] first up of 4 nodes: {seconds:.1f} s")
    record = read_applied(NAME)
    assert record is not None
    assert [m.name for m in record.members] == ["cp1", "cp2", "cp3"]
    assert {m.bootstrap.state for m in record.members} == {"new"}
    return stacks.base


def test_adding_a_worker_changes_only_the_node_lists_elsewhere(
    stacks: Stacks, base: ClusterSpec
) -> None:
    summary, seconds = up(stacks.worker)
    assert_ok(summary)
    print(f"[scale] add a worker: {seconds:.1f} s")
    assert announced_changes() == ["scale: add w2"]
    changed = changed_tasks(summary)
    paths = changed_paths(summary)
    assert changed["w2"], "the new worker was not provisioned"
    for name in ("cp1", "cp2", "cp3", "w1"):
        assert changed[name], f"{name} does not list w2"
        assert changed[name] <= HOSTS_AND_ROUTES, (name, changed[name] - HOSTS_AND_ROUTES)
        assert paths[name] <= NODE_LIST_PATHS | BACKEND_PATHS, (name, paths[name])
    assert "w2" in must(stacks.worker, "cp1", "cat /etc/hosts")
    assert "10.244.22.0/24" in must(stacks.worker, "w1", "ip -4 route show proto 201")


def test_adding_two_members_joins_them_one_at_a_time(stacks: Stacks, base: ClusterSpec) -> None:
    spec = stacks.members
    before = {
        n: must(spec, n, "systemctl show -p ActiveEnterTimestampMonotonic etcd").strip()
        for n in ("cp1", "cp2", "cp3")
    }
    summary, seconds = up(spec)
    assert_ok(summary)
    print(f"[scale] add two etcd/control-plane nodes: {seconds:.1f} s")
    assert announced_changes() == ["scale: add cp4, joins etcd", "scale: add cp5, joins etcd"]
    assert members(spec) == {f"cp{i}": "started" for i in range(1, 6)}
    assert healthy_endpoints(spec) == 5
    for name in ("cp4", "cp5"):
        conf = yaml.safe_load(must(spec, name, "cat /etc/etcd/etcd.conf.yml"))
        assert conf["initial-cluster-state"] == "existing"
    assert (
        yaml.safe_load(must(spec, "cp4", "cat /etc/etcd/etcd.conf.yml"))["initial-cluster"].count(
            "=https://"
        )
        == 4
    )
    changed = changed_tasks(summary)
    paths = changed_paths(summary)
    for name in ("cp1", "cp2", "cp3"):
        # No current member's etcd configuration changed, none restarted.
        assert changed[name] <= HOSTS_AND_ROUTES | BACKENDS, (name, changed[name])
        assert paths[name] <= NODE_LIST_PATHS | BACKEND_PATHS, (name, paths[name])
        now = must(spec, name, "systemctl show -p ActiveEnterTimestampMonotonic etcd").strip()
        assert now == before[name], f"etcd restarted on {name}"
    for name in ("w1", "w2"):
        assert changed[name] <= HOSTS_AND_ROUTES, (name, changed[name])
        assert paths[name] <= NODE_LIST_PATHS, (name, paths[name])
    record = read_applied(NAME)
    assert record is not None
    assert [m.name for m in record.members] == ["cp1", "cp2", "cp3", "cp4", "cp5"]


def test_removal_is_refused_while_a_remaining_member_is_down(
    stacks: Stacks, base: ClusterSpec
) -> None:
    spec = stacks.members
    must(spec, "cp3", "systemctl stop etcd")
    try:
        summary, _ = up(stacks.base)
        assert not summary.ok
        assert any("a remaining member is unhealthy" in f.message for f in summary.failures), [
            f.describe() for f in summary.failures
        ]
        assert summary.changed == 0, changed_tasks(summary)
        # Refused before the drain and the membership removal: all still there.
        assert set(members(spec)) == {f"cp{i}" for i in range(1, 6)}
        for name in ("cp4", "cp5"):
            assert must(spec, name, "systemctl is-active etcd").strip() == "active"
    finally:
        must(spec, "cp3", "systemctl start etcd")
    deadline = time.monotonic() + 60
    while healthy_endpoints(spec) != 5:
        assert time.monotonic() < deadline, "cp3 did not come back"
        time.sleep(1)


def test_removing_two_members_and_a_worker(stacks: Stacks, base: ClusterSpec) -> None:
    wide = stacks.members
    summary, seconds = up(stacks.base)
    assert_ok(summary)
    print(f"[scale] remove two etcd/control-plane nodes and a worker: {seconds:.1f} s")
    assert announced_changes() == [
        "scale: remove w2 (10.79.0.22): drain, then reset",
        "scale: remove cp4 (10.79.0.14, leaves etcd): drain, then reset",
        "scale: remove cp5 (10.79.0.15, leaves etcd): drain, then reset",
    ]
    assert members(wide) == {"cp1": "started", "cp2": "started", "cp3": "started"}
    assert healthy_endpoints(wide) == 3
    for name in ("cp4", "cp5", "w2"):
        # Reset, and a new SSH session still works (this one).
        state = must(wide, name, "systemctl list-unit-files --no-legend etcd.service | wc -l")
        assert state.strip() == "0", f"{name} still has an etcd service"
        assert must(wide, name, "ls -d /var/lib/etcd /etc/etcd 2>/dev/null | wc -l").strip() == "0"
    assert "w2" not in must(wide, "cp1", "cat /etc/hosts")
    changed = changed_tasks(summary)
    paths = changed_paths(summary)
    for name in ("cp2", "cp3"):
        assert changed[name] <= HOSTS_AND_ROUTES | BACKENDS, (name, changed[name])
    # cp1 also ran the membership removal.
    assert changed["cp1"] <= HOSTS_AND_ROUTES | BACKENDS | {"Remove the members"}
    assert changed["w1"] <= HOSTS_AND_ROUTES
    for name in ("cp1", "cp2", "cp3"):
        assert paths[name] <= NODE_LIST_PATHS | BACKEND_PATHS, (name, paths[name])
    assert paths["w1"] <= NODE_LIST_PATHS, paths["w1"]
    record = read_applied(NAME)
    assert record is not None
    assert [n.name for n in record.nodes] == ["cp1", "cp2", "cp3", "w1"]
    assert [m.name for m in record.members] == ["cp1", "cp2", "cp3"]


def test_losing_quorum_is_refused_before_any_change(stacks: Stacks, base: ClusterSpec) -> None:
    spec = stacks.base
    runs = state_dir(NAME) / "runner" / "artifacts"
    before_runs = set(runs.iterdir())
    marker = "/run/groundwork-scale-marker"
    for n in spec.nodes:
        must(spec, n.name, f"touch {marker}")
    with pytest.raises(ScaleRefused) as refused:
        provision(stacks.one_member, kubernetes=False)
    (problem,) = refused.value.problems
    assert problem.path == "cluster.nodes"
    assert "removes 2 of the 3 current etcd members (cp2, cp3)" in problem.message
    # No playbook ran, and no node has a file newer than the marker.
    assert set(runs.iterdir()) == before_runs
    for n in spec.nodes:
        newer = must(spec, n.name, f"find /etc /opt /usr/local -newer {marker} | head -5")
        assert newer.strip() == "", f"{n.name}: {newer}"
    assert members(spec) == {"cp1": "started", "cp2": "started", "cp3": "started"}

"""Pre-flight on the lab: a bad node stops the run before any node is changed.

Each test copies the generated inventory and breaks one host in it the way
a wrong stack or a wrong machine would (an address the node does not hold,
an SSH key the node does not accept), runs site.yml, and checks that the run
stopped in the pre-flight play, named each bad host with its reason, and
changed nothing anywhere. The last one copies the stack instead, asking for
storage the lab's kernel cannot serve, and runs `up`. The stack defaults to
the lab stack; GROUNDWORK_PREFLIGHT_LAB_STACK points at another stack file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from _lab import provision
from rich.console import Console

from groundwork import lab
from groundwork.paths import state_dir
from groundwork.phases import Context, Pipeline, run
from groundwork.phases.inventory import Inventory
from groundwork.phases.pki import Pki
from groundwork.plan import build_plan
from groundwork.runner import RunOptions, RunSummary, run_playbook
from groundwork.spec import ClusterSpec, load_stack
from groundwork.spec.load import resolve_stack

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_PREFLIGHT_LAB_STACK", "lab")
PREFLIGHT_TASK = "Check that the node is ready"


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    spec = load_stack(STACK)
    assert lab.up(spec).up, "the lab did not come up"
    return spec


@pytest.fixture(scope="module")
def inventory(spec: ClusterSpec) -> Path:
    context = Context(spec)
    result = run(Pipeline("prepare", (Pki(), Inventory())), context)
    assert result.ok, result.describe_failure()
    return context.rendered_inventory()


def broken_copy(inventory: Path, tmp_path: Path, changes: dict[str, dict[str, Any]]) -> Path:
    """The inventory with some hosts' variables replaced."""
    copy = tmp_path / inventory.name
    shutil.copytree(inventory, copy)
    hosts_file = copy / "hosts.yml"
    document = yaml.safe_load(hosts_file.read_text())
    for host, variables in changes.items():
        document["all"]["hosts"][host].update(variables)
    hosts_file.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


def run_site(spec: ClusterSpec, inventory: Path) -> RunSummary:
    options = RunOptions(host_count=len(spec.nodes), live=False)
    return run_playbook(
        state_dir(spec.name), inventory, "site.yml", options, console=Console(width=200)
    )


def assert_nothing_ran_past_preflight(summary: RunSummary) -> None:
    assert not summary.ok
    for host in summary.hosts:
        # One task per host at most: the pre-flight check itself.
        assert host.changed == 0, host
        assert host.ok + host.failed + host.unreachable + host.skipped <= 1, host


def test_a_node_without_its_declared_address_stops_everything(
    spec: ClusterSpec, inventory: Path, tmp_path: Path
) -> None:
    node = spec.nodes[1]
    wrong = "10.255.255.77"
    summary = run_site(
        spec, broken_copy(inventory, tmp_path, {node.name: {"gw_node_address": wrong}})
    )
    assert_nothing_ran_past_preflight(summary)
    (failure,) = summary.failures
    assert (failure.host, failure.task) == (node.name, PREFLIGHT_TASK)
    assert f"holds no address {wrong}" in failure.message


def test_a_key_the_node_refuses_is_named_with_the_host(
    spec: ClusterSpec, inventory: Path, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    wrong_key = spec.nodes[-1].name
    wrong_address = spec.nodes[0].name
    changes = {
        wrong_key: {"ansible_ssh_private_key_file": str(stranger)},
        wrong_address: {"gw_node_address": "10.255.255.78"},
    }
    summary = run_site(spec, broken_copy(inventory, tmp_path, changes))
    assert_nothing_ran_past_preflight(summary)
    by_host = {f.host: f for f in summary.failures}
    # Every problem at once: the refused key and the other node's address.
    assert set(by_host) == {wrong_key, wrong_address}
    assert by_host[wrong_key].unreachable
    assert "the node refused the SSH key" in by_host[wrong_key].message
    assert "holds no address 10.255.255.78" in by_host[wrong_address].message


def test_nfs_storage_on_a_kernel_without_an_nfs_client_stops_everything(
    spec: ClusterSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab's kernel has no NFS client (nfs is not in /proc/filesystems and
    the machines have no /lib/modules): `up` of the stack with an nfs class
    is refused by the pre-flight on every node that runs pods, naming the
    class's field, before any node is changed."""
    source = resolve_stack(STACK)
    document = yaml.safe_load(source.read_text())
    cluster = document["config"]["groundwork:cluster"]
    classes = cluster.setdefault("storage", {}).setdefault("classes", [])
    field = f"cluster.storage.classes[{len(classes)}].driver"
    export = {"server": "192.0.2.10", "share": "/exports/k8s"}
    classes.append({"name": "shared", "driver": "nfs", "default": not classes, "nfs": export})
    # The copy keeps the stack's name (its lab, PKI and state); its inventory
    # is written beside its own stacks folder, not over the lab's.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    copy = stacks / source.name
    copy.write_text(yaml.safe_dump(document, sort_keys=False))
    monkeypatch.setenv("GROUNDWORK_STACKS_DIR", str(stacks))
    with_nfs = load_stack(str(copy))
    assert with_nfs.name == spec.name

    summary = provision(with_nfs)
    assert_nothing_ran_past_preflight(summary)
    kubelets = {n.name for n in build_plan(with_nfs).nodes if n.runs_kubelet}
    by_host = {f.host: f for f in summary.failures}
    # Every node that runs pods, in the same run.
    assert set(by_host) == kubelets
    for host, failure in by_host.items():
        assert failure.task == PREFLIGHT_TASK, failure.describe()
        assert "the kernel has no NFS client (storage class shared, " in failure.message, host
        assert field in failure.message, failure.message

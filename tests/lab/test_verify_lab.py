"""`groundwork verify` on a provisioned lab: passes, then names the node and the
check when something is broken on a node (drift). The repair by `up` is tested
with the roles.

The stack defaults to the lab stack; GROUNDWORK_VERIFY_LAB_STACK points at
another stack file (a private lab, so engineers do not collide), and
GROUNDWORK_VERIFY_LAB_PROVISIONED=1 skips the provisioning run when iterating.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _lab import provision, show

from groundwork import certs
from groundwork.pki import pki_dir
from groundwork.plan import build_plan
from groundwork.spec import ClusterSpec, Role, load_stack
from groundwork.verify import connect, verify
from groundwork.verify.expect import expectations

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_VERIFY_LAB_STACK", "lab")


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def provisioned(spec: ClusterSpec) -> ClusterSpec:
    if os.environ.get("GROUNDWORK_VERIFY_LAB_PROVISIONED") == "1":
        return spec  # iterating on an already provisioned lab
    summary = provision(spec)
    assert summary.status == "successful", f"provisioning failed: {summary}"
    return spec


def ssh(spec: ClusterSpec, node: str, command: str) -> str:
    config = connect.write_ssh_config(spec)
    address = str(spec.node(node).address)
    out = subprocess.run(
        ["ssh", "-F", str(config), address, command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, f"{node}: {command}: {out.stderr}"
    return out.stdout


def test_verify_passes_on_a_provisioned_lab(provisioned: ClusterSpec, tmp_path: Path) -> None:
    junit = tmp_path / "verify.xml"
    report = verify(provisioned, junit=junit)
    assert report.ok, show(report)
    assert junit.exists()
    names = {r.node for r in report.results}
    assert {n.name for n in provisioned.nodes} <= names
    checks = {r.check for r in report.results}
    for expected in (
        "etcd members",
        "etcd requires client certificate",
        "vip held by exactly one node",
        # The pod network: the cluster's pods (the probe containers prove it
        # when only the substrate is checked).
        "pod to pod",
        "sysctls",
        "containerd cgroup driver",
    ):
        assert expected in checks


def test_certs_check_reads_every_certificate_each_node_serves(provisioned: ClusterSpec) -> None:
    """`groundwork certs check`: the PKI, and what each apiserver, kubelet and
    etcd member serves over TLS right now, all far from expiry."""
    rows = certs.check(provisioned, build_plan(provisioned), pki_dir(provisioned.name))
    now = certs.now()
    served = [r for r in rows if r.where != "controller"]
    assert not [r for r in rows if not r.ok(now, certs.MIN_CERTIFICATE_DAYS)], rows
    expected = len(certs.endpoints(provisioned, build_plan(provisioned)))
    assert len(served) == expected
    assert {r.where for r in served} == {n.name for n in provisioned.nodes}


@pytest.fixture
def stopped_etcd_member(provisioned: ClusterSpec) -> Iterator[str]:
    member = provisioned.nodes_with(Role.ETCD)[-1].name
    ssh(provisioned, member, "systemctl stop etcd.service")
    try:
        yield member
    finally:
        ssh(provisioned, member, "systemctl start etcd.service")


def test_verify_names_a_stopped_etcd_member(
    provisioned: ClusterSpec, stopped_etcd_member: str
) -> None:
    report = verify(provisioned)
    assert not report.ok
    failed = {(r.node, r.check) for r in report.failures}
    member = stopped_etcd_member
    assert (member, "etcd service") in failed, show(report)
    service = next(r for r in report.failures if r.node == member and r.check == "etcd service")
    assert any(
        d.what == "etcd.service active" and d.declared == "active" and d.live != "active"
        for d in service.drifts
    ), show(report)
    # The surviving members see the member as unhealthy, and name it.
    others = [r for r in report.failures if r.check == "etcd members" and r.node != member]
    assert others, show(report)
    assert all(any(d.what == f"{member} health" for d in r.drifts) for r in others)
    # Nothing unrelated to etcd is reported.
    assert all(r.check.startswith("etcd") for r in report.failures), show(report)


@pytest.fixture
def changed_sysctl(provisioned: ClusterSpec) -> Iterator[str]:
    node = provisioned.nodes[-1].name
    before = ssh(provisioned, node, "sysctl -n net.ipv4.ip_forward").strip()
    ssh(provisioned, node, "sysctl -w net.ipv4.ip_forward=0")
    try:
        yield node
    finally:
        ssh(provisioned, node, f"sysctl -w net.ipv4.ip_forward={before}")


def test_verify_names_a_changed_sysctl(provisioned: ClusterSpec, changed_sysctl: str) -> None:
    report = verify(provisioned)
    assert not report.ok
    node = changed_sysctl
    sysctls = [r for r in report.failures if r.node == node and r.check == "sysctls"]
    assert sysctls, show(report)
    assert [(d.what, d.declared, d.live) for d in sysctls[0].drifts] == [
        ("sysctl net.ipv4.ip_forward", "1", "0")
    ]
    # Only that node's sysctls differ.
    assert not [r for r in report.failures if r.check == "sysctls" and r.node != node]


@pytest.fixture
def removed_pod_route(provisioned: ClusterSpec) -> Iterator[tuple[str, str]]:
    """Delete, on the first worker, the route to the last node's pod subnet."""
    expect = expectations(provisioned)
    source = next(n for n in expect.nodes if n.has("worker"))
    route = next(r for r in source.routes if r.node == expect.nodes[-1].name)
    ssh(provisioned, source.name, f"ip route del {route.subnet}")
    try:
        yield source.name, route.node
    finally:
        # The roles' own unit puts the routes back (what `up` would do).
        ssh(provisioned, source.name, "systemctl restart groundwork-routes.service")


def test_verify_names_a_missing_pod_route(
    provisioned: ClusterSpec, removed_pod_route: tuple[str, str]
) -> None:
    source, target = removed_pod_route
    report = verify(provisioned)
    assert not report.ok
    failed = {(r.node, r.check): r for r in report.failures}
    assert (source, "pod routes") in failed, show(report)
    assert [d.live for d in failed[(source, "pod routes")].drifts] == ["(no route)"]
    # The data plane agrees: the cluster's netcheck pods on those two nodes
    # cannot dial each other (and a Service answered by one is not reached
    # from the other).
    pod_to_pod = failed.get(("(cluster)", "pod to pod"))
    assert pod_to_pod is not None, show(report)
    assert any(f"{source} -> {target}" in d.what for d in pod_to_pod.drifts), show(report)
    assert all(source in d.what or target in d.what for d in pod_to_pod.drifts), show(report)
    assert {node for node, _ in failed} <= {source, target, "(cluster)"}, show(report)
    # So do the substrate's probe containers, which prove the pod network
    # when the Kubernetes layer is not checked.
    substrate = verify(provisioned, kubernetes=False)
    probes = {(r.node, r.check): r for r in substrate.failures}.get((source, "pod network"))
    assert probes is not None, show(substrate)
    assert any(f"pod on {target}" in d.what and d.live == "unreachable" for d in probes.drifts)

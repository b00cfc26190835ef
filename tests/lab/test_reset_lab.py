"""`destroy` and `rebuild` on the lab: destroy leaves clean nodes that still
answer SSH; rebuild brings them back, verified, with one JUnit report.

The stack defaults to the lab stack; GROUNDWORK_FAULTS_LAB_STACK names
another stack file (a private lab).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _lab import converge_and_verify, must
from rich.console import Console

from groundwork.phases import REBUILD, Context, Options, Status, run
from groundwork.phases.destroy import destroy
from groundwork.spec import ClusterSpec, Role, load_stack
from groundwork.spec.model import VipEndpoint
from groundwork.verify import verify

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_FAULTS_LAB_STACK", "lab")
VERIFY_ROOTFS = "/var/lib/groundwork-verify"
# What the roles (and verify) leave on a node, gone after a reset.
GONE = (
    "/etc/etcd",
    "/var/lib/etcd",
    "/opt/etcd",
    "/usr/local/bin/etcd",
    "/etc/systemd/system/etcd.service",
    "/etc/containerd/config.toml",
    "/etc/cni/net.d/10-groundwork.conflist",
    "/var/lib/cni",
    "/etc/keepalived/keepalived.conf",
    "/etc/groundwork",
    "/etc/sysctl.d/90-groundwork.conf",
    "/opt/cni/bin",
    VERIFY_ROOTFS,
)
SERVICES = ("etcd", "containerd", "haproxy", "keepalived", "groundwork-routes")


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def verified(spec: ClusterSpec) -> ClusterSpec:
    converge_and_verify(spec)
    return spec


def test_destroy_leaves_clean_nodes_that_answer_ssh(verified: ClusterSpec) -> None:
    spec = verified
    pod_node = spec.nodes_with(Role.WORKER)[0].name
    # verify of the substrate starts its probe containers and leaves their
    # rootfs: the reset below must remove it.
    assert verify(spec, kubernetes=False).ok
    assert must(spec, pod_node, f"test -d {VERIFY_ROOTFS} && echo yes").strip() == "yes"

    result = destroy(Context(spec, Options(live=False), Console(width=160)))
    assert result.ok, result.problems()
    assert result.summary is not None
    assert sorted(c.node for c in result.ssh) == sorted(n.name for n in spec.nodes)
    assert all(c.ok for c in result.ssh)

    endpoint = spec.control_plane.endpoint
    vip = str(endpoint.vip) if isinstance(endpoint, VipEndpoint) else None
    report = (
        f"for p in {' '.join(GONE)}; do [ -e $p ] || [ -L $p ] && echo present $p; done; "
        f"for u in {' '.join(SERVICES)}; do echo active $u $(systemctl is-active $u); "
        "s=$(systemctl is-enabled $u 2>/dev/null); echo enabled $u ${s:-absent}; done; "
        "ip -o link show cni0 >/dev/null 2>&1 && echo present cni0; "
        "echo routes $(ip -4 route show proto 201 | wc -l); "
        "grep -q 'groundwork cluster nodes' /etc/hosts && echo present hosts-block; "
        "ip -o -4 addr show"
    )
    for node in spec.nodes:
        out = must(spec, node.name, report)
        lines = out.splitlines()
        assert [line for line in lines if line.startswith("present ")] == [], node.name
        for unit in SERVICES:
            assert f"active {unit} inactive" in lines, (node.name, out)
            assert f"enabled {unit} disabled" in lines or f"enabled {unit} absent" in lines, (
                node.name,
                out,
            )
        assert "routes 0" in lines, (node.name, out)
        if vip is not None:
            assert f" {vip}/" not in out, f"{node.name} still holds the VIP"


def test_rebuild_brings_the_nodes_back_verified(verified: ClusterSpec, tmp_path: Path) -> None:
    spec = verified
    junit = tmp_path / "rebuild.xml"
    context = Context(spec, Options(live=False, junit=junit), Console(width=160))
    result = run(REBUILD, context)
    assert result.ok, result.describe_failure()
    # Every phase ran but two: after the destroy nothing runs to upgrade
    # (release), and an unchanged stack has no node to remove and no etcd
    # member to add (membership).
    ran = [p.name for p in result.phases if p.status is Status.PASSED]
    assert ran == [p.name for p in REBUILD.phases if p.name not in ("release", "membership")]
    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    steps = suites["rebuild"].findall("testcase")
    assert [c.get("name") for c in steps] == [p.name for p in REBUILD.phases]
    assert all(c.find("failure") is None for c in steps)
    skipped = [c.get("name") for c in steps if c.find("skipped") is not None]
    assert skipped == ["release", "membership"]
    checks = suites[f"verify {spec.name}"].findall("testcase")
    assert len(checks) > 50
    assert all(c.find("failure") is None and c.find("error") is None for c in checks)

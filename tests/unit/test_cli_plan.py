"""`groundwork validate` and `groundwork plan`, run in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from _stacks import ipvs_lab

from groundwork.cli import main
from groundwork.cli.plan import pod_routing
from groundwork.plan import build_plan
from groundwork.spec import load_stack
from groundwork.spec.load import stack_path


def _write(tmp_path: Path, cluster: dict[str, object]) -> Path:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": cluster}}))
    return path


@pytest.mark.parametrize("stack", ["lab", "dev", "prod"])
def test_validate_valid_stack(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", stack]) == 0
    assert f"stack {stack} is valid" in capsys.readouterr().out


def test_validate_stack_file_shows_warnings_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--stack-file", str(ipvs_lab(tmp_path))]) == 0
    out, err = capsys.readouterr()
    assert "stack lab is valid" in out
    assert "warning cluster.kubernetes.kubeProxy" in err


def test_validate_invalid_lists_every_problem_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = yaml.safe_load(stack_path("dev").read_text())["config"]["groundwork:cluster"]
    cluster["network"]["podCidr"] = "10.96.0.0/16"  # inside the service CIDR
    cluster["network"]["nodeMtu"] = 1300  # too small for vxlan
    cluster["nodes"][2]["address"] = "10.20.0.21"  # duplicate of w1
    path = _write(tmp_path, cluster)
    assert main(["validate", "--stack-file", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert all(re.match(r"^cluster[\w.\[\]-]*: ", line) for line in lines), lines
    paths = {line.split(":", 1)[0] for line in lines}
    assert {
        "cluster.network.podCidr",
        "cluster.network.nodeMtu",
        "cluster.nodes[2].address",
    } <= paths


def test_validate_reports_pod_subnet_collisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = yaml.safe_load(stack_path("dev").read_text())["config"]["groundwork:cluster"]
    cluster["network"]["nodeCidr"] = "10.20.0.0/16"
    cluster["nodes"][2]["address"] = "10.20.1.21"  # same last octet as w1
    path = _write(tmp_path, cluster)
    assert main(["plan", "--stack-file", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        line for line in lines if line.startswith("cluster.nodes[2].address: gets pod subnet")
    ]
    assert "the same as cluster.nodes[1] (dev-w1)" in lines[0]


def test_unreadable_stack_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_bytes(b"config:\n  \xff\xfe broken\n")
    assert main(["validate", "--stack-file", str(path)]) == 1
    assert main(["plan", "--stack-file", str(path)]) == 1
    assert "cannot read the stack" in capsys.readouterr().err


@pytest.mark.parametrize("stack", ["lab", "dev", "prod"])
def test_plan_json_matches_build_plan(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", stack, "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # prod's calico has never carried a packet on the lab, and says so.
    unproven = ["cluster.network.plugin"] if stack == "prod" else []
    assert [w["path"] for w in doc.pop("warnings")] == unproven
    # How each node is reached, for CI jobs that place its key (docs/ci).
    spec = load_stack(stack)
    assert doc.pop("ssh") == [
        {"node": n.name, "user": n.ssh.user, "port": n.ssh.port, "key": n.ssh.key}
        for n in spec.nodes
    ]
    assert doc == build_plan(spec).to_dict()


def test_plan_json_carries_the_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In the document for scripts, and on stderr for the person who ran it."""
    assert main(["plan", "--stack-file", str(ipvs_lab(tmp_path)), "-o", "json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert [w["path"] for w in doc["warnings"]] == ["cluster.kubernetes.kubeProxy"]
    assert "deprecated" in doc["warnings"][0]["message"]
    assert "warning cluster.kubernetes.kubeProxy" in err


def test_plan_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    for text in (
        "prod-w8",
        "10.200.28.0/24",
        "calico",
        "https://10.30.0.10:6443",
        "179/tcp",
        "https://10.30.0.11:2380",
        "br_netfilter",
        "net.ipv4.ip_forward = 1",
    ):
        assert text in out, text


def test_help_describes_both_verbs(capsys: pytest.CaptureFixture[str]) -> None:
    for verb in ("validate", "plan"):
        with pytest.raises(SystemExit) as done:
            main([verb, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert "--stack-file" in out and "Exit codes" in out


def test_plan_shows_how_each_nodes_pods_are_reached_where_a_backend_adds_to_the_subnet() -> None:
    underlay = load_stack("lab-underlay")
    assert pod_routing(underlay, build_plan(underlay), "w1") == (
        "gw-shim 10.80.149.1/24, pods 10.80.149.2-10.80.149.254"
    )
    bgp = load_stack("lab-bgp")
    assert pod_routing(bgp, build_plan(bgp), "w1") == (
        "BIRD AS 64512, peers 10.81.0.11 (AS 64512), 10.81.0.22 (AS 64512), 10.81.0.1 (AS 64513)"
    )
    lab = load_stack("lab")
    assert pod_routing(lab, build_plan(lab), "w1") == ""

"""`--output json` on the read verbs: one JSON document on stdout, nothing else.

Hosts and podman are replaced only where the verb would contact them
(verify's node checks, the lab's podman queries); everything up to that
point runs for real.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from groundwork import lab
from groundwork.cli import main
from groundwork.cli import verify as verify_cli
from groundwork.lab.state import LabState, NodeState
from groundwork.spec import ClusterSpec
from groundwork.spec.load import stack_path
from groundwork.verify import VerifyReport
from groundwork.verify.report import CheckResult


def _invalid_stack(tmp_path: Path) -> Path:
    cluster = yaml.safe_load(stack_path("dev").read_text())["config"]["groundwork:cluster"]
    cluster["network"]["podCidr"] = "10.96.0.0/16"  # inside the service CIDR
    cluster["nodes"][2]["address"] = "10.20.0.21"  # duplicate of w1
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": cluster}}))
    return path


@pytest.mark.parametrize("stack", ["lab", "dev", "prod"])
def test_validate_json_valid(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", stack, "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True and doc["stack"] == stack
    assert doc["source"] == str(stack_path(stack))
    assert doc["nodes"] > 0


def test_validate_json_carries_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = yaml.safe_load(stack_path("lab").read_text())["config"]["groundwork:cluster"]
    cluster["kubernetes"]["kubeProxy"] = "ipvs"  # legal, deprecated upstream: a warning
    path = tmp_path / "Pulumi.ipvs.yaml"
    path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": cluster}}))
    assert main(["validate", "--stack-file", str(path), "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any(w["path"] == "cluster.kubernetes.kubeProxy" for w in doc["warnings"])


@pytest.mark.parametrize("verb", [["validate"], ["plan"], ["verify"], ["lab", "status"]])
def test_invalid_stack_is_one_json_document(
    verb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _invalid_stack(tmp_path)
    assert main([*verb, "--stack-file", str(path), "--output", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False and doc["source"] == str(path)
    paths = {p["path"] for p in doc["problems"]}
    assert {"cluster.network.podCidr", "cluster.nodes[2].address"} <= paths
    assert all(p["message"] for p in doc["problems"])


def test_invalid_stack_in_table_mode_stays_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--stack-file", str(_invalid_stack(tmp_path))]) == 2
    out = capsys.readouterr().out
    assert out.startswith("cluster.") and not out.lstrip().startswith("{")


@pytest.mark.parametrize("verb", [["validate"], ["plan"], ["verify"], ["lab", "status"]])
def test_missing_stack_is_a_json_error(verb: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*verb, "--stack", "no-such-stack", "-o", "json"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["error"].startswith("no stack named 'no-such-stack'")
    assert (
        "stacks: dev, lab, lab-bgp, lab-flannel, lab-hostgw, lab-underlay, prod" in doc["hint"]
        and doc["problems"] == []
    )
    assert "no stack named" in err  # and for a person, on stderr


def _lab_state(up: bool) -> LabState:
    return LabState(
        stack="lab",
        network="gw-lab",
        network_present=True,
        mirror_url="http://10.77.0.1:8080",
        mirror_running=True,
        kubernetes_available=False,
        nodes=(
            NodeState(
                "cp1", "10.77.0.11", ("control-plane", "etcd"), "gw-lab-cp1", "running", True, True
            ),
            NodeState(
                "w1",
                "10.77.0.21",
                ("worker",),
                "gw-lab-w1",
                "running" if up else "absent",
                up or None,
                up or None,
            ),
        ),
        notes=("a note",),
    )


@pytest.mark.parametrize("up", [True, False])
def test_lab_status_json(
    up: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    def status(spec: ClusterSpec) -> LabState:
        seen.append(spec.name)
        return _lab_state(up)

    monkeypatch.setattr(lab, "status", status)
    assert main(["lab", "status", "--stack", "lab", "--output", "json"]) == (0 if up else 1)
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert seen == ["lab"]
    assert doc["up"] is up and doc["notes"] == ["a note"]
    assert doc["nodes"][0] == {
        "name": "cp1",
        "address": "10.77.0.11",
        "roles": ["control-plane", "etcd"],
        "container": "gw-lab-cp1",
        "state": "running",
        "ssh_ok": True,
        "mirror_ok": True,
    }
    assert doc["nodes"][1]["state"] == ("running" if up else "absent")


def test_verify_json_only_json_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = VerifyReport(
        "lab",
        [
            CheckResult("cp1", "test_etcd_healthy", "passed"),
            CheckResult("w1", "test_sysctls", "failed", message="net.ipv4.ip_forward is 0"),
        ],
        seconds=1.5,
    )
    monkeypatch.setattr(
        verify_cli, "verify", lambda spec, junit, workers, kubernetes, limit: report
    )
    assert main(["verify", "--stack", "lab", "-o", "json"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc == report.to_dict()
    assert doc["passed"] == 1 and doc["failed"] == 1 and doc["ok"] is False
    assert "warning" not in err  # warnings are for people; JSON mode has none

"""The pure parts of `groundwork verify`: expectations from the plan, which nodes
each check runs on, the drift record, junit parsing, the table, ssh_config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from groundwork.spec import load_stack
from groundwork.verify import connect
from groundwork.verify.drift import CLUSTER, Drift, Expect, parse_drift
from groundwork.verify.expect import expectations
from groundwork.verify.report import (
    CheckResult,
    VerifyReport,
    parse_junit,
    split_test_name,
)
from groundwork.verify.run import INFRA_DIR, pytest_argv, stack_document, worker_count

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path / "state"))


# --- expectations from the plan ------------------------------------------------


def test_lab_expectations_follow_the_plan() -> None:
    e = expectations(load_stack("lab"))
    assert [n.name for n in e.nodes] == ["cp1", "cp2", "cp3", "w1", "w2"]
    assert e.vip == "10.77.0.10" and e.endpoint_port == 6443
    assert [n.name for n in e.vip_holders] == ["cp1", "cp2", "cp3"]
    cp1, w1 = e.node("cp1"), e.node("w1")
    assert cp1.services == (
        "containerd",
        "etcd.service",
        # The lab stack declares etcd.snapshots.
        "groundwork-etcd-snapshot.timer",
        "haproxy",
        "keepalived",
    )
    assert w1.services == ("containerd",)
    assert {(listen.port, listen.address) for listen in cp1.listen} == {
        (2379, "10.77.0.11"),
        (2380, "10.77.0.11"),
        (6443, None),
    }
    assert w1.listen == ()
    assert cp1.pod_subnet == "10.244.11.0/24" and w1.pod_subnet == "10.244.21.0/24"
    assert cp1.pod_mtu == 1500
    # A route to every other node's pod subnet via that node, none to itself.
    assert {(r.node, r.subnet, r.via) for r in w1.routes} == {
        ("cp1", "10.244.11.0/24", "10.77.0.11"),
        ("cp2", "10.244.12.0/24", "10.77.0.12"),
        ("cp3", "10.244.13.0/24", "10.77.0.13"),
        ("w2", "10.244.22.0/24", "10.77.0.22"),
    }
    assert [m.name for m in e.etcd_members] == ["cp1", "cp2", "cp3"]
    assert cp1.etcd_member is not None
    assert cp1.etcd_member.client_url == "https://10.77.0.11:2379"
    assert w1.etcd_member is None and w1.etcd_version is None
    assert cp1.sysctls["net.ipv4.ip_forward"] == "1"
    assert "br_netfilter" in cp1.kernel_modules
    assert cp1.cgroup_driver == "systemd" and cp1.containerd_version == "2.3.7"


def test_dns_endpoint_has_no_vip_and_flannel_no_static_routes() -> None:
    e = expectations(load_stack("dev"))
    assert e.vip is None and e.vip_holders == []
    assert all("haproxy" not in n.services for n in e.nodes)
    assert all(n.routes == () for n in e.nodes)
    assert not e.bridge_network


def collect(stack_file: Path, env_state: Path, kubernetes: bool = True) -> list[str]:
    """Node ids of every check tests/infra would run (collection only: no host)."""
    env = dict(
        os.environ,
        GROUNDWORK_STATE_DIR=str(env_state),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        GROUNDWORK_VERIFY_KUBERNETES="1" if kubernetes else "0",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(INFRA_DIR),
            "--collect-only",
            "-q",
            f"--stack-file={stack_file}",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return [line.split("::", 1)[1] for line in out.stdout.splitlines() if "::" in line]


def test_checks_are_parametrized_by_role(tmp_path: Path) -> None:
    ids = collect(ROOT / "stacks" / "Pulumi.lab.yaml", tmp_path / "state")
    assert "test_etcd_members[cp1]" in ids and "test_etcd_members[w1]" not in ids
    assert "test_haproxy_service[cp3]" in ids and "test_haproxy_service[w2]" not in ids
    assert "test_vip_held_by_exactly_one_node[cluster]" in ids
    assert {f"test_sysctls[{n}]" for n in ("cp1", "cp2", "cp3", "w1", "w2")} <= set(ids)


def test_kubernetes_checks_run_unless_only_the_substrate_is_checked(tmp_path: Path) -> None:
    stack_file = ROOT / "stacks" / "Pulumi.lab.yaml"
    ids = collect(stack_file, tmp_path / "state")
    assert {f"test_kubernetes_units[{n}]" for n in ("cp1", "cp2", "cp3", "w1", "w2")} <= set(ids)
    for check in ("apiserver_ready", "nodes_ready", "pods_running", "pod_to_pod"):
        assert f"test_{check}[cluster]" in ids
    for check in ("service_and_dns", "claims_bound", "served_certificates"):
        assert f"test_{check}[cluster]" in ids
    substrate = collect(stack_file, tmp_path / "state", kubernetes=False)
    assert "test_etcd_members[cp1]" in substrate
    # The pod network: probe containers on the substrate, the cluster's pods
    # (test_pod_to_pod) with the Kubernetes layer.
    pod_network = {f"test_pod_network[{n}]" for n in ("cp1", "cp2", "cp3", "w1", "w2")}
    assert pod_network <= set(substrate) and not pod_network & set(ids)
    assert not [i for i in substrate if "kubernetes" in i or i.endswith("ready[cluster]")]
    assert set(ids) - set(substrate) == {i for i in ids if "kube" in i or "[cluster]" in i} - {
        i for i in substrate if "[cluster]" in i
    }
    assert set(substrate) - set(ids) == pod_network


def test_the_policy_check_runs_only_for_a_stack_that_declares_policies(tmp_path: Path) -> None:
    with_policies = collect(ROOT / "stacks" / "Pulumi.lab-bgp.yaml", tmp_path / "a")
    assert "test_network_policies[cluster]" in with_policies
    without = collect(ROOT / "stacks" / "Pulumi.lab.yaml", tmp_path / "b")
    assert not [i for i in without if i.startswith("test_network_policies")]


def test_kubernetes_expectations_follow_the_plan() -> None:
    kube = expectations(load_stack("lab")).kubernetes
    assert kube is not None
    assert kube.version == "v1.36.3" and kube.endpoint_url == "https://10.77.0.10:6443"
    assert [name for name, _ in kube.apiservers] == ["cp1", "cp2", "cp3"]
    assert kube.kubelet_nodes == ("cp1", "cp2", "cp3", "w1", "w2")
    served = {(c.name, c.node): c for c in kube.served}
    apiserver = served[("kube-apiserver", "cp2")]
    assert (apiserver.address, apiserver.port) == ("10.77.0.12", 6444)
    assert "10.77.0.10" in apiserver.ip_sans and "kubernetes.default.svc" in apiserver.dns_sans
    kubelet = served[("kubelet-w1", "w1")]
    assert (kubelet.port, kubelet.ip_sans, kubelet.dns_sans) == (10250, ("10.77.0.21",), ("w1",))


def test_checks_irrelevant_to_a_stack_have_no_instances(tmp_path: Path) -> None:
    # dev: DNS endpoint (no haproxy, keepalived, VIP) and flannel (no bridge CNI).
    ids = collect(ROOT / "stacks" / "Pulumi.dev.yaml", tmp_path / "state")
    assert not [i for i in ids if "haproxy" in i or "keepalived" in i or "vip" in i]
    assert not [i for i in ids if i.startswith(("test_pod_", "test_cni_")) and "[cluster]" not in i]
    assert "test_etcd_members[dev-cp1]" in ids and "test_sysctls[dev-w2]" in ids


# --- the drift record -----------------------------------------------------------


def test_expect_records_every_difference_and_names_the_node() -> None:
    props: list[tuple[str, object]] = []
    e = Expect("w1", "sysctls", lambda k, v: props.append((k, v)))
    assert e.equal("sysctl net.ipv4.ip_forward", "1", "0") is False
    assert e.equal("sysctl vm.panic_on_oom", "0", "0") is True
    e.true("route", False, "via 10.77.0.11", None)
    with pytest.raises(AssertionError) as err:
        e.done()
    text = str(err.value)
    assert text.startswith("w1: sysctls: 2 difference(s)")
    assert "sysctl net.ipv4.ip_forward: declared 1, live 0" in text
    assert "route: declared via 10.77.0.11, live (absent)" in text
    recorded = dict(props)
    assert recorded["node"] == "w1" and recorded["check"] == "sysctls"
    assert parse_drift(str(recorded["drift"])) == [
        Drift("sysctl net.ipv4.ip_forward", "1", "0"),
        Drift("route", "via 10.77.0.11", "(absent)"),
    ]


def test_expect_without_difference_passes() -> None:
    e = Expect("cp1", "hostname", lambda k, v: None)
    e.equal("hostname", "cp1", "cp1")
    e.done()


def test_parse_drift_tolerates_garbage() -> None:
    assert parse_drift("not json") == []
    assert parse_drift('{"a": 1}') == []


# --- junit parsing and the table ------------------------------------------------

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5">
<testcase classname="test_common" name="test_sysctls[cp1]" time="0.12">
  <properties><property name="node" value="cp1"/><property name="check" value="sysctls"/></properties>
</testcase>
<testcase classname="test_common" name="test_sysctls[w1]" time="0.30">
  <properties>
    <property name="node" value="w1"/><property name="check" value="sysctls"/>
    <property name="drift" value='[{"what": "sysctl net.ipv4.ip_forward", "declared": "1", "live": "0"}]'/>
  </properties>
  <failure message="AssertionError: w1: sysctls: 1 difference(s)">details</failure>
</testcase>
<testcase classname="test_etcd" name="test_etcd_members[cp2]" time="3.0">
  <error message="failed on setup with &quot;RuntimeError: ssh: connect to host 10.77.0.12 port 22: No route to host&quot;">trace</error>
</testcase>
<testcase classname="test_apiserver_lb" name="test_vip_held_by_exactly_one_node[cluster]" time="0.2">
  <properties><property name="node" value="(cluster)"/><property name="check" value="vip held by exactly one node"/></properties>
</testcase>
<testcase classname="test_network" name="test_pod_network[w2]" time="0.1">
  <skipped message="skipped">x</skipped>
</testcase>
</testsuite></testsuites>
"""


def test_parse_junit_results_per_node() -> None:
    report = parse_junit(JUNIT, "lab")
    by_id = {(r.node, r.check): r for r in report.results}
    assert by_id[("cp1", "sysctls")].ok
    w1 = by_id[("w1", "sysctls")]
    assert w1.outcome == "failed"
    assert w1.drifts == (Drift("sysctl net.ipv4.ip_forward", "1", "0"),)
    # No properties (setup failed before the check ran): node from the test id.
    cp2 = by_id[("cp2", "etcd members")]
    assert cp2.outcome == "error" and "No route to host" in cp2.message
    assert by_id[(CLUSTER, "vip held by exactly one node")].ok
    # A skipped check proves nothing: it is not ok.
    assert by_id[("w2", "pod network")].outcome == "skipped"
    assert not report.ok
    assert report.nodes() == ["cp1", "cp2", "w1", "w2", CLUSTER]
    assert sorted(r.node for r in report.failures) == ["cp2", "w1", "w2"]


def test_report_ok_only_when_every_check_passed() -> None:
    ok = VerifyReport("lab", [CheckResult("cp1", "sysctls", "passed")])
    assert ok.ok
    assert not VerifyReport("lab", []).ok  # nothing checked proves nothing
    assert not VerifyReport("lab", ok.results, error="pytest exited 4").ok


def test_split_test_name() -> None:
    assert split_test_name("test_sysctls[w1]") == ("test_sysctls", "w1")
    assert split_test_name("test_x") == ("test_x", None)


def test_table_shows_declared_and_live_per_node() -> None:
    report = parse_junit(JUNIT, "lab")
    console = Console(record=True, width=200)
    report.print_table(console)
    text = console.export_text()
    assert "w1: 0/1 ok" in text and "cp1: 1/1 ok" in text
    line = next(ln for ln in text.splitlines() if "net.ipv4.ip_forward" in ln)
    assert "failed" in line and " 1 " in line and " 0 " in line
    assert "No route to host" in text
    assert "1/5 checks passed" in text or "2/5 checks passed" in text
    assert "drift or failure on: cp2, w1, w2" in text


def test_table_failures_only_hides_passed_checks() -> None:
    console = Console(record=True, width=200)
    parse_junit(JUNIT, "lab").print_table(console, all_checks=False)
    text = console.export_text()
    assert "sysctls" in text and "vip held" not in text


def test_report_json_round_trip() -> None:
    data = json.loads(json.dumps(parse_junit(JUNIT, "lab").to_dict()))
    assert data["ok"] is False and data["failed"] == 3 and data["passed"] == 2
    w1 = next(r for r in data["results"] if r["node"] == "w1")
    assert w1["drift"] == [{"what": "sysctl net.ipv4.ip_forward", "declared": "1", "live": "0"}]


# --- connection and runner --------------------------------------------------------


def test_ssh_config_pins_host_keys(tmp_path: Path) -> None:
    spec = load_stack("lab")
    text = connect.ssh_config_text(
        connect.connections(spec), tmp_path / "known_hosts", tmp_path / "cm"
    )
    assert "StrictHostKeyChecking yes" in text
    assert f"UserKnownHostsFile {tmp_path / 'known_hosts'}" in text
    assert "GlobalKnownHostsFile /dev/null" in text
    assert "StrictHostKeyChecking no" not in text and "accept-new" not in text
    assert "Host 10.77.0.21 w1" in text and "BatchMode yes" in text


def test_ssh_config_uses_each_nodes_key_on_real_hosts() -> None:
    spec = load_stack("dev")
    conns = connect.connections(spec)
    assert conns["dev-w1"].user == "ops"
    assert conns["dev-w1"].identity_file == Path("~/.ssh/groundwork-dev").expanduser()


def test_testinfra_host_uses_the_ssh_backend(tmp_path: Path) -> None:
    conn = connect.Connection("10.77.0.11", 22, "root", None)
    spec = connect.testinfra_host(conn, tmp_path / "ssh_config")
    assert spec.startswith("ssh://root@10.77.0.11:22?ssh_config=")
    assert "paramiko" not in spec


def test_pytest_argv_in_process_by_default(tmp_path: Path) -> None:
    argv = pytest_argv(tmp_path / "s.yaml", tmp_path / "j.xml")
    assert "-n" not in argv
    assert f"--junitxml={tmp_path / 'j.xml'}" in argv
    assert f"--stack-file={tmp_path / 's.yaml'}" in argv


def test_pytest_argv_with_xdist_groups_checks_by_node(tmp_path: Path) -> None:
    spec = load_stack("lab")
    argv = pytest_argv(tmp_path / "s.yaml", tmp_path / "j.xml", worker_count(spec))
    assert argv[argv.index("-n") + 1] == "6"
    assert argv[argv.index("--dist") + 1] == "loadgroup"


def test_stack_document_round_trips(tmp_path: Path) -> None:
    spec = load_stack("lab")
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(yaml.safe_dump(stack_document(spec)))
    assert load_stack(str(path)) == spec


# --- one round trip per node --------------------------------------------------------


def infra_module(name: str) -> object:
    sys.path.insert(0, str(INFRA_DIR))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(INFRA_DIR))


def test_batch_script_keeps_each_commands_output_and_status() -> None:
    facts = infra_module("_facts")
    commands = ["echo hi", "echo oops >&2; exit 3", "printf 'a\\nb\\n\\n'", "cat /nonexistent"]
    script = facts.batch_script(commands)  # type: ignore[attr-defined]
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    results = facts.parse_batch(commands, out.stdout)  # type: ignore[attr-defined]
    assert results["echo hi"].rc == 0 and results["echo hi"].stdout == "hi\n"
    assert results["echo oops >&2; exit 3"].rc == 3
    assert results["echo oops >&2; exit 3"].stderr == "oops\n"
    assert results["printf 'a\\nb\\n\\n'"].stdout == "a\nb\n\n"
    assert results["cat /nonexistent"].rc != 0


def test_batched_host_answers_known_commands_from_one_round_trip() -> None:
    facts = infra_module("_facts")

    class Local:
        calls: list[str] = []  # noqa: RUF012

        def run(self, command: str) -> object:
            self.calls.append(command)
            out = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
            return facts.Result(out.returncode, out.stdout, out.stderr)  # type: ignore[attr-defined]

    local = Local()
    host = facts.BatchedHost(local, ["echo one", "echo two"])  # type: ignore[attr-defined]
    assert host.run("echo two").stdout == "two\n"
    assert host.run("echo one").stdout == "one\n"
    assert len(local.calls) == 1  # both from the same batch
    assert host.run("echo three").stdout == "three\n"  # not prefetched: goes through
    assert len(local.calls) == 2


def test_prefetch_covers_the_checks_of_each_role() -> None:
    facts = infra_module("_facts")
    e = expectations(load_stack("lab"))
    cp1 = facts.prefetch(e.node("cp1"), e)  # type: ignore[attr-defined]
    w1 = facts.prefetch(e.node("w1"), e)  # type: ignore[attr-defined]
    assert any("member list" in c for c in cp1) and not any("etcdctl" in c for c in w1)
    assert facts.unit("keepalived") in cp1 and facts.unit("keepalived") not in w1  # type: ignore[attr-defined]
    assert any("/dev/tcp/10.77.0.10/6443" in c for c in w1)


def test_table_collapses_a_node_whose_every_check_failed_alike() -> None:
    reason = "RuntimeError: w2: unreachable over SSH: Connection timed out"
    report = VerifyReport(
        "lab", [CheckResult("w2", c, "error", message=reason) for c in ("sysctls", "hostname")]
    )
    console = Console(record=True, width=200)
    report.print_table(console)
    text = console.export_text()
    assert "(all 2 checks)" in text and "Connection timed out" in text
    assert "hostname" not in text

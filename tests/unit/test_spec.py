"""The spec: the three stacks validate, and every corpus file fails with its path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from groundwork.cli import main
from groundwork.spec import SpecError, StackFileMissing, load_stack, parse_cluster, warnings
from groundwork.spec.load import stack_path
from groundwork.spec.model import REJECTED_PLUGINS, Backend, ClusterSpec, Plugin, Role

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
STACKS = ("lab", "dev", "prod")


def expectation(path: Path) -> tuple[str, str]:
    text = path.read_text()
    where = re.search(r"^# expect-path: (.+)$", text, re.M)
    what = re.search(r"^# expect-message: (.+)$", text, re.M)
    assert where and what, f"{path.name} lacks its expect-path/expect-message header"
    return where.group(1).strip(), what.group(1).strip()


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_stack_names_its_config_path(path: Path) -> None:
    expected_path, fragment = expectation(path)
    with pytest.raises(SpecError) as caught:
        load_stack(str(path))
    problems = caught.value.problems
    matching = [p for p in problems if p.path == expected_path]
    assert matching, f"no problem at {expected_path}; got: {[str(p) for p in problems]}"
    assert any(fragment in p.message for p in matching), [str(p) for p in matching]


@pytest.mark.parametrize("path", INVALID[:5], ids=lambda p: p.stem)
def test_cli_validate_exits_2_with_one_line_per_problem(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected_path, _ = expectation(path)
    assert main(["validate", "--stack-file", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(re.match(r"^cluster[\w.\[\]-]*: ", line) for line in lines), lines
    assert any(line.startswith(f"{expected_path}: ") for line in lines)


def test_corpus_base_is_valid() -> None:
    spec = load_stack(str(CORPUS / "valid" / "corpus-base.yaml"))
    assert isinstance(spec, ClusterSpec)


@pytest.mark.parametrize("name", STACKS)
def test_stacks_are_valid(name: str) -> None:
    spec = load_stack(name)
    assert spec.name == name


def test_stacks_differ_where_environments_differ() -> None:
    lab, dev, prod = (load_stack(n) for n in STACKS)
    assert (lab.network.plugin, dev.network.plugin, prod.network.plugin) == (
        "bridge",
        "flannel",
        "calico",
    )
    assert dev.network.resolved_backend() == "vxlan"
    assert prod.network.resolved_backend() == "bgp"
    assert lab.lab is not None and dev.lab is None and prod.lab is None
    assert len(lab.nodes_with(Role.CONTROL_PLANE)) == 3 and len(lab.nodes_with(Role.WORKER)) == 2
    assert len(prod.nodes_with(Role.WORKER)) >= 6
    assert {c.driver.value for c in prod.storage.classes} == {"local-path", "nfs"}
    assert prod.load_balancer.provider == "metallb"
    assert prod.gateway.controller == "envoy-gateway"
    assert {lab.artifacts.source, dev.artifacts.source, prod.artifacts.source} == {"mirror"}


def test_upstream_downloads_need_every_release_file_pinned_naming_the_field() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["artifacts"] = {"source": "upstream"}
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    paths = sorted({p.path for p in caught.value.problems})
    assert paths == [
        "cluster.artifacts.source",  # runc, CNI plugins, crictl: Groundwork's own choice
        "cluster.containerRuntime.version",
        "cluster.etcd.version",
        "cluster.kubernetes.version",
    ]
    kube = next(p for p in caught.value.problems if p.path == "cluster.kubernetes.version")
    assert "no sha256 pinned for kube-apiserver" in kube.message
    assert "groundwork/versions.py" in kube.message and "source: mirror" in kube.message


def test_all_problems_are_reported_at_once() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["network"]["podCidr"] = "10.96.0.0/16"  # overlaps services
    cluster["storage"]["classes"][0]["default"] = False  # no default
    cluster["gateway"]["controller"] = "ingress-nginx"  # retired
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    paths = {p.path for p in caught.value.problems}
    assert {
        "cluster.network.podCidr",
        "cluster.storage.classes",
        "cluster.gateway.controller",
    } <= paths


def test_structural_errors_are_all_reported() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["nodes"][0]["address"] = "not-an-ip"
    cluster["network"]["plugn"] = "calico"
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    paths = {p.path for p in caught.value.problems}
    assert {"cluster.nodes[0].address", "cluster.network.plugn"} <= paths


def test_plugin_and_backend_are_typed_once_parsed() -> None:
    dev, prod, lab = load_stack("dev"), load_stack("prod"), load_stack("lab")
    assert dev.network.plugin is Plugin.FLANNEL and dev.network.backend is Backend.VXLAN
    assert prod.network.resolved_backend() is Backend.BGP
    # No backend declared: the plugin's first (default) one.
    assert lab.network.backend is None
    assert lab.network.resolved_backend() is Backend.STATIC_ROUTES


def problems_with_network(**network: str) -> list[str]:
    """Every problem of the corpus base with these network settings."""
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["network"].update(network)
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    return [str(p) for p in caught.value.problems]


def test_a_refused_plugin_names_its_reason_and_no_backend_problem() -> None:
    assert problems_with_network(plugin="weave", backend="sleeve") == [
        f"cluster.network.plugin: {REJECTED_PLUGINS['weave']}"
    ]


def test_a_backend_is_judged_against_its_plugin() -> None:
    assert problems_with_network(plugin="kube-router", backend="vxlan") == [
        "cluster.network.backend: kube-router has no backend 'vxlan'; choose one of bgp, ipip"
    ]


def test_ipvs_is_a_warning_not_an_error() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["kubernetes"]["kubeProxy"] = "ipvs"
    spec = parse_cluster(cluster)
    assert any(w.path == "cluster.kubernetes.kubeProxy" for w in warnings(spec))


def test_the_lab_pins_upstream_current_versions_without_warnings() -> None:
    spec = load_stack("lab")
    assert warnings(spec) == []


def test_a_plugin_never_proven_on_the_lab_is_a_warning() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    proven = {"bridge", "flannel"}
    for plugin in ("bridge", "flannel", "calico", "cilium", "kube-router"):
        cluster["network"] = {**cluster["network"], "plugin": plugin}
        cluster["network"].pop("backend", None)
        found = [w for w in warnings(parse_cluster(cluster)) if w.path == "cluster.network.plugin"]
        assert bool(found) == (plugin not in proven), plugin
        if found:
            assert "never carried a packet on Groundwork's lab" in found[0].message


def test_missing_stack_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StackFileMissing, match="no stack file"):
        load_stack(str(tmp_path / "Pulumi.nope.yaml"))


def test_stack_without_cluster_value(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  aws:region: eu-west-1\n")
    with pytest.raises(SpecError, match="groundwork:cluster"):
        load_stack(str(path))


def test_cli_missing_stack_file_exits_1(tmp_path: Path) -> None:
    assert main(["validate", "--stack-file", str(tmp_path / "Pulumi.nope.yaml")]) == 1


def test_a_lab_stack_must_name_what_the_lab_builds(tmp_path: Path) -> None:
    doc = yaml.safe_load(stack_path("lab").read_text())
    cluster = doc["config"]["groundwork:cluster"]
    cluster["kubernetes"]["version"] = "1.36.1"
    cluster["etcd"]["version"] = "3.6.16"
    cluster["containerRuntime"]["version"] = "1.7.20"
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as err:
        load_stack(str(path))
    messages: dict[str, str] = {}
    for problem in err.value.problems:
        messages[problem.path] = messages.get(problem.path, "") + problem.message + "\n"
    assert (
        "is not what the lab builds: 1.36.3 or 1.37.2 (components/kubernetes*/go.mod)"
        in (messages["cluster.kubernetes.version"])
    )
    assert "3.6.17 (components/etcd/go.mod)" in messages["cluster.etcd.version"]
    # The release an upgrade goes to is one the lab builds too.
    cluster["kubernetes"]["version"] = "1.37.2"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as err:
        load_stack(str(path))
    assert "cluster.kubernetes.version" not in {p.path for p in err.value.problems}
    # containerd 1.x is refused for any stack, the lab's too; all at once.
    assert "needs containerd 2.0 or newer" in messages["cluster.containerRuntime.version"]
    assert "2.3.7 (components/containerd/go.mod)" in messages["cluster.containerRuntime.version"]


def test_scheduled_snapshots_are_checked_field_by_field() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["etcd"] = {"snapshots": {"schedule": "daily; rm -rf /", "keep": 0}}
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    problems = {p.path: str(p) for p in caught.value.problems}
    assert set(problems) == {"cluster.etcd.snapshots.schedule", "cluster.etcd.snapshots.keep"}
    assert "a systemd calendar event" in problems["cluster.etcd.snapshots.schedule"]
    cluster["etcd"]["snapshots"] = {"schedule": "*-*-* 02:30:00"}
    assert parse_cluster(cluster).etcd.snapshots is not None


def test_a_partition_above_the_replicas_is_refused_naming_the_field() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    workload = cluster["workloads"][0]
    workload["rollingUpdate"] = {"partition": workload.get("replicas", 1) + 1}
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    (problem,) = [p for p in caught.value.problems if "partition" in p.path]
    assert problem.path == "cluster.workloads[0].rollingUpdate.partition"
    assert "more than the" in problem.message
    workload["rollingUpdate"] = {"partition": workload.get("replicas", 1)}  # holds every pod
    parse_cluster(cluster)


def test_a_csi_hostpath_class_is_refused_saying_why_it_cannot_be_built() -> None:
    value = yaml.safe_load((CORPUS / "valid" / "corpus-base.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["storage"]["classes"].append({"name": "csi", "driver": "csi-hostpath"})
    cluster["storage"]["classes"].append({"name": "odd", "driver": "ceph"})
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    by_path = {p.path: p.message for p in caught.value.problems}
    hostpath = by_path["cluster.storage.classes[1].driver"]
    assert "csi-driver-host-path" in hostpath and "node-driver-registrar" in hostpath
    assert (
        "unknown driver 'ceph'; choose one of local-path, nfs"
        in by_path["cluster.storage.classes[2].driver"]
    )

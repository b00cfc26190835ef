"""`groundwork cis`: the override config, the adapted checks, the targets per
node and kube-bench's JSON, without a node or kube-bench."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork.build import BY_COMPONENT, DEFAULT_RECIPES
from groundwork.cis import benchmark, report, run, source
from groundwork.cis.benchmark import BenchmarkError, InstallPaths
from groundwork.paths import data_dir
from groundwork.spec import load_stack

PATHS = InstallPaths(
    kube_config_dir="/etc/kubernetes",
    kube_pki_dir="/etc/kubernetes/pki",
    kubelet_dir="/var/lib/kubelet",
    kube_proxy_dir="/var/lib/kube-proxy",
    etcd_config_dir="/etc/etcd",
    etcd_data_dir="/var/lib/etcd",
)


def test_kube_bench_is_built_on_demand_only() -> None:
    recipe = BY_COMPONENT["kube-bench"]
    assert recipe.on_demand and not recipe.lab
    assert recipe not in DEFAULT_RECIPES
    assert recipe.module == "github.com/aquasecurity/kube-bench"
    assert "kube-bench" in (data_dir() / "scripts" / "test.sh").read_text()


def test_the_paths_are_the_roles_defaults() -> None:
    assert benchmark.install_paths(source.role_defaults()) == PATHS


def test_a_templated_path_is_refused() -> None:
    defaults = source.role_defaults()
    defaults["etcd"]["etcd_data_dir"] = "{{ gw_etcd_data_dir }}"
    with pytest.raises(BenchmarkError, match="etcd_data_dir is not a plain path"):
        benchmark.install_paths(defaults)


def test_the_override_names_this_installs_files() -> None:
    override = benchmark.override_config(PATHS)
    master = override["master"]
    assert master["apiserver"]["confs"] == ["/etc/systemd/system/kube-apiserver.service"]
    assert master["scheduler"]["kubeconfig"] == ["/etc/kubernetes/kube-scheduler.conf"]
    assert master["controllermanager"]["defaultkubeconfig"] == (
        "/etc/kubernetes/kube-controller-manager.conf"
    )
    assert master["etcd"]["datadirs"] == ["/var/lib/etcd"]
    kubelet = override["node"]["kubelet"]
    assert kubelet["confs"] == ["/var/lib/kubelet/config.yaml"]
    assert kubelet["svc"] == ["/etc/systemd/system/kubelet.service"]
    assert kubelet["kubeconfig"] == ["/var/lib/kubelet/kubeconfig"]
    assert kubelet["cafile"] == ["/etc/kubernetes/pki/ca.crt"]
    assert override["node"]["proxy"]["kubeconfig"] == ["/var/lib/kube-proxy/kubeconfig"]
    assert override["etcd"]["etcd"]["confs"] == ["/etc/systemd/system/etcd.service"]


def test_every_file_the_override_names_is_one_the_roles_write() -> None:
    roles = "\n".join(
        p.read_text() for p in (data_dir() / "roles").glob("*/tasks/main.yml")
    ) + "\n".join(p.read_text() for p in (data_dir() / "roles").glob("*/defaults/main.yml"))
    override = benchmark.override_config(PATHS)
    named = {
        v
        for section in override.values()
        for component in section.values()
        for key, value in component.items()
        for v in (value if isinstance(value, list) else [value])
        if key.startswith(("conf", "svc", "kubeconfig", "default"))
    }
    for path in sorted(named):
        name = path.rsplit("/", 1)[1]
        stem = name.removesuffix(".conf")
        assert name in roles or stem in roles, f"{path}: no role writes it"


def test_merge_replaces_lists_and_merges_mappings() -> None:
    base: dict[str, Any] = {"a": {"bins": ["x"], "confs": ["/old"], "keep": 1}, "b": [1]}
    merged = benchmark.merge(base, {"a": {"confs": ["/new"]}, "c": {"d": 2}})
    assert merged == {"a": {"bins": ["x"], "confs": ["/new"], "keep": 1}, "b": [1], "c": {"d": 2}}
    assert base["a"]["confs"] == ["/old"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.36.3", ("cis-1.11", "1.32")),
        ("1.32.0", ("cis-1.11", "1.32")),
        ("1.28.1", ("cis-1.10", "1.28")),
    ],
)
def test_the_benchmark_is_kube_benchs_mapping_of_the_minor(
    version: str, expected: tuple[str, str]
) -> None:
    mapping = {"1.27": "cis-1.9", "1.28": "cis-1.10", "1.29": "cis-1.11", "1.32": "cis-1.11"}
    assert benchmark.benchmark_for(mapping, version) == expected


def test_no_benchmark_for_an_older_release_is_an_error() -> None:
    with pytest.raises(BenchmarkError, match=r"Kubernetes 1\.20"):
        benchmark.benchmark_for({"1.27": "cis-1.9"}, "1.20.1")


def test_targets_follow_the_roles() -> None:
    spec = load_stack("lab")
    assert benchmark.node_targets(spec, "cp1") == (
        "master",
        "controlplane",
        "etcd",
        "node",
        "policies",
    )
    assert benchmark.node_targets(spec, "cp2") == ("master", "controlplane", "etcd", "node")
    assert benchmark.node_targets(spec, "w1") == ("node",)


ETCD_CONTROLS = """\
controls:
version: "cis-1.11"
id: 2
type: "etcd"
groups:
  - id: 2
    checks:
      - id: 2.1
        audit: "/bin/ps -ef | /bin/grep $etcdbin | /bin/grep -v grep"
        tests:
          bin_op: and
          test_items:
            - flag: "--cert-file"
              env: "ETCD_CERT_FILE"
            - flag: "--key-file"
              env: "ETCD_KEY_FILE"
        scored: true
      - id: 2.10
        audit: "true"
        scored: false
"""


def test_adaptations_add_the_config_file_as_a_second_place_to_look() -> None:
    controls = source.load_yaml(ETCD_CONTROLS)
    adapted = benchmark.adapt_controls(controls, benchmark.adaptations(PATHS))
    check = adapted["groups"][0]["checks"][0]
    assert check["audit"] == controls["groups"][0]["checks"][0]["audit"]
    assert check["audit_config"] == "/bin/cat /etc/etcd/etcd.conf.yml"
    items = check["tests"]["test_items"]
    assert [i["flag"] for i in items] == ["--cert-file", "--key-file"]
    assert [i["path"] for i in items] == [
        "{.client-transport-security.cert-file}",
        "{.client-transport-security.key-file}",
    ]
    assert "path" not in controls["groups"][0]["checks"][0]["tests"]["test_items"][0]


def test_an_adaptation_whose_flag_is_gone_is_refused() -> None:
    controls = source.load_yaml(ETCD_CONTROLS)
    with pytest.raises(BenchmarkError, match=r"2\.1 of the benchmark has no test of --cert"):
        benchmark.adapt_controls(controls, {"2.1": ("cat x", {"--cert": "{.a}"})})


def test_check_ids_stay_text_through_the_yaml() -> None:
    controls = source.load_yaml(ETCD_CONTROLS)
    assert source.check_ids(controls) == ("2.1", "2.10")
    again = source.load_yaml(source.dump_yaml(controls))
    assert source.check_ids(again) == ("2.1", "2.10")
    assert again["groups"][0]["checks"][0]["scored"] is True


def _cfg_dir(tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg"
    (cfg / "cis-1.11").mkdir(parents=True)
    (cfg / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "master": {"apiserver": {"bins": ["kube-apiserver"], "confs": ["/m.yaml"]}},
                "version_mapping": {"1.32": "cis-1.11"},
            }
        )
    )
    (cfg / "cis-1.11" / "config.yaml").write_text("---\n")
    for target in source.TARGETS:
        text = ETCD_CONTROLS if target == "etcd" else f"controls:\ntype: {target}\ngroups: []\n"
        (cfg / "cis-1.11" / f"{target}.yaml").write_text(text)
    return cfg


def test_node_files_carry_the_merged_config_and_the_adapted_checks(tmp_path: Path) -> None:
    files = source.node_files(_cfg_dir(tmp_path), "1.36.3", PATHS)
    assert (files.benchmark, files.mapped_from) == ("cis-1.11", "1.32")
    config = yaml.safe_load(files.cfg["config.yaml"])
    assert config["master"]["apiserver"] == {
        "bins": ["kube-apiserver"],
        "confs": ["/etc/systemd/system/kube-apiserver.service"],
        "defaultconf": "/etc/systemd/system/kube-apiserver.service",
    }
    assert config["version_mapping"] == {"1.32": "cis-1.11"}
    assert "audit_config" in files.cfg["cis-1.11/etcd.yaml"]
    # A file without an adapted check is upstream's, byte for byte.
    assert files.cfg["cis-1.11/node.yaml"] == "controls:\ntype: node\ngroups: []\n"
    assert files.checks["etcd"] == ("2.1", "2.10")


def test_a_benchmark_without_a_target_is_refused(tmp_path: Path) -> None:
    cfg = _cfg_dir(tmp_path)
    (cfg / "cis-1.11" / "policies.yaml").unlink()
    with pytest.raises(BenchmarkError, match="has no policies checks"):
        source.node_files(cfg, "1.36.3", PATHS)


def test_skips_are_only_those_of_the_targets_run() -> None:
    checks = {"node": ("4.2.9", "4.2.10"), "master": ("1.1.1",)}
    assert benchmark.skip_ids(("node",), checks) == ["4.2.10"]
    assert benchmark.skip_ids(("master",), checks) == []


def test_the_kube_bench_command_and_the_script() -> None:
    argv = run.kube_bench_argv("cis-1.11", ("master", "etcd"), ["4.2.10"])
    assert argv[:2] == ["./kube-bench", "run"]
    assert "--benchmark=cis-1.11" in argv
    assert "--targets=master,etcd" in argv
    assert "--json" in argv and "--skip=4.2.10" in argv
    script = run.remote_script(argv, "/etc/kubernetes/admin.conf")
    assert "KUBECONFIG=/etc/kubernetes/admin.conf ./kube-bench run" in script
    assert 'rm -rf "$d"' in script
    assert "KUBECONFIG" not in run.remote_script(argv)


def test_ssh_runs_as_root_with_the_stacks_config() -> None:
    argv = run.ssh_argv(Path("/s/ssh_config"), "10.0.0.1", "root", "true")
    assert argv[:4] == ["ssh", "-F", "/s/ssh_config", "10.0.0.1"]
    assert argv[-1] == "sh -c true"
    assert run.ssh_argv(Path("/c"), "10.0.0.1", "ops", "true")[-1] == "sudo -n sh -c true"


def _kube_bench_json() -> dict[str, Any]:
    def check(number: str, status: str, scored: bool = True) -> dict[str, Any]:
        return {
            "test_number": number,
            "test_desc": f"check {number}",
            "status": status,
            "scored": scored,
            "actual_value": "permissions=644" if status == "FAIL" else "",
            "expected_result": "bitmask 600",
            "reason": "Test marked as a manual test" if status == "WARN" else "",
        }

    return {
        "Controls": [
            {
                "id": "1",
                "node_type": "master",
                "tests": [
                    {
                        "section": "1.1",
                        "results": [check("1.1.1", "PASS"), check("1.1.2", "FAIL")],
                    }
                ],
            },
            {
                "id": "4",
                "node_type": "node",
                "tests": [
                    {
                        "section": "4.2",
                        "results": [check("4.2.7", "WARN", False), check("4.2.10", "INFO")],
                    }
                ],
            },
        ],
        "Totals": {"total_pass": 1, "total_fail": 1, "total_warn": 1, "total_info": 1},
    }


def test_kube_benchs_json_is_read_per_check() -> None:
    out = "I1206 some log line\n" + json.dumps(_kube_bench_json()) + "\n"
    findings = report.parse_output(out)
    assert [(f.id, f.status, f.target) for f in findings] == [
        ("1.1.1", "PASS", "master"),
        ("1.1.2", "FAIL", "master"),
        ("4.2.7", "WARN", "node"),
        ("4.2.10", "INFO", "node"),
    ]
    node = report.NodeReport("cp1", ("master", "node"), tuple(findings), 3.0)
    assert node.counts() == {"PASS": 1, "FAIL": 1, "WARN": 1, "INFO": 1}
    assert not node.ok
    assert node.with_status("FAIL")[0].actual == "permissions=644"
    assert report.problems([node]) == ["cp1: 1 FAIL (1.1.2)"]
    assert node.to_dict()["counts"]["FAIL"] == 1


def test_a_node_without_fail_is_ok_and_one_without_a_report_is_not() -> None:
    findings = report.parse_output(json.dumps(_kube_bench_json()))
    passed = report.NodeReport("w1", ("node",), tuple(f for f in findings if f.status != "FAIL"))
    broken = report.NodeReport("w2", ("node",), error="kube-bench: no report")
    whole = report.CisReport("lab", "cis-1.11", "1.32", "v0.14.0", (passed,))
    assert passed.ok and whole.ok
    assert not report.CisReport("lab", "cis-1.11", "1.32", "v0.14.0", (passed, broken)).ok
    assert report.problems([broken]) == ["w2: kube-bench: no report"]
    assert whole.to_dict()["totals"] == {"PASS": 1, "FAIL": 0, "WARN": 1, "INFO": 1}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("no json here", "printed no JSON"),
        ('{"Controls": 3}', "no Controls list"),
        ('{"Controls": [{"tests": [{"results": [{"status": "MEH"}]}]}]}', "unknown status"),
    ],
)
def test_unreadable_output_is_an_error(text: str, match: str) -> None:
    with pytest.raises(report.ReportError, match=match):
        report.parse_output(text)


def test_every_skip_and_warn_reason_is_in_the_docs() -> None:
    """A row per id ("| 4.2.7 |"), or a range of them ("| 5.1.1 - 5.6.4 |")."""
    docs = (data_dir() / "docs" / "security.md").read_text()
    rows = re.findall(r"^\| ([\d.]+)(?: - ([\d.]+))? \|", docs, re.MULTILINE)
    key = benchmark.check_sort_key

    def listed(check_id: str) -> bool:
        return any(
            check_id == low or (high and key(low) <= key(check_id) <= key(high))
            for low, high in rows
        )

    for check_id in (*benchmark.NOT_APPLICABLE, *benchmark.WARN_REASONS):
        assert listed(check_id), f"docs/security.md has no row for {check_id}"

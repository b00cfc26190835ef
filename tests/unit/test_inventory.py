"""groundwork.inventory: rendering from spec + plan, byte-stability, what Ansible sees."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork import versions
from groundwork.inventory import (
    Connection,
    InventoryError,
    release_sha256,
    render_inventory,
    write_inventory,
)
from groundwork.inventory.artifacts import parse_sha256_file
from groundwork.plan import build_plan
from groundwork.runner.events import RunState, RunSummary, failure_message
from groundwork.spec import ClusterSpec, load_stack

STACKS = Path(__file__).resolve().parents[2] / "stacks"
SHA = "0" * 63 + "1"
RELEASES = ("etcd", "containerd", "runc", "cni-plugins", "crictl")
CONNECTION = Connection(known_hosts=Path("/state/lab/ssh/known_hosts"), lab_key=Path("/state/id"))


def spec_of(name: str) -> ClusterSpec:
    return load_stack(str(STACKS / f"Pulumi.{name}.yaml"))


def rendered(name: str) -> Any:
    spec = spec_of(name)
    return render_inventory(
        spec,
        build_plan(spec),
        CONNECTION,
        pki_dir=Path("/state/pki"),
        release_sha256=dict.fromkeys(RELEASES, SHA),
    )


@pytest.mark.parametrize("name", ["lab", "dev", "prod"])
def test_rendering_is_byte_stable(name: str) -> None:
    first, second = rendered(name), rendered(name)
    assert first.hosts_yml == second.hosts_yml
    assert first.group_vars_yml == second.group_vars_yml
    # The text is the documents, nothing else.
    assert yaml.safe_load(first.hosts_yml) == first.hosts
    assert yaml.safe_load(first.group_vars_yml) == first.group_vars


def test_writer_touches_nothing_on_a_rerun(tmp_path: Path) -> None:
    inv = rendered("lab")
    assert sorted(write_inventory(tmp_path, inv)) == ["group_vars/all/generated.yml", "hosts.yml"]
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert write_inventory(tmp_path, rendered("lab")) == []
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == mtimes
    assert (tmp_path / "hosts.yml").read_text() == inv.hosts_yml


def test_groups_and_connection_of_every_host() -> None:
    spec = spec_of("lab")
    doc = rendered("lab").hosts["all"]
    groups = {g: sorted(v["hosts"]) for g, v in doc["children"].items()}
    assert groups == {
        "control_plane": ["cp1", "cp2", "cp3"],
        "etcd": ["cp1", "cp2", "cp3"],
        "worker": ["w1", "w2"],
    }
    for node in spec.nodes:
        host = doc["hosts"][node.name]
        assert host["ansible_host"] == str(node.address)
        assert host["ansible_user"] == "root"
        assert host["ansible_port"] == 22
        assert host["ansible_ssh_private_key_file"] == "/state/id"  # ssh.key: lab
    args = doc["vars"]["ansible_ssh_common_args"]
    assert "-o UserKnownHostsFile=/state/lab/ssh/known_hosts" in args
    assert "-o StrictHostKeyChecking=yes" in args
    assert "ControlPersist=" in args
    assert "StrictHostKeyChecking=no" not in args


def test_per_host_values_come_from_the_plan() -> None:
    spec = spec_of("lab")
    plan = build_plan(spec)
    hosts = rendered("lab").hosts["all"]["hosts"]
    for node in plan.nodes:
        assert hosts[node.name]["gw_node_address"] == str(node.address)
        assert hosts[node.name]["gw_pod_subnet"] == str(node.pod_subnet)
    assert {n: h["gw_vrrp_priority"] for n, h in hosts.items() if "gw_vrrp_priority" in h} == {
        "cp1": 150,
        "cp2": 149,
        "cp3": 148,
    }
    assert sorted(n for n, h in hosts.items() if "gw_etcd_member_name" in h) == [
        "cp1",
        "cp2",
        "cp3",
    ]


def test_cluster_variables() -> None:
    spec = spec_of("lab")
    plan = build_plan(spec)
    gv = rendered("lab").group_vars
    assert gv["gw_etcd_initial_cluster"] == plan.etcd.initial_cluster
    assert gv["gw_etcd_sha256"] == SHA
    assert gv["gw_etcd_url"] == "http://10.77.0.1:8080/etcd/v3.6.17/etcd-v3.6.17-linux-amd64.tar.gz"
    assert gv["gw_apt_source"] == "deb [trusted=yes] http://10.77.0.1:8080/debian ./"
    assert gv["gw_ntp_servers"] == []  # the lab has no time source
    assert gv["gw_endpoint_haproxy"] is True
    assert gv["gw_endpoint_port"] == plan.endpoint.port
    assert gv["gw_apiserver_port"] == plan.endpoint.apiserver_port
    assert gv["gw_node_cidr"] == "10.77.0.0/24"
    assert gv["gw_pod_mtu"] == plan.network.pod_mtu
    assert [m["name"] for m in gv["gw_kernel_modules"]] == [m.name for m in plan.kernel_modules]
    assert {s["key"]: s["value"] for s in gv["gw_sysctls"]} == {
        s.key: s.value for s in plan.sysctls
    }
    assert all(isinstance(s["value"], str) for s in gv["gw_sysctls"])
    assert gv["gw_kernel_filesystems"] == []  # the lab's classes are local-path


def test_nfs_classes_reach_the_preflight_through_the_inventory() -> None:
    from groundwork import preflight

    gv = rendered("prod").group_vars
    assert gv["gw_kernel_filesystems"] == [
        {
            "name": "nfs",
            "field": "cluster.storage.classes[1].driver",
            "reason": "storage class shared",
        }
    ]
    # What site.yml hands the action plugin, as it reads it.
    (need,) = preflight.filesystem_needs(gv["gw_kernel_filesystems"])
    assert need == preflight.FilesystemNeed(
        "nfs", "cluster.storage.classes[1].driver", "storage class shared"
    )


def test_roles_read_only_variables_the_inventory_defines() -> None:
    """Every gw_* variable a role reads is generated (or is a documented per-host one)."""
    roles = Path(__file__).resolve().parents[2] / "roles"
    used: set[str] = set()
    for path in roles.rglob("*"):
        if path.is_file() and path.suffix in {".yml", ".j2"}:
            text = path.read_text()
            used.update(w for w in _words(text) if w.startswith("gw_"))
    defined: set[str] = set()
    # gw_underlay, gw_bgp: only on a macvlan or bgp stack's nodes.
    for stack in ("lab", "lab-underlay", "lab-bgp"):
        inv = rendered(stack)
        defined.update(inv.group_vars)
        for host in inv.hosts["all"]["hosts"].values():
            defined.update(k for k in host if k.startswith("gw_"))
    assert used - defined == set()


def _words(text: str) -> set[str]:
    import re

    return set(re.findall(r"\bgw_[a-z0-9_]+", text))


def test_non_lab_stack_uses_declared_keys_and_its_own_known_hosts() -> None:
    inv = rendered("dev")
    hosts = inv.hosts["all"]["hosts"]
    assert hosts["dev-cp1"]["ansible_user"] == "ops"
    key = hosts["dev-cp1"]["ansible_ssh_private_key_file"]
    assert key == str(Path("~/.ssh/groundwork-dev").expanduser())
    assert inv.group_vars["gw_endpoint_haproxy"] is False  # dns endpoint: no VIP
    # Everything from the site's mirror, upstream's layout under it.
    mirror = "http://mirror.dev.example.internal/groundwork"
    assert inv.group_vars["gw_apt_source"] == f"deb [trusted=yes] {mirror}/debian ./"
    assert inv.group_vars["gw_etcd_url"].startswith(f"{mirror}/etcd/")


@pytest.mark.parametrize("name", ["lab", "dev", "prod"])
def test_no_secret_in_the_inventory(name: str) -> None:
    inv = rendered(name)
    text = inv.hosts_yml + inv.group_vars_yml
    assert "PRIVATE KEY" not in text
    assert "BEGIN" not in text
    assert "password" not in text.lower()


def test_ansible_reads_the_inventory(tmp_path: Path) -> None:
    write_inventory(tmp_path / "lab", rendered("lab"))
    exe = shutil.which("ansible-inventory", path=str(Path(sys.executable).parent))
    assert exe, "ansible-inventory is not installed next to this Python"
    out = subprocess.run(
        [exe, "-i", str(tmp_path / "lab"), "--list"], capture_output=True, text=True, check=True
    )
    data = json.loads(out.stdout)
    assert sorted(data["etcd"]["hosts"]) == ["cp1", "cp2", "cp3"]
    cp1 = data["_meta"]["hostvars"]["cp1"]
    assert cp1["gw_pod_subnet"] == "10.244.11.0/24"
    assert cp1["gw_etcd_cluster_token"].startswith("lab-etcd-")  # group_vars/all applied


def test_sha256_file_parsing() -> None:
    digest = "ab" * 32
    assert parse_sha256_file(f"{digest}  etcd.tar.gz\n", "etcd.tar.gz") == digest
    assert parse_sha256_file(f"{digest.upper()} *etcd.tar.gz\n", "etcd.tar.gz") == digest
    assert parse_sha256_file(f"{digest}\n", "etcd.tar.gz") == digest
    with pytest.raises(InventoryError):
        parse_sha256_file(f"{digest}  other.tar.gz\n", "etcd.tar.gz")
    with pytest.raises(InventoryError):
        parse_sha256_file("not a digest\n", "etcd.tar.gz")


def test_unpinned_upstream_release_is_refused() -> None:
    artifact = versions.artifact("etcd", "3.6.6")
    assert artifact.sha256 is None
    with pytest.raises(InventoryError, match="no pinned sha256"):
        release_sha256(artifact, None)


# --- runner events (pure) -------------------------------------------------------------


def _event(kind: str, **data: Any) -> dict[str, Any]:
    return {"event": kind, "event_data": data}


def test_run_state_counts_and_names_failures() -> None:
    state = RunState()
    state.apply(_event("runner_on_start", host="cp1", role="etcd", task="Run etcd"))
    assert (state.hosts["cp1"].role, state.hosts["cp1"].task) == ("etcd", "Run etcd")
    state.apply(_event("runner_on_ok", host="cp1", role="etcd", task="Run etcd", res={}))
    state.apply(
        _event("runner_on_failed", host="cp2", role="etcd", task="Run etcd",
               res={"msg": "Unable to start service etcd: Job failed"})
    )  # fmt: skip
    state.apply(
        _event("runner_on_unreachable", host="w1", task="Read the node's addresses",
               res={"msg": "Failed to connect to the host via ssh: Host key verification failed."})
    )  # fmt: skip
    state.apply(
        _event(
            "playbook_on_stats",
            ok={"cp1": 5, "cp2": 1},
            changed={"cp1": 2},
            failures={"cp2": 1},
            dark={"w1": 1},
            skipped={},
        )
    )
    summary = RunSummary("site.yml", "failed", 2, tuple(state.hosts.values()),
                         tuple(state.failures), "/x", 1.0)  # fmt: skip
    assert not summary.ok
    assert summary.changed_by_host() == {"cp1": 2, "cp2": 0, "w1": 0}
    assert state.hosts["cp1"].ok == 3  # ok counts changed tasks too; shown apart
    lines = [f.describe() for f in summary.failures]
    assert lines == [
        "cp2: failed at role etcd, task 'Run etcd': Unable to start service etcd: Job failed",
        'w1: unreachable at task "Read the node\'s addresses": '
        "Failed to connect to the host via ssh: Host key verification failed.",
    ]


def test_a_check_mode_run_names_what_each_node_would_change() -> None:
    from groundwork.phases.site import preview_lines
    from groundwork.runner.events import COMMAND_WOULD_RUN

    state = RunState()
    write = {"changed": True, "changed_paths": ["/etc/chrony/chrony.conf"]}
    state.apply(_event("runner_on_ok", host="w1", role="common", task="Write", res=write))
    state.apply(_event("runner_on_ok", host="w1", role="common", task="Probe", res={}))
    # A command check mode skipped would have run; one whose `when` said no would not.
    would = {"skipped": True, "msg": COMMAND_WOULD_RUN}
    state.apply(_event("runner_on_skipped", host="w2", role="common", task="Repair", res=would))
    skipped = {"skipped": True, "skip_reason": "Conditional result was False"}
    state.apply(_event("runner_on_skipped", host="w2", role="etcd", task="Restart", res=skipped))
    summary = RunSummary("site.yml", "successful", 0, tuple(state.hosts.values()), (), "/x", 1.0)
    assert preview_lines(summary) == [
        "w1: common: Write",
        "w1:   writes /etc/chrony/chrony.conf",
        "w2: common: Repair",
    ]


def test_kubectl_diff_names_the_objects_it_would_change() -> None:
    from groundwork.phases.addons import changed_objects

    out = (
        "diff -u -N /tmp/LIVE-1/apps.v1.Deployment.kube-system.coredns "
        "/tmp/MERGED-2/apps.v1.Deployment.kube-system.coredns\n"
        "--- /tmp/LIVE-1/apps.v1.Deployment.kube-system.coredns\n"
        "+++ /tmp/MERGED-2/apps.v1.Deployment.kube-system.coredns\n"
        "-  replicas: 2\n+  replicas: 3\n"
        "diff -u -N /tmp/LIVE-1/v1.ConfigMap.kube-system.coredns "
        "/tmp/MERGED-2/v1.ConfigMap.kube-system.coredns\n"
    )
    assert changed_objects(out) == [
        "apps.v1.Deployment.kube-system.coredns",
        "v1.ConfigMap.kube-system.coredns",
    ]
    assert changed_objects("") == []


def test_a_node_dying_under_mitogen_is_reported_unreachable() -> None:
    state = RunState()
    crash = {
        "msg": "Task failed: builtins.AttributeError: 'NoneType' object has no attribute 'protocol'",
        "exception": "Traceback ... mitogen/core.py ...",
    }
    state.apply(
        _event("runner_on_failed", host="w2", role="common", task="Probe the node", res=crash)
    )
    (failure,) = state.failures
    assert failure.unreachable
    assert failure.describe().startswith("w2: unreachable at role common, task 'Probe the node'")
    assert "the node stopped answering" in failure.describe()


def test_a_refused_key_is_said_in_plain_words() -> None:
    state = RunState()
    refused = {"msg": "Task failed: SSH password was requested, but none specified"}
    state.apply(_event("runner_on_unreachable", host="w2", task="Check", res=refused))
    (failure,) = state.failures
    assert failure.message.startswith("the node refused the SSH key: check the node's ssh.key")


def test_failure_message_prefers_msg_then_stderr() -> None:
    assert failure_message({"msg": "unable to start etcd", "stderr": "boom", "rc": 1}) == (
        "unable to start etcd"
    )
    # A command's generic msg says less than what the command printed.
    assert failure_message({"msg": "non-zero return code", "stderr": "boom", "rc": 1}) == (
        "exit 1: boom"
    )
    assert failure_message({"msg": "non-zero return code", "stderr": "", "rc": 1}) == (
        "non-zero return code"
    )
    assert failure_message({"stderr": "no such\nfile", "rc": 2}) == "exit 2: no such file"
    assert failure_message({}) == "failed (no message)"


# --- role templates render to valid configuration -----------------------------------

ROLES = Path(__file__).resolve().parents[2] / "roles"


def _render(template: str, **variables: Any) -> str:
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["lower"] = lambda v: str(v).lower()
    # Ansible's bool filter: booleans pass, strings like "True" or "yes" read true.
    env.filters["bool"] = lambda v: (
        v if isinstance(v, bool) else str(v).lower() in ("true", "yes", "1")
    )
    text = (ROLES / template).read_text()
    return env.from_string(text).render(ansible_managed="Ansible managed", **variables)


@pytest.mark.parametrize("driver", ["systemd", "cgroupfs"])
def test_containerd_config_is_schema_v3(driver: str) -> None:
    import tomllib

    text = _render(
        "container_runtime/templates/config-v3.toml.j2",
        container_runtime_releases={"containerd": {"version": "2.3.7"}},
        container_runtime_restrict_oom_score_adj=True,
        container_runtime_sandbox_image="registry.k8s.io/pause:3.10",
        container_runtime_cgroup_driver=driver,
        container_runtime_cni_bin_dir="/opt/cni/bin",
        container_runtime_cni_conf_dir="/etc/cni/net.d",
        container_runtime_certs_dir="/etc/containerd/certs.d",
    )
    config = tomllib.loads(text)
    assert config["version"] == 3
    plugins = config["plugins"]
    runtime = plugins["io.containerd.cri.v1.runtime"]
    runc = runtime["containerd"]["runtimes"]["runc"]
    images = plugins["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.10"
    assert runc["options"]["SystemdCgroup"] is (driver == "systemd")
    assert runtime["restrict_oom_score_adj"] is True


def test_bridge_conflist_uses_the_node_subnet_and_mtu() -> None:
    text = _render(
        "network/templates/10-groundwork.conflist.j2",
        network_cni_bridge="cni0",
        network_pod_mtu=1450,
        network_pod_subnet="10.244.11.0/24",
        network_underlay={},
    )
    doc = json.loads(text)
    bridge, portmap = doc["plugins"]
    assert bridge["type"] == "bridge" and bridge["mtu"] == 1450
    assert bridge["ipam"] == {
        "type": "host-local",
        "ranges": [[{"subnet": "10.244.11.0/24"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
    }
    assert portmap["type"] == "portmap"


def test_macvlan_conflist_puts_pods_on_the_nodes_network_behind_the_shim() -> None:
    host_vars = rendered("lab-underlay").hosts["all"]["hosts"]["w1"]
    text = _render(
        "network/templates/10-groundwork.conflist.j2",
        network_pod_mtu=1500,
        network_underlay=host_vars["gw_underlay"],
        network_underlay_parent="eth0",
    )
    macvlan, portmap = json.loads(text)["plugins"]
    assert (macvlan["type"], macvlan["master"], macvlan["mode"]) == ("macvlan", "eth0", "bridge")
    assert macvlan["ipam"]["ranges"] == [
        [
            {
                "subnet": "10.80.0.0/16",
                "rangeStart": "10.80.149.2",
                "rangeEnd": "10.80.149.254",
                "gateway": "10.80.149.1",
            }
        ]
    ]
    assert macvlan["ipam"]["routes"] == [
        {"dst": dst, "gw": "10.80.149.1"} for dst in ("0.0.0.0/0", "10.80.0.21/32", "10.80.0.10/32")
    ]
    assert portmap["type"] == "portmap"


def test_routes_go_to_every_other_node_and_the_service_range() -> None:
    host_vars = rendered("lab").hosts["all"]["hosts"]["cp1"]
    routes = [*host_vars["gw_pod_routes"], host_vars["gw_service_route"]]
    text = _render(
        "network/templates/pod-routes.j2", network_routes=routes, network_node_address="10.77.0.11"
    )
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "10.244.12.0/24 10.77.0.12",
        "10.244.13.0/24 10.77.0.13",
        "10.244.21.0/24 10.77.0.21",
        "10.244.22.0/24 10.77.0.22",
        # On the link of the node's own address: no gateway.
        "10.96.0.0/12",
    ]


def test_only_nodes_that_run_pods_route_the_service_range() -> None:
    spec = spec_of("lab")
    plan = build_plan(spec)
    hosts = rendered("lab").hosts["all"]["hosts"]
    for node in spec.nodes:
        expected = str(plan.network.service_cidr) if plan.node(node.name).runs_kubelet else None
        assert hosts[node.name].get("gw_service_route") == expected


def test_each_node_installs_what_its_components_need_in_one_transaction() -> None:
    from groundwork.lab.packages import IMAGE_PACKAGES, MIRROR_PACKAGES
    from groundwork.plan import packages

    hosts = rendered("lab").hosts["all"]["hosts"]
    assert set(packages.APISERVER_LB) <= set(hosts["cp1"]["gw_node_packages"])
    assert not set(packages.APISERVER_LB) & set(hosts["w1"]["gw_node_packages"])
    # The lab image has them, or its offline mirror serves them.
    every = {p for host in hosts.values() for p in host["gw_node_packages"]}
    assert every <= set(MIRROR_PACKAGES) | set(IMAGE_PACKAGES)
    # A DNS endpoint runs no haproxy, so no control-plane node installs it.
    dev = rendered("dev").hosts["all"]["hosts"]
    assert not any(set(packages.APISERVER_LB) & set(h["gw_node_packages"]) for h in dev.values())


def test_each_node_includes_only_its_own_component_roles_in_order() -> None:
    lab_hosts = rendered("lab").hosts["all"]["hosts"]
    assert lab_hosts["cp1"]["gw_components"] == [
        "apiserver_lb",
        "etcd",
        "container_runtime",
        "network",
    ]
    assert lab_hosts["w1"]["gw_components"] == ["container_runtime", "network"]
    # A DNS endpoint: no load balancer on the control-plane nodes.
    dev_hosts = rendered("dev").hosts["all"]["hosts"]
    assert all("apiserver_lb" not in h["gw_components"] for h in dev_hosts.values())
    # Every name is a role of this repository.
    roles = {p.name for p in (Path(__file__).resolve().parents[2] / "roles").iterdir()}
    assert {c for h in lab_hosts.values() for c in h["gw_components"]} <= roles


def test_an_etcd_only_node_runs_etcd_and_nothing_for_pods() -> None:
    from groundwork.plan.components import node_components
    from groundwork.plan.endpoint import EndpointPlan

    vip = EndpointPlan(kind="vip", host="10.0.0.10", port=6443, apiserver_port=6444, haproxy=True)
    assert node_components(True, False, False, vip) == ["etcd"]
    assert node_components(False, True, True, vip) == [
        "apiserver_lb",
        "container_runtime",
        "network",
    ]

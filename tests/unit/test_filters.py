"""The filters the roles use (plugins/filter/groundwork_filters.py), and the
groundwork_files action that splices what they return."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gw_test_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_hosts_toml_per_mirrored_registry() -> None:
    filters = load(PLUGINS / "filter" / "groundwork_filters.py")
    entries = filters.registry_mirror_files(
        {"registry.k8s.io": "http://10.0.0.1:5000", "docker.io": "http://10.0.0.1:5001"},
        "/etc/containerd/certs.d",
    )
    assert [e["dest"] for e in entries] == [
        "/etc/containerd/certs.d/docker.io/hosts.toml",
        "/etc/containerd/certs.d/registry.k8s.io/hosts.toml",
    ]
    assert entries[0]["vars"] == {"registry": "docker.io", "mirror": "http://10.0.0.1:5001"}
    assert filters.registry_mirror_files({}, "/etc/containerd/certs.d") == []
    assert "registry_mirror_files" in filters.FilterModule().filters()


def test_entries_are_spliced_and_disabled_ones_dropped() -> None:
    action = load(PLUGINS / "action" / "groundwork_files.py")
    listed = [
        {"dest": "/a", "content": "a", "enabled": True},
        [{"dest": "/b", "content": "b"}, {"dest": "/c", "content": "c", "enabled": "false"}],
        {"dest": "/d", "content": "d", "enabled": False},
    ]
    assert action._enabled(listed) == [
        {"dest": "/a", "content": "a"},
        {"dest": "/b", "content": "b"},
    ]
    assert action._enabled(None) == []


def test_an_etcd_member_has_run_once_it_published_its_client_urls() -> None:
    filters = load(PLUGINS / "filter" / "groundwork_filters.py")
    ran = {
        "name": "cp3",
        "peerURLs": ["https://10.0.0.13:2380"],
        "clientURLs": ["https://10.0.0.13:2379"],
    }
    # A new cluster whose other members formed the quorum before cp3 started.
    initial_not_started = {"name": "cp3", "peerURLs": ["https://10.0.0.13:2380"]}
    # Added with `etcdctl member add`, not started yet: no name either.
    added_not_started = {"peerURLs": ["https://10.0.0.13:2380"]}
    assert filters.etcd_member_has_run({"members": [ran]}, "cp3")
    assert not filters.etcd_member_has_run({"members": [initial_not_started]}, "cp3")
    assert not filters.etcd_member_has_run({"members": [added_not_started]}, "cp3")
    assert not filters.etcd_member_has_run({"members": [ran]}, "cp4")
    assert not filters.etcd_member_has_run({}, "cp3")


def test_a_changed_file_restarts_only_the_running_units_that_read_it() -> None:
    filters = load(PLUGINS / "filter" / "groundwork_filters.py")
    triggers = {
        "kube-apiserver": ["/etc/kubernetes/pki/", "/etc/kubernetes/audit-policy.yaml"],
        "kube-controller-manager": [
            "/etc/kubernetes/pki/",
            "/usr/local/bin/kube-controller-manager",
        ],
        "kube-scheduler": ["/etc/kubernetes/kube-scheduler.yaml"],
    }
    running = {name: {"active": True, "enabled": True} for name in triggers}
    restart = filters.units_to_restart
    # A directory trigger covers every file under it, in the triggers' order.
    assert restart(["/etc/kubernetes/pki/ca.crt"], triggers, running) == [
        "kube-apiserver",
        "kube-controller-manager",
    ]
    assert restart(["/etc/kubernetes/kube-scheduler.yaml"], triggers, running) == ["kube-scheduler"]
    # A file nobody reads (the admin's kubeconfig) restarts nothing; nor does
    # a path that only starts like a trigger directory.
    assert restart(["/etc/kubernetes/admin.conf"], triggers, running) == []
    assert restart(["/etc/kubernetes/pki-old/ca.crt"], triggers, running) == []
    # A unit that was not running is started by the role, not restarted.
    stopped = running | {"kube-apiserver": {"active": False, "enabled": True}}
    assert restart(["/etc/kubernetes/audit-policy.yaml"], triggers, stopped) == []
    assert restart(["/etc/kubernetes/audit-policy.yaml"], triggers, {}) == []


def test_kubernetes_binaries_are_linked_from_their_versioned_files() -> None:
    filters = load(PLUGINS / "filter" / "groundwork_filters.py")
    binaries = {
        "kubelet": {"path": "/opt/groundwork/kubernetes-1.36.3/kubelet-0123456789ab"},
        "kube-proxy": {"path": "/opt/groundwork/kubernetes-1.36.3/kube-proxy-ba9876543210"},
        "kubectl": {"path": "/opt/groundwork/kubernetes-1.37.0/kubectl-aaaaaaaaaaaa"},
    }
    assert filters.binary_links(binaries, ["kubelet", "kubectl"], "/usr/local/bin") == [
        {"src": binaries["kubelet"]["path"], "dest": "/usr/local/bin/kubelet"},
        {"src": binaries["kubectl"]["path"], "dest": "/usr/local/bin/kubectl"},
    ]
    assert filters.binary_directories(binaries, ["kubelet", "kube-proxy", "kubectl"]) == [
        {"path": "/opt/groundwork/kubernetes-1.36.3", "mode": "0755"},
        {"path": "/opt/groundwork/kubernetes-1.37.0", "mode": "0755"},
    ]
    present = {binaries["kubelet"]["path"]: True, binaries["kube-proxy"]["path"]: False}
    assert filters.missing_binaries(binaries, ["kubelet", "kube-proxy", "kubectl"], present) == [
        "kube-proxy",
        "kubectl",
    ]
    # One the inventory does not pin: not probed, missing (its fetch refuses it).
    names = ["kubelet", "kube-scheduler"]
    assert filters.binary_paths(binaries, names) == [binaries["kubelet"]["path"]]
    assert filters.missing_binaries(binaries, names, present) == ["kube-scheduler"]


def test_one_private_kubeconfig_file_per_entry() -> None:
    filters = load(PLUGINS / "filter" / "groundwork_filters.py")
    admin = {"name": "admin", "user": "admin", "cert": "admin"}
    assert filters.kubeconfig_files([admin], "/etc/kubernetes") == [
        {
            "template": "kubeconfig.j2",
            "dest": "/etc/kubernetes/admin.conf",
            "mode": "0600",
            "vars": {"kubeconfig": admin},
        }
    ]

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

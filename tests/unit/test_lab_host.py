"""The lab host's shared kernel limits."""

from __future__ import annotations

from pathlib import Path

from groundwork.lab.host import HOST_LIMITS, limits_to_raise
from groundwork.plan.kernel import sysctls
from groundwork.spec.model import Backend, KubeProxyMode, Plugin


def test_only_limits_below_the_need_are_raised_and_none_lowered() -> None:
    wanted = {"fs.inotify.max_user_instances": 8192, "fs.inotify.max_user_watches": 524288}
    current = {"fs.inotify.max_user_instances": 128, "fs.inotify.max_user_watches": 1048576}
    assert limits_to_raise(current, wanted) == {"fs.inotify.max_user_instances": 8192}
    assert limits_to_raise({**current, "fs.inotify.max_user_instances": 8192}, wanted) == {}


def test_the_host_limits_are_the_nodes_own_settings() -> None:
    node = {
        s.key: s.value
        for s in sysctls(Plugin.BRIDGE, Backend.STATIC_ROUTES, KubeProxyMode.NFTABLES)
    }
    for key, value in HOST_LIMITS.items():
        assert node[key] == str(value), key


def test_a_site_mirror_is_exported_as_copies_with_its_index(tmp_path: Path) -> None:
    import json

    import pytest

    from groundwork.lab.errors import LabError
    from groundwork.lab.mirror import APT_DIR, RELEASES_INDEX, MirrorContent
    from groundwork.lab.site import export_site

    apt = tmp_path / "cache" / "apt"
    apt.mkdir(parents=True)
    (apt / "Packages.gz").write_bytes(b"packages")
    releases = tmp_path / "cache" / "releases"
    path = "etcd/v3.6.17/etcd-v3.6.17-linux-amd64.tar.gz"
    (releases / path).parent.mkdir(parents=True)
    (releases / path).write_bytes(b"etcd")
    (releases / f"{path}.sha256").write_text("ab" * 32 + "  etcd-v3.6.17-linux-amd64.tar.gz\n")
    entry = {"name": "etcd", "version": "3.6.17", "path": path, "sha256": "ab" * 32}
    (releases / RELEASES_INDEX).write_text(json.dumps([entry]))
    dest = tmp_path / "site"
    index = export_site(dest, "http://mirror.example/gw/", MirrorContent(apt, releases))
    assert index["artifacts"]["etcd"]["url"] == f"http://mirror.example/gw/{path}"
    assert (dest / path).read_bytes() == b"etcd" and not (dest / path).is_symlink()
    assert (dest / f"{path}.sha256").exists() and (dest / APT_DIR / "Packages.gz").exists()
    assert json.loads((dest / "index.json").read_text()) == index
    # Again: replaced, not refused. A directory holding anything else: refused.
    export_site(dest, "http://mirror.example/gw", MirrorContent(apt, releases))
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(LabError, match="not empty"):
        export_site(other, "http://mirror.example/gw", MirrorContent(apt, releases))
    assert (other / "keep.txt").read_text() == "mine"

"""The lab node image's customisation (groundwork/lab/image.py), on a fake root tree."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from groundwork.lab import image
from groundwork.lab.image import (
    HOSTKEYS_UNIT,
    MASKED_GENERATORS,
    MASKED_UNITS,
    cache_key,
    customize,
)
from groundwork.lab.storage import Storage


def a_rootfs(root: Path) -> Path:
    for folder in (
        "etc/ssh/sshd_config.d",
        "etc/systemd/system",
        "etc/dpkg/dpkg.cfg.d",
        "etc/apt/sources.list.d",
        "etc/apt/apt.conf.d",
        "root",
        "var/cache/apt/archives",
    ):
        (root / folder).mkdir(parents=True)
    (root / "etc/ssh/ssh_host_rsa_key").write_text("debootstrap's key")
    (root / "etc/apt/sources.list.d/debian.list").write_text(
        "deb http://deb.debian.org/debian bookworm main\n"
    )
    (root / "var/cache/apt/archives/chrony.deb").write_bytes(b"!<arch>\n")
    return root


def masked(path: Path) -> bool:
    return path.is_symlink() and os.readlink(path) == "/dev/null"


def test_customize_masks_units_and_generators_and_leaves_no_shared_secrets(tmp_path: Path) -> None:
    root = a_rootfs(tmp_path / "rootfs")
    customize(root)
    customize(root)  # a second run over the same tree changes nothing and does not fail
    systemd = root / "etc/systemd"
    assert all(masked(systemd / "system" / unit) for unit in MASKED_UNITS)
    assert all(masked(systemd / "system-generators" / name) for name in MASKED_GENERATORS)
    # Every node makes its own host key and machine id at first boot.
    assert not list((root / "etc/ssh").glob("ssh_host_*"))
    assert (systemd / "system/ssh.service.wants" / HOSTKEYS_UNIT).is_symlink()
    assert (root / "etc/machine-id").read_text() == ""
    # Air-gapped: no Debian source, no package left in apt's cache.
    assert not list((root / "etc/apt/sources.list.d").iterdir())
    assert not list((root / "var/cache/apt/archives").glob("*.deb"))
    assert "force-unsafe-io" in (root / "etc/dpkg/dpkg.cfg.d/groundwork-lab").read_text()
    # Installed packages leave no .deb copy behind (memory storage).
    apt_conf = (root / "etc/apt/apt.conf.d/90groundwork-lab").read_text()
    assert 'APT::Keep-Downloaded-Packages "false";' in apt_conf


def test_the_image_name_follows_its_recipe() -> None:
    assert cache_key(recipe="4") != cache_key(recipe="5")
    assert cache_key(packages=("a", "b")) == cache_key(packages=("b", "a"))


class FakeHost:
    """Records what ensure_image asks of podman and debootstrap (unit test only)."""

    def __init__(self, images: set[str]) -> None:
        self.images = images
        self.calls: list[list[str]] = []
        self.builds = 0

    def run(self, argv: Sequence[str], **_: Any) -> subprocess.CompletedProcess[str]:
        args = list(argv)
        self.calls.append(args)
        verb = args[args.index("--storage-driver") + 2 :]
        if verb[:2] == ["image", "inspect"]:
            found = verb[-1] in self.images
            return subprocess.CompletedProcess(args, 0 if found else 1, f"id-{verb[-1]}", "")
        if verb[:1] == ["import"]:
            self.images.add(verb[2])
        if verb[:1] == ["images"]:
            return subprocess.CompletedProcess(args, 0, "\n".join(sorted(self.images)), "")
        if verb[:1] == ["rmi"]:
            self.images.discard(verb[1])
        return subprocess.CompletedProcess(args, 0, "", "")

    def build(self, images: Path, key: str, rootfs_tar: Path, progress: Any) -> None:
        self.builds += 1
        rootfs_tar.write_bytes(b"tar")


def ensure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: FakeHost) -> str:
    monkeypatch.setattr(image, "run", host.run)
    monkeypatch.setattr(image, "build_rootfs_tar", host.build)
    monkeypatch.setattr(image, "in_use", lambda: [])
    (tmp_path / "image").mkdir(exist_ok=True)
    return image.ensure_image(tmp_path, Storage("memory", tmp_path / "mem"), lambda _: None)


def test_an_image_lost_by_its_storage_is_imported_again_without_debootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = image.image_name(cache_key())
    host = FakeHost({"localhost/groundwork-node:old"})
    assert ensure(tmp_path, monkeypatch, host) == name
    assert host.builds == 1 and host.images == {name}  # built, imported, old image dropped
    host.images.clear()  # the memory storage after a reboot
    assert ensure(tmp_path, monkeypatch, host) == name
    assert host.builds == 1 and host.images == {name}
    imports = [c for c in host.calls if "import" in c]
    assert len(imports) == 2 and imports[-1][-2:] == [
        str(tmp_path / "image" / f"{cache_key()}.tar"),
        name,
    ]
    calls = len(host.calls)
    assert ensure(tmp_path, monkeypatch, host) == name  # both present: one question only
    assert len(host.calls) == calls + 1 and host.builds == 1


def test_an_emptied_cache_rebuilds_even_when_podman_holds_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = image.image_name(cache_key())
    stale_tar = tmp_path / "image" / "0123456789abcdef.tar"
    stale_tar.parent.mkdir()
    stale_tar.write_bytes(b"old recipe")
    host = FakeHost({name})
    assert ensure(tmp_path, monkeypatch, host) == name
    assert host.builds == 1
    # The image it replaces under the same name is removed by its ID, not left untagged.
    rmi = [c for c in host.calls if "rmi" in c]
    assert rmi and rmi[0][-1] == f"id-{name}"
    assert not stale_tar.exists()  # the tar of an older recipe is dropped

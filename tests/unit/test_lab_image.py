"""The lab node image's customisation (groundwork/lab/image.py), on a fake root tree."""

from __future__ import annotations

import os
from pathlib import Path

from groundwork.lab.image import (
    HOSTKEYS_UNIT,
    MASKED_GENERATORS,
    MASKED_UNITS,
    cache_key,
    customize,
)


def a_rootfs(root: Path) -> Path:
    for folder in (
        "etc/ssh/sshd_config.d",
        "etc/systemd/system",
        "etc/dpkg/dpkg.cfg.d",
        "etc/apt/sources.list.d",
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


def test_the_image_name_follows_its_recipe() -> None:
    assert cache_key(recipe="4") != cache_key(recipe="5")
    assert cache_key(packages=("a", "b")) == cache_key(packages=("b", "a"))

"""A Debian root filesystem as an image layer, for the test images whose
upstream base is a distribution (Alpine for agnhost and nginx, Debian
bookworm-slim for glibc-dns-testing).

Their C tools (dig, curl, netcat-openbsd, iproute2, nginx) cannot be built
from Go modules; Debian's packages of them can be installed here, from the
mirror the host itself uses. debootstrap makes one bookworm minbase tree
with them all; the tree becomes one layer (sorted entries, every time stamp
0, numeric owners), cached by its recipe, which the images built on it
share: a node pulls it once. The packages' versions are whatever the mirror
serves when the cache is made (as a `FROM debian:bookworm-slim` build's are).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from groundwork.build.images import Layer
from groundwork.build.run import BuildError
from groundwork.lab.image import debian_mirror, debootstrap_argv
from groundwork.lab.packages import DEBIAN_SUITE

# What the images on this layer run: agnhost's shell tools (upstream's
# Dockerfile installs bind-tools curl netcat-openbsd iproute2 iperf bash
# util-linux-misc from Alpine, whose busybox brings ping), glibc-dns-testing's
# dnsutils, nginx, and flanneld's iptables and nftables.
PACKAGES = (
    "bash",
    "curl",
    "dnsutils",
    "iperf",
    "iproute2",
    "iptables",
    "iputils-ping",
    "netcat-openbsd",
    "nftables",
    "nginx-light",
)
# agnhost's Dockerfile adds this user and group; some specs run as them.
ACCOUNTS = (
    ["groupadd", "--gid", "50000", "group-defined-in-image"],
    ["useradd", "--uid", "1000", "--groups", "group-defined-in-image", "user-defined-in-image"],
)
# Left out of the layer: package lists, caches, documentation, logs.
PRUNED = ("var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man", "var/log")


def recipe_key() -> str:
    doc = {"suite": DEBIAN_SUITE, "packages": PACKAGES, "accounts": ACCOUNTS, "pruned": PRUNED}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def base_layer(cache: Path) -> Layer:
    """The Debian layer, from the cache when its recipe is unchanged."""
    cache.mkdir(parents=True, exist_ok=True)
    key = recipe_key()
    tar_gz = cache / f"debian-{DEBIAN_SUITE}-{key}.tar.gz"
    diff_file = tar_gz.with_suffix(".diffid")
    if not (tar_gz.exists() and diff_file.exists()):
        raw = _build_tar()
        partial = tar_gz.with_suffix(".partial")
        partial.write_bytes(gzip.compress(raw, mtime=0))
        diff_file.write_text("sha256:" + hashlib.sha256(raw).hexdigest())
        partial.replace(tar_gz)
        for old in cache.glob(f"debian-{DEBIAN_SUITE}-*"):
            if old.name.split(".")[0] != tar_gz.name.split(".")[0]:
                old.unlink()
    return Layer(tar_gz.read_bytes(), diff_file.read_text().strip())


def _run(argv: list[str], what: str, timeout: float) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed (exit {result.returncode}):\n{tail}")


def _build_tar() -> bytes:
    with tempfile.TemporaryDirectory(prefix="groundwork-debian-") as work:
        rootfs = Path(work) / "rootfs"
        mirror = debian_mirror()
        _run(
            debootstrap_argv(rootfs, mirror, PACKAGES),
            f"debootstrap {DEBIAN_SUITE} from {mirror}",
            timeout=1800,
        )
        for argv in ACCOUNTS:
            _run(["chroot", str(rootfs), *argv], " ".join(argv), timeout=60)
        for path in PRUNED:
            shutil.rmtree(rootfs / path, ignore_errors=True)
            (rootfs / path).mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                "tar",
                "--create",
                "--sort=name",
                "--mtime=@0",
                "--numeric-owner",
                "--format=pax",
                "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
                f"--directory={rootfs}",
                ".",
            ],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise BuildError(f"packing {rootfs} failed: {result.stderr.decode(errors='replace')}")
        return result.stdout

"""The node image: Debian from debootstrap, made to boot as a container, in podman.

The image is named by a hash of its inputs, so it is rebuilt only when the
suite, the package list or the customisation (IMAGE_RECIPE_VERSION) change.
Its root filesystem is kept as a tar in the cache: a lab storage that lost
the image (the memory storage after a reboot, or a stack that moved to the
other storage) imports it again in seconds, without debootstrap.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from groundwork.lab.errors import LabError
from groundwork.lab.packages import DEBIAN_SUITE, IMAGE_PACKAGES
from groundwork.lab.proc import last_line, run
from groundwork.lab.storage import Storage, in_use
from groundwork.progress import Progress

# Bump when customize() changes what ends up in the image.
IMAGE_RECIPE_VERSION = "5"
IMAGE_REPO = "localhost/groundwork-node"

# Units that need hardware or a console a container does not have; masked so
# `systemctl is-system-running` can reach "running".
MASKED_UNITS: tuple[str, ...] = (
    "systemd-udevd.service",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "getty@tty1.service",
    "console-getty.service",
    "serial-getty@console.service",
    # Boot-time work a container does not need; each costs seconds on a busy
    # host when five nodes boot at once.
    "e2scrub_reap.service",
    "modprobe@.service",
    "dev-hugepages.mount",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "sys-fs-fuse-connections.mount",
    "sys-kernel-config.mount",
)

# systemd generators a container has no use for (no fstab, disks, console,
# SysV scripts or kernel command line of its own), masked. Each runs on every
# `systemctl daemon-reload`, and a cold `up` reloads systemd about eight times
# per machine (most packages' maintainer scripts reload it): masking them
# halves a reload's CPU (110 to 58 ms measured on a node).
MASKED_GENERATORS: tuple[str, ...] = (
    "systemd-cryptsetup-generator",
    "systemd-debug-generator",
    "systemd-fstab-generator",
    "systemd-getty-generator",
    "systemd-gpt-auto-generator",
    "systemd-hibernate-resume-generator",
    "systemd-integritysetup-generator",
    "systemd-rc-local-generator",
    "systemd-run-generator",
    "systemd-system-update-generator",
    "systemd-sysv-generator",
    "systemd-veritysetup-generator",
)

HOSTKEYS_UNIT = "groundwork-ssh-hostkeys.service"
# Host keys are removed from the image so every node makes its own at first
# boot. Only ed25519: RSA key generation takes seconds of CPU per node.
HOSTKEYS_UNIT_TEXT = """\
[Unit]
Description=Generate this machine's own SSH host key
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
"""
SSHD_CONFIG_TEXT = "# groundwork lab: the one host key each node makes at first boot\nHostKey /etc/ssh/ssh_host_ed25519_key\n"


# The lab's machines are disposable, unlike real hosts: dpkg need not fsync
# every file it unpacks (on container storage that was most of a cold `up`'s
# package installs), nor unpack documentation nobody reads there.
DPKG_LAB_CONFIG = """# groundwork lab: disposable machines, fast package installs
force-unsafe-io
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
"""
# Nor keep each downloaded .deb once installed: in the memory storage that
# was 150-230 MB of every machine's share (groundwork/lab/storage.py).
APT_LAB_CONFIG = """// groundwork lab: the mirror is on the host, installed packages need no copy
APT::Keep-Downloaded-Packages "false";
"""


def cache_key(
    suite: str = DEBIAN_SUITE,
    packages: tuple[str, ...] = IMAGE_PACKAGES,
    recipe: str = IMAGE_RECIPE_VERSION,
) -> str:
    """Hash of everything the image is made from (pure; package order does not matter)."""
    doc = json.dumps(
        {"suite": suite, "packages": sorted(packages), "recipe": recipe}, sort_keys=True
    )
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


def image_name(key: str) -> str:
    return f"{IMAGE_REPO}:{key}"


def debian_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror the host itself uses (deb.debian.org if none is found)."""
    candidates = [sources_dir / "sources.list", *sorted(sources_dir.glob("sources.list.d/*"))]
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        url = find_debian_url(text)
        if url:
            return url
    return "http://deb.debian.org/debian"


def find_debian_url(text: str) -> str | None:
    """First http(s) URL ending in /debian in an apt sources text, one-line or deb822 (pure)."""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        for word in line.replace("URIs:", " ").split():
            if word.startswith(("http://", "https://")) and word.rstrip("/").endswith("/debian"):
                return word.rstrip("/")
    return None


def debootstrap_argv(
    rootfs: Path, mirror: str, packages: tuple[str, ...] = IMAGE_PACKAGES
) -> list[str]:
    return [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(packages)}",
        DEBIAN_SUITE,
        str(rootfs),
        mirror,
    ]


def mask(directory: Path, names: tuple[str, ...]) -> None:
    """systemd's way to turn off a unit or generator: a link to /dev/null in /etc."""
    directory.mkdir(exist_ok=True)
    for name in names:
        path = directory / name
        path.unlink(missing_ok=True)
        path.symlink_to("/dev/null")


def customize(rootfs: Path) -> None:
    """Make a debootstrapped tree boot cleanly as a container that looks like a VM."""
    etc = rootfs / "etc"
    for key in (etc / "ssh").glob("ssh_host_*"):
        key.unlink()
    (etc / "ssh" / "sshd_config.d" / "groundwork-hostkey.conf").write_text(SSHD_CONFIG_TEXT)
    systemd = etc / "systemd" / "system"
    (systemd / HOSTKEYS_UNIT).write_text(HOSTKEYS_UNIT_TEXT)
    wants = systemd / "ssh.service.wants"
    wants.mkdir(exist_ok=True)
    link = wants / HOSTKEYS_UNIT
    link.unlink(missing_ok=True)
    link.symlink_to(f"/etc/systemd/system/{HOSTKEYS_UNIT}")
    mask(systemd, MASKED_UNITS)
    mask(etc / "systemd" / "system-generators", MASKED_GENERATORS)
    (etc / "dpkg" / "dpkg.cfg.d" / "groundwork-lab").write_text(DPKG_LAB_CONFIG)
    (etc / "apt" / "apt.conf.d" / "90groundwork-lab").write_text(APT_LAB_CONFIG)
    # Empty machine-id: systemd gives each node its own at boot.
    (etc / "machine-id").write_text("")
    # Air-gapped: no Debian sources; `lab up` points apt at the lab mirror.
    (etc / "apt" / "sources.list").write_text("# sources: see sources.list.d/\n")
    for extra in (etc / "apt" / "sources.list.d").glob("*"):
        extra.unlink()
    root_ssh = rootfs / "root" / ".ssh"
    root_ssh.mkdir(mode=0o700, exist_ok=True)
    for junk in (rootfs / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        junk.unlink()


def image_id(store: Storage, name: str) -> str | None:
    """The ID of the image of that name in store; None when it holds none."""
    result = run(store.podman("image", "inspect", "--format", "{{.Id}}", name), check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def ensure_image(cache: Path, store: Storage, progress: Progress) -> str:
    """The node image for the current inputs in store: built if missing, imported if absent."""
    key = cache_key()
    name = image_name(key)
    images = cache / "image"
    # The cache dir is the record of what is built: an emptied cache dir means
    # a cold build even if podman still holds an image of that name.
    rootfs_tar = images / f"{key}.tar"
    held = image_id(store, name)
    if rootfs_tar.exists() and held:
        return name
    if not rootfs_tar.exists():
        build_rootfs_tar(images, key, rootfs_tar, progress)
    progress(f"importing {name} into the lab's storage {store.describe()}")
    result = run(store.podman("import", str(rootfs_tar), name), check=False, timeout=600)
    if result.returncode != 0:
        raise LabError(f"podman import of {name} failed: {last_line(result.stderr)}")
    if held:
        # An image of this name from an emptied cache is replaced: without its
        # name it would stay behind, untagged, holding memory or disk. Refused
        # while a machine still runs on it; `lab up` replaces those.
        run(store.podman("rmi", held), check=False)
    # Older recipes' images go from every storage (one left on disk by a
    # stack that moved to memory would stay forever).
    for each in {store, *in_use()}:
        remove_old_images(each, keep=name)
    for old in images.glob("*.tar"):
        if old != rootfs_tar:
            old.unlink()
    return name


def build_rootfs_tar(images: Path, key: str, rootfs_tar: Path, progress: Progress) -> None:
    """debootstrap, customize, and store the root filesystem as rootfs_tar."""
    build = images / f"build-{key}"
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)
    rootfs = build / "rootfs"
    mirror = debian_mirror()
    progress(
        f"building node image {image_name(key)} with debootstrap from {mirror} (about a minute)"
    )
    try:
        run(debootstrap_argv(rootfs, mirror), timeout=1800)
        customize(rootfs)
        partial = build / "rootfs.tar"
        # Numeric owners: the tar is read back by podman, not by this host's users.
        run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], timeout=600)
        partial.replace(rootfs_tar)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def remove_old_images(store: Storage, keep: str) -> None:
    """Drop images of older recipes so the store does not grow with every change."""
    out = run(store.podman("images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE_REPO)).stdout
    for ref in out.split():
        if ref != keep:
            run(store.podman("rmi", ref), check=False)

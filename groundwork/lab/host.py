"""Host prerequisites: root and the tools the lab drives, installed where possible."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from groundwork.lab.errors import LabError
from groundwork.lab.proc import run
from groundwork.progress import Progress

# tool on PATH (or absolute path) -> Debian package providing it.
# runc matters: podman's default runtime here (crun) cannot boot systemd on
# this kernel's hybrid cgroups, so nodes run with --runtime /usr/sbin/runc.
REQUIRED_TOOLS: dict[str, str] = {
    "podman": "podman",
    "/usr/sbin/runc": "runc",
    "debootstrap": "debootstrap",
    "dpkg-scanpackages": "dpkg-dev",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "apt-get": "apt",
    "ip": "iproute2",
}

RUNC = "/usr/sbin/runc"


def missing_packages(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """Debian packages to install so every required tool is present (pure given `which`)."""
    missing: list[str] = []
    for tool, package in REQUIRED_TOOLS.items():
        found = os.path.exists(tool) if tool.startswith("/") else which(tool) is not None
        if not found and package not in missing:
            missing.append(package)
    return missing


def ensure_host(progress: Progress) -> None:
    """Fail unless root; install missing host packages with apt-get."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (podman privileged containers): rerun as root")
    missing = missing_packages()
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise LabError(f"missing host packages: install {' '.join(missing)} and retry")
    progress(f"installing host packages: {' '.join(missing)}")
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    run([*env_cmd, "apt-get", "update", "-qq"], timeout=900)
    run([*env_cmd, "apt-get", "install", "-y", "-qq", *missing], timeout=1800)
    still = missing_packages()
    if still:
        raise LabError(f"could not install {' '.join(still)}: install them by hand and retry")

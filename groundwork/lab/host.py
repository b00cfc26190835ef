"""Host prerequisites: root and the tools the lab drives, installed where possible."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

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
    # The lab's OCI registry (groundwork/lab/registry.py).
    "/usr/bin/docker-registry": "docker-registry",
}

RUNC = "/usr/sbin/runc"

# Host-wide kernel limits the lab's machines share and cannot raise
# themselves: a container applies only its network namespace's sysctls. Each
# machine's systemd, and each kubelet, apiserver and containerd in it, holds
# inotify instances counted against the host's root user; at Debian's default
# of 128, a 5-node cluster running Kubernetes leaves too few for a second lab
# (its fifth machine's systemd cannot start sshd). The values are the nodes'
# own (groundwork/plan/kernel.py). Raised only, never lowered.
HOST_LIMITS: dict[str, int] = {
    "fs.inotify.max_user_instances": 8192,
    "fs.inotify.max_user_watches": 524288,
}


def limits_to_raise(current: Mapping[str, int], wanted: Mapping[str, int]) -> dict[str, int]:
    """The limits below what the lab needs, with the value to set (pure)."""
    return {key: value for key, value in wanted.items() if current.get(key, 0) < value}


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def ensure_host_limits(progress: Progress) -> None:
    """Raise the host-wide limits the lab's machines need (until the host reboots)."""
    current = {key: int(_sysctl_path(key).read_text().split()[0]) for key in HOST_LIMITS}
    for key, value in limits_to_raise(current, HOST_LIMITS).items():
        progress(f"lab host: raising {key} from {current[key]} to {value} (the machines share it)")
        try:
            _sysctl_path(key).write_text(f"{value}\n")
        except OSError as e:
            raise LabError(f"could not raise {key} to {value} on this host: {e}") from e


def missing_packages(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """Debian packages to install so every required tool is present (pure given `which`)."""
    missing: list[str] = []
    for tool, package in REQUIRED_TOOLS.items():
        found = os.path.exists(tool) if tool.startswith("/") else which(tool) is not None
        if not found and package not in missing:
            missing.append(package)
    return missing


def ensure_host(progress: Progress) -> None:
    """Fail unless root; install missing host packages with apt-get; raise the
    host-wide limits the machines share."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (podman privileged containers): rerun as root")
    ensure_host_limits(progress)
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

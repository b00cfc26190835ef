"""Where the lab's machines keep their disks: in memory (the default) or on disk.

`cluster.lab.storage: memory` gives the lab podman storage of its own on a
tmpfs (GROUNDWORK_LAB_STORAGE_DIR, default /run/groundwork/lab-storage),
shared by the labs of every stack on the host. `disk` uses podman's own
storage (/var/lib/containers/storage).

Why memory: the machines are disposable, and a cold `up` writes a few
hundred MB and thousands of files on each. On disk that is writeback, and on
an ext4 without a journal (the root filesystem of this project's CI hosts)
every new file's inode search steps over the inodes that the last
`lab down` freed (ext4's `recently_deleted()`), which made a rebuild of 15
machines 11 s slower (BENCHMARKS.md). The cost: memory, about 160 MB per
worker and 430 MB per control-plane node after a cold `up` (the image, 265 MB,
once), and a reboot loses the machines (the next `lab up` makes new, empty ones).

Every podman command of the lab goes through `Storage.podman`, so the lab
never mixes its storage with another one. To look at the machines with
podman yourself: `groundwork lab status` prints the command prefix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from groundwork.lab.errors import LabError
from groundwork.lab.proc import run
from groundwork.progress import Progress
from groundwork.spec.model import LabStorageKind

# A machine's share of the tmpfs after a cold `up` (measured: worker 160 MB,
# control-plane node 430 MB with etcd's preallocated WAL) plus what its own
# processes use, with room for Kubernetes' binaries and images where they are
# supplied: the check refuses a lab the host cannot hold.
MIB_PER_MACHINE = 1024
# Left free for the host itself and the controller (Ansible, ssh, mirror).
MIB_HOST_RESERVE = 1024


@dataclass(frozen=True)
class Storage:
    kind: LabStorageKind
    # The tmpfs mount point (memory storage only).
    root: Path | None = None

    def podman(self, *args: str) -> list[str]:
        """podman with this storage's global options, then args (pure)."""
        if self.root is None:
            return ["podman", *args]
        return [
            "podman",
            "--root",
            str(self.root / "graph"),
            "--runroot",
            str(self.root / "run"),
            # libpod's own record of what ran since boot: kept beside the
            # storage it describes, not shared with podman's default one.
            "--tmpdir",
            str(self.root / "tmp"),
            "--storage-driver",
            "overlay",
            *args,
        ]

    def exits_dir(self) -> Path:
        """Where conmon records each container's exit for podman: under
        libpod's tmpdir (`--tmpdir` above; podman's default for root is
        /run/libpod)."""
        return (self.root / "tmp" if self.root else Path("/run/libpod")) / "exits"

    def describe(self) -> str:
        if self.root is None:
            return "on disk (podman's own storage)"
        return f"in memory (tmpfs at {self.root})"


# podman's own storage: frozen, so it can be a default and a dict key.
DISK = Storage("disk")


def memory_root() -> Path:
    return Path(os.environ.get("GROUNDWORK_LAB_STORAGE_DIR", "/run/groundwork/lab-storage"))


def storage(kind: LabStorageKind) -> Storage:
    return Storage("memory", memory_root()) if kind == "memory" else DISK


def mount_points(mountinfo: str) -> set[Path]:
    """Mount points listed in a /proc/self/mountinfo text (pure)."""
    points = set()
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            # Octal escapes (\040 for a space) as the kernel writes them.
            points.add(Path(fields[4].encode().decode("unicode_escape")))
    return points


def is_mounted(path: Path) -> bool:
    return path in mount_points(Path("/proc/self/mountinfo").read_text())


def in_use() -> list[Storage]:
    """Every storage that can hold lab machines now: disk always, memory when mounted.

    An unmounted memory root holds nothing (the host rebooted, or no lab used
    it yet); podman must not be pointed at it, or it would write to the disk
    underneath.
    """
    found = [DISK]
    if is_mounted(memory_root()):
        found.append(storage("memory"))
    return found


def memory_problem(new_machines: int, available_mib: int) -> str | None:
    """Why the host cannot hold new_machines more in memory; None when it can (pure)."""
    needed = new_machines * MIB_PER_MACHINE + MIB_HOST_RESERVE
    if new_machines == 0 or available_mib >= needed:
        return None
    return (
        f"cluster.lab.storage is memory: {new_machines} new machine(s) need about "
        f"{needed} MiB, this host has {available_mib} MiB available; set "
        "cluster.lab.storage: disk in the stack file, or free memory (another lab: "
        "groundwork lab down --stack S)"
    )


def available_mib(meminfo: str) -> int:
    """MemAvailable from a /proc/meminfo text, in MiB (pure)."""
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise LabError("/proc/meminfo has no MemAvailable line: cannot size the lab's memory")


def ensure_ready(store: Storage, new_machines: int, progress: Progress) -> None:
    """Mount the memory storage's tmpfs if needed and check it can take the new machines."""
    if store.root is None:
        return
    problem = memory_problem(new_machines, available_mib(Path("/proc/meminfo").read_text()))
    if problem:
        raise LabError(problem)
    if is_mounted(store.root):
        return
    progress(f"mounting the lab's storage {store.describe()}")
    store.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    # No size= option: tmpfs's default, half the host's memory, bounds it.
    run(["mount", "-t", "tmpfs", "-o", "mode=0700", "groundwork-lab", str(store.root)])

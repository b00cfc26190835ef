"""The lab nodes: privileged podman containers booting systemd, like small VMs."""

from __future__ import annotations

import json
import os
import shlex
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundwork.lab.apt_signing import KEYRING_ON_NODES
from groundwork.lab.errors import LabError
from groundwork.lab.host import RUNC
from groundwork.lab.layout import LABEL, LabLayout, LabNode
from groundwork.lab.proc import run
from groundwork.lab.storage import DISK, Storage, in_use

BOOT_TIMEOUT = 120.0

# The common role's apt source file (roles/common/defaults: common_apt_source_file).
APT_SOURCE_FILE = "/etc/apt/sources.list.d/groundwork.list"


@dataclass(frozen=True)
class Container:
    name: str
    state: str  # podman's: running, exited, created, ...
    pid: int
    address: str | None
    image: str
    labels: Mapping[str, str]
    # podman's container ID: a container re-made under the same name has a new one.
    id: str = ""
    # The podman storage holding it (groundwork/lab/storage.py).
    storage: Storage = DISK
    # The address it was created with (`--ip`): a stopped container has none live.
    declared_address: str | None = None
    # conmon, podman's monitor of the container: it records the exit podman reads.
    conmon_pid: int = 0
    # What it runs as PID 1: a node made with another boot is replaced.
    command: tuple[str, ...] = ()


# containerd's store (its snapshots are overlay mounts): an anonymous volume,
# removed with the node.
CONTAINERD_STORE = "/var/lib/containerd"

# What the node runs as PID 1, before systemd. On a cgroup v1 host, podman's
# systemd mode stacks a bind of the host's whole name=systemd hierarchy (its
# root reads "/../.." in mountinfo) over the node's own cgroup mount. Every
# node's systemd then managed that one shared tree: a pod's container
# sometimes lost its scope to another node's systemd (about 1 in 14 on a
# worker), and every exec into it failed. Taking the bind off before systemd
# starts leaves the cgroup namespace's own mount, rooted at the node's cgroup.
# Only a mount whose root is not "/" is removed, so a host without that bind
# (cgroup v2, another podman) boots unchanged.
NODE_INIT = """\
while awk '$5 == "/sys/fs/cgroup/systemd" { root = $4 } END { exit root == "/" || root == "" }' \\
    /proc/self/mountinfo; do
  umount -R /sys/fs/cgroup/systemd || break
done
exec /sbin/init
"""
NODE_COMMAND: tuple[str, ...] = ("/bin/sh", "-c", NODE_INIT)


def run_argv(lab: LabLayout, node: LabNode, image: str) -> list[str]:
    """podman run for one node (pure).

    runc, not podman's default crun: crun cannot boot systemd on this kind of
    host's hybrid cgroups. The ulimits stay under the host's hard limit. A
    cgroup namespace of its own: the node's systemd and its kubelet then see
    the same cgroup root (on a shared one, systemd makes kubepods.slice under
    the container's cgroup and the kubelet looks for it at the top).
    containerd's image store on a volume of its own, as kind does with /var:
    the node's root is an overlay, and an overlay (a container's root) cannot
    have its upper layer on another overlay. podman's systemd mode (tmpfs
    /run and /tmp, the halt signal) stays on for NODE_INIT, which ends by
    exec-ing systemd.
    """
    return lab.storage.podman(
        "run",
        "-d",
        "--name",
        node.container,
        "--label",
        lab.label,
        "--privileged",
        "--cgroupns=private",
        "--runtime",
        RUNC,
        "--ulimit",
        "nofile=20000:20000",
        "--ulimit",
        "nproc=4096:4096",
        "--network",
        lab.network,
        "--ip",
        str(node.address),
        "--hostname",
        node.name,
        "--volume",
        CONTAINERD_STORE,
        "--systemd=always",
        image,
        *NODE_COMMAND,
    )


def parse_containers(
    data: Iterable[Mapping[str, Any]], network: str, storage: Storage
) -> list[Container]:
    """Containers from `podman inspect` output of one storage (pure)."""
    result = []
    for item in data:
        nets = (item.get("NetworkSettings") or {}).get("Networks") or {}
        address = (nets.get(network) or {}).get("IPAddress") or None
        state = item.get("State") or {}
        create = [str(a) for a in (item.get("Config") or {}).get("CreateCommand") or []]
        declared = create[create.index("--ip") + 1] if "--ip" in create[:-1] else None
        result.append(
            Container(
                name=str(item.get("Name", "")).lstrip("/"),
                state=str(state.get("Status", "unknown")),
                pid=int(state.get("Pid") or 0),
                address=address,
                image=str(item.get("ImageName", "")),
                labels=dict((item.get("Config") or {}).get("Labels") or {}),
                id=str(item.get("Id", "")),
                storage=storage,
                declared_address=declared,
                conmon_pid=int(state.get("ConmonPid") or 0),
                command=tuple(str(a) for a in (item.get("Config") or {}).get("Cmd") or ()),
            )
        )
    return result


def list_containers(lab: LabLayout) -> list[Container]:
    """Every container of this lab: carrying our label, or named like our nodes,
    in every storage in use (a lab whose stack changed its storage has its old
    machines in the other one)."""
    found: list[Container] = []
    for store in in_use():
        out = run(
            store.podman("ps", "-a", "--filter", f"label={lab.label}", "--format", "{{.Names}}")
        ).stdout.split()
        names = sorted({*out, *(n.container for n in lab.nodes)})
        result = run(store.podman("container", "inspect", *names), check=False)
        # inspect prints the ones it found even when some names do not exist.
        try:
            data = json.loads(result.stdout or "[]")
        except ValueError:
            data = []
        found += parse_containers(data, lab.network, store)
    return found


def in_lab_storage(lab: LabLayout, containers: Iterable[Container]) -> dict[str, Container]:
    """The containers in the storage the stack names, by name: a machine left
    in the other storage counts as absent (`lab up` replaces it)."""
    return {c.name: c for c in containers if c.storage == lab.storage}


def pid_exists(pid: int) -> bool:
    return pid > 0 and os.path.exists(f"/proc/{pid}")


def is_alive(c: Container) -> bool:
    """Running by podman's record and by the kernel's (records outlive reboots)."""
    return c.state == "running" and pid_exists(c.pid)


# podman's states of a container it believes has a process.
LIVE_STATES = frozenset({"running", "paused", "stopping"})
# What conmon records for a process killed by SIGKILL (128 + 9).
KILLED_EXIT_CODE = "137"


def monitor_lost(c: Container) -> bool:
    """podman believes the machine runs, but its process and conmon are both
    gone: killed together, as when every process of the host's session is
    killed. podman learns of an exit only from the file conmon writes, so
    such a record says "running" forever, and `podman start` does nothing."""
    return c.state in LIVE_STATES and not pid_exists(c.pid) and not pid_exists(c.conmon_pid)


def record_lost_exit(c: Container) -> None:
    """Write the exit file conmon would have written (it died with the
    machine): podman then sees the machine stopped and releases its network
    and mounts itself, so `podman start` boots it with its disk."""
    exits = c.storage.exits_dir()
    exits.mkdir(parents=True, exist_ok=True)
    exit_file = exits / c.id
    if not exit_file.exists():
        exit_file.write_text(KILLED_EXIT_CODE)


def healthy(c: Container, lab: LabLayout, node: LabNode, image: str) -> bool:
    return (
        is_alive(c)
        and c.storage == lab.storage
        and c.address == str(node.address)
        and c.image == image
        and c.command == NODE_COMMAND
    )


def can_power_on(c: Container, lab: LabLayout, node: LabNode, image: str) -> bool:
    """A machine that is off (stopped, or its process gone) but is still the
    declared one: powering it on keeps its disk, as a real machine's."""
    return (
        not is_alive(c)
        and c.storage == lab.storage
        and c.declared_address == str(node.address)
        and c.image == image
        and c.command == NODE_COMMAND
    )


def power_on(lab: LabLayout, machines: Mapping[LabNode, Container]) -> list[LabNode]:
    """`podman start` each; the ones that did not start (their record is
    broken) are returned, to be replaced."""

    def one(node: LabNode) -> LabNode | None:
        if monitor_lost(machines[node]):
            record_lost_exit(machines[node])
        started = run(lab.storage.podman("start", node.container), check=False, timeout=120)
        return None if started.returncode == 0 else node

    return [n for n in parallel(one, list(machines)) if n is not None]


def remove(containers: Iterable[Container]) -> None:
    by_storage: dict[Storage, list[str]] = {}
    for c in containers:
        by_storage.setdefault(c.storage, []).append(c.name)
    for store, names in by_storage.items():
        # -v: with the anonymous volumes each node keeps its container images in.
        run(store.podman("rm", "-f", "-v", "-t", "0", *names), timeout=120)


def start_all(lab: LabLayout, nodes: list[LabNode], image: str) -> None:
    """Create and start the nodes in parallel."""

    def one(node: LabNode) -> None:
        run(run_argv(lab, node, image), timeout=120)

    parallel(one, nodes)


def parallel(fn: Callable[[LabNode], Any], nodes: list[LabNode]) -> list[Any]:
    if not nodes:
        return []
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        return list(pool.map(fn, nodes))


def exec_argv(
    lab: LabLayout, container: str, command: list[str], interactive: bool = False
) -> list[str]:
    return lab.storage.podman("exec", *(["-i"] if interactive else []), container, *command)


def wait_sshd(lab: LabLayout, node: LabNode, timeout: float = BOOT_TIMEOUT) -> None:
    """Wait until the node's sshd accepts connections.

    Polls the SSH port with a plain TCP connect (nearly free) rather than
    `podman exec`, whose cost slows five nodes booting on a small host.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(str(node.address), node.port):
            return
        time.sleep(0.2)
    raise LabError(
        f"node {node.name} did not start sshd within {timeout:.0f} s: "
        f"see `{shlex.join(lab.storage.podman('logs', node.container))}`"
    )


def wait_host_key(lab: LabLayout, node: LabNode, timeout: float = BOOT_TIMEOUT) -> str:
    """The node's host key, read through podman (not the network) once sshd listens."""
    wait_sshd(lab, node, timeout)
    result = run(exec_argv(lab, node.container, ["cat", "/etc/ssh/ssh_host_ed25519_key.pub"]))
    return result.stdout.strip()


def port_open(host: str, port: int) -> bool:
    """Whether a TCP connection to host:port succeeds within a second."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def setup_script(lab: LabLayout, public_key: str, apt_source: str, apt_key: str) -> str:
    """Shell run on each new node: authorize our key, name the peers, use the
    mirror, trusting its apt index through the lab's signing key (pure)."""
    hosts = "\n".join(f"{n.address} {n.name}" for n in lab.nodes)
    users = sorted({n.user for n in lab.nodes})
    lines = ["set -e", "umask 077"]
    for user in users:
        home = "/root" if user == "root" else f"/home/{user}"
        lines += [
            f"id -u {shlex.quote(user)} >/dev/null 2>&1 || useradd -m -s /bin/bash "
            f"{shlex.quote(user)}",
            f"mkdir -p {home}/.ssh",
            f"printf '%s\\n' {shlex.quote(public_key.strip())} > {home}/.ssh/authorized_keys",
            f"chown -R {shlex.quote(user)}: {home}/.ssh",
        ]
        if user != "root":
            lines.append(
                f"echo {shlex.quote(f'{user} ALL=(ALL) NOPASSWD:ALL')} "
                f"> /etc/sudoers.d/90-groundwork-{user}"
            )
    marker = "# lab nodes (groundwork)"
    lines += [
        "umask 022",
        # Idempotent: a re-run (new lab key on kept nodes) must not repeat entries.
        f"if ! grep -qxF {shlex.quote(marker)} /etc/hosts; then",
        f"  printf '%s\\n' {shlex.quote(marker)} {shlex.quote(hosts)} >> /etc/hosts",
        "fi",
        # The file the common role manages (one source line, not two): the
        # lab writes it only until the role takes it over.
        f"[ -e {APT_SOURCE_FILE} ] || printf '%s\\n' {shlex.quote(apt_source)} > {APT_SOURCE_FILE}",
        f"mkdir -p {shlex.quote(str(Path(KEYRING_ON_NODES).parent))}",
        f"[ -e {KEYRING_ON_NODES} ] || printf '%s' {shlex.quote(apt_key)} > {KEYRING_ON_NODES}",
    ]
    return "\n".join(lines) + "\n"


def configure(lab: LabLayout, node: LabNode, script: str) -> None:
    run(exec_argv(lab, node.container, ["sh", "-s"], interactive=True), input=script)


def wait_booted(lab: LabLayout, node: LabNode, timeout: float = BOOT_TIMEOUT) -> str:
    """Wait until systemd has finished booting the node; its final state."""
    result = run(
        exec_argv(lab, node.container, ["systemctl", "is-system-running", "--wait"]),
        check=False,
        timeout=timeout,
    )
    return result.stdout.strip() or "unknown"


def system_state(lab: LabLayout, node: LabNode) -> str:
    """`systemctl is-system-running` on a node, through podman."""
    result = run(
        exec_argv(lab, node.container, ["systemctl", "is-system-running"]),
        check=False,
        timeout=30,
    )
    return result.stdout.strip() or "unreachable"


def label_of(c: Container) -> str | None:
    return c.labels.get(LABEL)

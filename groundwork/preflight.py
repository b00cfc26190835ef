"""Pre-flight: what a node must be before any role changes it (pure).

The site playbook's first play probes every node in one call (the
`groundwork_preflight` action plugin runs `groundwork_probe` with
`PROBE_COMMANDS`) and hands the answers to `problems()`. Every problem of a
node is reported in one message, and every node's message in the same run,
before anything is changed anywhere (the play is any_errors_fatal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Opinionated floors. The roles install with apt and use systemd; etcd wants
# room for its data and snapshots; TLS and etcd leases want clocks that agree.
SUPPORTED_OS: dict[str, int] = {"debian": 12, "ubuntu": 22}
MIN_KERNEL: tuple[int, int] = (5, 10)
MAX_CLOCK_SKEW_SECONDS = 2.0
MIN_ETCD_DISK_MIB = 2048
# The filesystem etcd's data directory (/var/lib/etcd) lands on.
ETCD_DISK_PATH = "/var/lib"

# name -> argv, run by groundwork_probe on the node (read-only commands).
PROBE_COMMANDS: dict[str, list[str]] = {
    "os_release": ["cat", "/etc/os-release"],
    "kernel": ["uname", "-r"],
    "clock": ["date", "+%s.%N"],
    "disk": ["df", "-Pk", ETCD_DISK_PATH],
    "uid": ["id", "-u"],
}


# Devices the network backend creates on a node that runs pods, each probed
# by creating one and deleting it at once: a kernel without the device type
# is named here, never halfway through a run. The arguments are the least
# each type needs to be created (no address it would route).
LINK_PROBES: dict[str, str] = {
    "bridge": "",
    "vxlan": "id 4242 dstport 4789",
    "geneve": "id 4242 remote 192.0.2.1",
    "ipip": "remote 192.0.2.1",
    "wireguard": "",
}
LINK_PROBE_DEVICE = "gw-probe0"


def link_probe_command(kind: str) -> list[str]:
    """Create a device of this type and delete it (a stale one goes first)."""
    device = LINK_PROBE_DEVICE
    script = (
        f"ip link del {device} 2>/dev/null; "
        f"ip link add {device} type {kind} {LINK_PROBES[kind]} && ip link del {device}"
    )
    return ["sh", "-c", script]


@dataclass(frozen=True)
class LinkNeed:
    kind: str  # the device type: vxlan, wireguard, ...
    reason: str  # what needs it (the plan's kernel module reason)


def link_needs(kernel_modules: list[dict[str, str]]) -> tuple[LinkNeed, ...]:
    """The device types among the plan's kernel modules (gw_kernel_modules)."""
    return tuple(
        LinkNeed(m["name"], m.get("reason", "")) for m in kernel_modules if m["name"] in LINK_PROBES
    )


@dataclass(frozen=True)
class Expectations:
    address: str  # the node's declared address, which it must hold
    ssh_user: str
    etcd_member: bool
    # Device types the stack's network backend creates on this node.
    links: tuple[LinkNeed, ...] = ()


@dataclass(frozen=True)
class Answers:
    """What the node answered (stdout of each probe command, and its addresses)."""

    addresses: str  # `ip -o -4 addr show to <address>`
    os_release: str
    kernel: str
    clock: str
    disk: str
    uid: str
    controller_time: float  # when the node read its clock, by the controller's
    round_trip: float  # the probe's duration, the clock reading's uncertainty
    # device type -> "" when one could be created, else why not (stderr)
    links: dict[str, str] | None = None


def os_release(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"')
    return fields


def kernel_version(release: str) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", release.strip())
    return (int(match[1]), int(match[2])) if match else None


def free_mib(df_output: str) -> int | None:
    """Available MiB from `df -Pk` (second line, fourth column)."""
    lines = df_output.strip().splitlines()
    if len(lines) < 2:
        return None
    fields = lines[-1].split()
    return int(fields[3]) // 1024 if len(fields) >= 4 and fields[3].isdigit() else None


def problems(expect: Expectations, answers: Answers) -> list[str]:
    """Every reason this node is not ready for the roles (empty when it is)."""
    found: list[str] = []
    if not answers.addresses.strip():
        found.append(f"holds no address {expect.address}: check the node's address in the stack")
    if answers.uid.strip() != "0":
        found.append(f"commands do not run as root: give {expect.ssh_user!r} passwordless sudo")
    release = os_release(answers.os_release)
    distro, version = release.get("ID", "?"), release.get("VERSION_ID", "")
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    supported = ", ".join(f"{name} >= {v}" for name, v in SUPPORTED_OS.items())
    if distro not in SUPPORTED_OS:
        found.append(f"runs {distro} {version}; the roles need {supported} (apt, systemd)")
    elif major < SUPPORTED_OS[distro]:
        found.append(f"runs {distro} {version}; the roles need {supported}")
    kernel = kernel_version(answers.kernel)
    if kernel is None or kernel < MIN_KERNEL:
        floor = ".".join(map(str, MIN_KERNEL))
        found.append(f"kernel {answers.kernel.strip() or '?'} is older than {floor}")
    try:
        skew = float(answers.clock) - answers.controller_time
    except ValueError:
        found.append(f"cannot read the clock ({answers.clock.strip()!r})")
    else:
        # The node read its clock somewhere within the round trip.
        if abs(skew) > MAX_CLOCK_SKEW_SECONDS + answers.round_trip / 2:
            found.append(
                f"clock is {skew:+.1f} s off the controller's (more than "
                f"{MAX_CLOCK_SKEW_SECONDS:g} s breaks certificates and etcd leases): fix time sync"
            )
    for need in expect.links:
        refused = (answers.links or {}).get(need.kind, "not probed")
        if refused:
            found.append(
                f"the kernel cannot create a {need.kind} device ({need.reason}; "
                f"cluster.network.backend): {refused}"
            )
    if expect.etcd_member:
        free = free_mib(answers.disk)
        if free is None:
            found.append(f"cannot read free disk space on {ETCD_DISK_PATH}")
        elif free < MIN_ETCD_DISK_MIB:
            found.append(
                f"{free} MiB free on {ETCD_DISK_PATH}; an etcd member needs {MIN_ETCD_DISK_MIB} MiB"
            )
    return found

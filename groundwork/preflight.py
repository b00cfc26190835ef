"""Pre-flight: what a node must be before any role changes it (pure).

The site playbook's first play probes every node in one call (the
`groundwork_preflight` action plugin runs `groundwork_probe` with
`probe_commands()`) and hands the answers to `problems()`. Every problem of a
node is reported in one message, and every node's message in the same run,
before anything is changed anywhere (the play is any_errors_fatal).

What the stack asks of the kernel of a node that runs pods is probed there
too: the network backend's device types (created and deleted at once) and
the filesystems its storage classes mount (read only).
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
    "macvlan": "mode bridge",
}
# Device types created on an interface of the node (the one holding its address).
LINK_PROBES_ON_PARENT = frozenset({"macvlan"})
LINK_PROBE_DEVICE = "gw-probe0"


def link_probe_command(kind: str, address: str = "") -> list[str]:
    """Create a device of this type and delete it (a stale one goes first)."""
    device = LINK_PROBE_DEVICE
    parent = ""
    if kind in LINK_PROBES_ON_PARENT:
        parent = (
            f"link $(ip -o -4 addr show to {address} | awk '{{print $2; exit}}' | cut -d@ -f1) "
        )
    script = (
        f"ip link del {device} 2>/dev/null; "
        f"ip link add {device} {parent}type {kind} {LINK_PROBES[kind]} && ip link del {device}"
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
class Filesystem:
    """How to find out whether the kernel can mount a filesystem."""

    label: str  # what an administrator calls the kernel feature
    names: tuple[str, ...]  # any of these in /proc/filesystems will do
    module: str  # the module that registers it


# The filesystems the stack's storage mounts (gw_kernel_filesystems, from
# groundwork/plan/kernel.py). A filesystem the kernel has registered (built in,
# or its module already loaded) is listed in /proc/filesystems; one whose
# module is only installed is not, yet passes: the kernel loads the module at
# the first mount.
FILESYSTEMS: dict[str, Filesystem] = {
    "nfs": Filesystem("NFS client", ("nfs", "nfs4"), "nfs"),
}
FILESYSTEMS_PROBE = ["cat", "/proc/filesystems"]


def module_probe_command(module: str) -> list[str]:
    """Whether modprobe finds the module for the running kernel (in
    /lib/modules/<release>). -n: a dry run, which loads nothing: the probe
    changes no node, in `up --dry-run` or not, and an unloaded module is left
    for the kernel to load at the first mount, as it would without us."""
    return ["modprobe", "-n", "-q", module]


@dataclass(frozen=True)
class FilesystemNeed:
    name: str  # a key of FILESYSTEMS
    field: str  # the stack field that asks for it: cluster.storage.classes[1].driver
    reason: str  # what needs it: storage class shared


def filesystem_needs(kernel_filesystems: list[dict[str, str]]) -> tuple[FilesystemNeed, ...]:
    """The plan's kernel filesystems (gw_kernel_filesystems); KeyError on one
    this module cannot probe (the plan and FILESYSTEMS disagree)."""
    needs = tuple(
        FilesystemNeed(f["name"], f.get("field", ""), f.get("reason", ""))
        for f in kernel_filesystems
    )
    for need in needs:
        if need.name not in FILESYSTEMS:
            raise KeyError(f"no probe for the kernel filesystem {need.name!r}")
    return needs


def registered_filesystems(proc_filesystems: str) -> set[str]:
    """The names in /proc/filesystems: the last column ("nodev nfs", "ext4")."""
    return {line.split()[-1] for line in proc_filesystems.splitlines() if line.strip()}


@dataclass(frozen=True)
class Expectations:
    address: str  # the node's declared address, which it must hold
    ssh_user: str
    etcd_member: bool
    # Device types the stack's network backend creates on this node.
    links: tuple[LinkNeed, ...] = ()
    # Filesystems the stack's storage classes mount on this node.
    filesystems: tuple[FilesystemNeed, ...] = ()
    # The etcd member's snapshot schedule (cluster.etcd.snapshots.schedule),
    # which its timer will use: "" when the node takes no scheduled snapshot.
    snapshot_schedule: str = ""


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
    # /proc/filesystems (None: not read)
    filesystems: str | None = None
    # module -> "" when `modprobe -n` finds it, else why not (stderr, or its exit code)
    modules: dict[str, str] | None = None
    # "" when systemd-analyze takes the snapshot schedule, else why not (None: not asked)
    schedule_refused: str | None = None


def filesystem_modules(needs: tuple[FilesystemNeed, ...]) -> list[str]:
    """The modules to ask modprobe about, once each."""
    return sorted({FILESYSTEMS[need.name].module for need in needs})


def probe_commands(expect: Expectations) -> dict[str, list[str]]:
    """Every command of this node's probe. The device and filesystem probes
    only when the stack needs them: a stack without NFS classes asks nothing
    about NFS."""
    commands = dict(PROBE_COMMANDS)
    commands["addresses"] = ["ip", "-o", "-4", "addr", "show", "to", expect.address]
    for need in expect.links:
        commands[f"link_{need.kind}"] = link_probe_command(need.kind, expect.address)
    modules = filesystem_modules(expect.filesystems)
    if modules:
        commands["filesystems"] = list(FILESYSTEMS_PROBE)
    for module in modules:
        commands[f"module_{module}"] = module_probe_command(module)
    if expect.snapshot_schedule:
        commands["schedule"] = schedule_probe_command(expect.snapshot_schedule)
    return commands


def schedule_probe_command(schedule: str) -> list[str]:
    """The node's own systemd judges the calendar expression its timer will
    use (validate's pattern lets through what only systemd can refuse, such
    as a 13th month: `*-13-01`)."""
    return ["systemd-analyze", "calendar", schedule]


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
    found.extend(filesystem_problems(expect.filesystems, answers))
    if expect.snapshot_schedule:
        refused = "not asked" if answers.schedule_refused is None else answers.schedule_refused
        if refused:
            found.append(
                f"systemd-analyze refuses the snapshot schedule {expect.snapshot_schedule!r} "
                f"(cluster.etcd.snapshots.schedule): {refused}"
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


def filesystem_problems(needs: tuple[FilesystemNeed, ...], answers: Answers) -> list[str]:
    """One problem per filesystem the kernel has neither registered nor a module
    for, naming every storage class (and its field) that needs it."""
    found: list[str] = []
    registered = registered_filesystems(answers.filesystems or "")
    by_name: dict[str, list[FilesystemNeed]] = {}
    for need in needs:
        by_name.setdefault(need.name, []).append(need)
    for name, wanting in by_name.items():
        fs = FILESYSTEMS[name]
        refused = (answers.modules or {}).get(fs.module)
        # Either answer is enough: registered now, or loaded at the first mount.
        if registered.intersection(fs.names) or refused == "":
            continue
        listed = (
            "/proc/filesystems was not read"
            if answers.filesystems is None
            else f"{fs.names[0]} is not in /proc/filesystems"
        )
        probe = " ".join(module_probe_command(fs.module))
        loadable = (
            f"`{probe}` was not run"
            if refused is None
            else f"modprobe finds no {fs.module} module for kernel "
            f"{answers.kernel.strip() or '?'} ({probe}: {refused})"
        )
        what = "; ".join(f"{n.reason}, {n.field}" for n in wanting)
        found.append(
            f"the kernel has no {fs.label} ({what}): {listed} and {loadable}; pods on "
            f"this node could not mount the volumes: install or load the kernel's "
            f"{fs.label} (the {fs.module} module), or use another storage driver"
        )
    return found

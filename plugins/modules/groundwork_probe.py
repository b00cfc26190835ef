#!/usr/bin/python
# Copyright: Groundwork contributors
# Apache-2.0
"""Read-only facts a role decides on, in one module run.

Every role starts with one probe, then skips each action whose state is
already right: on a converged node a role costs a probe, its package
transaction and one file call, not a round trip per file and per service.
Packages, units, paths, users, addresses, program versions and routes are
read only when asked for; the kernel, swap and hostname facts are cheap and
always read. Every fact comes back typed (booleans, lists, mappings, a
version), so a role compares values instead of parsing command output.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: groundwork_probe
short_description: Read a node's kernel, swap, hostname, unit, path, user and address facts
description:
  - Reads, never changes. Reports whether the node is a container (it then
    shares its host's kernel), whether the kernel can load modules, which of
    the given modules the running kernel does not provide, the active swap
    devices, and the running value of each given sysctl.
  - Also the running and static hostname, whether /etc/fstab enables swap,
    whether given systemd units are active and enabled, whether given paths
    exist, given users' home and shell, the node's IPv4 addresses and the
    version of given programs.
options:
  packages:
    description: Debian packages that must be installed; the missing ones are returned.
    type: list
    elements: str
    default: []
  routes_proto:
    description: Read the IPv4 routes of this routing protocol number as "destination gateway" lines.
    type: int
  units:
    description: systemd units whose active and enabled state to read.
    type: list
    elements: str
    default: []
  paths:
    description: Paths whose existence to read.
    type: list
    elements: path
    default: []
  users:
    description: Users whose account (home directory and login shell) to read.
    type: list
    elements: str
    default: []
  addresses:
    description: Read the node's IPv4 addresses and the interface holding each.
    type: bool
    default: false
  commands:
    description:
      - Read-only commands (name -> argv) for the pre-flight, whose outputs Python parses
        (groundwork/preflight.py); each one's rc and stdout are returned. Roles use the typed
        facts above instead, never raw output parsed in Jinja.
    type: dict
    default: {}
  versions:
    description: Programs whose version to read (the first X.Y.Z that C(PROGRAM --version) prints).
    type: list
    elements: str
    default: []
  modules:
    description: Kernel module names the node needs.
    type: list
    elements: str
    default: []
  kconfig:
    description:
      - Module name -> kernel config symbol, where the symbol is not the
        upper-cased name (groundwork/plan/kernel.py, through the inventory).
        A module built into the kernel shows as CONFIG_<symbol>=y.
    type: dict
    default: {}
  sysctls:
    description: Desired sysctl values (key -> value); keys may be sysctl.d globs.
    type: dict
    default: {}
  container_sysctl_pattern:
    description:
      - Regular expression of the keys a container owns (its own network
        namespace). In a container, other keys are kernel-wide and belong to
        the host, so they are neither owned nor checked.
    type: str
    default: '^net\.'
author: Groundwork
"""

RETURN = r"""
container:
  description: True when the node is a container (shares its host's kernel).
  type: bool
  returned: always
cap_sys_resource:
  description:
    - Whether root on the node holds CAP_SYS_RESOURCE, which lowering a process's
      oom_score_adj needs. A node in a sandbox without it (a container whose host
      withholds it) cannot give pods the negative scores the kubelet asks for.
  type: bool
  returned: always
cgroup_version:
  description:
    - 2 when /sys/fs/cgroup is the unified (v2) hierarchy, else 1 (a v1 or hybrid
      host). The kubelet refuses cgroup v1 unless told otherwise (failCgroupV1).
  type: int
  returned: always
modules_loadable:
  description: True when /lib/modules/<kernel release> exists, so modprobe can load modules.
  type: bool
  returned: always
missing_modules:
  description: Modules neither loaded nor built into the running kernel.
  type: list
  elements: str
  returned: always
swap_devices:
  description: Active swap devices from /proc/swaps.
  type: list
  elements: str
  returned: always
sysctls:
  description: Running value of each owned key without globs (null when it does not exist).
  type: dict
  returned: always
sysctls_owned:
  description: The keys this node sets (all of them, or only the namespaced ones in a container).
  type: list
  elements: str
  returned: always
sysctl_drift:
  description: Owned keys (without globs) whose running value differs from the desired one.
  type: list
  elements: str
  returned: always
hostname:
  description: The running hostname and the one in /etc/hostname (static).
  type: dict
  returned: always
fstab_swap:
  description: True when /etc/fstab has an uncommented swap entry.
  type: bool
  returned: always
dpkg_interrupted:
  description: >-
    True when dpkg's journal (/var/lib/dpkg/updates) holds an entry: a dpkg run
    ended mid-way (the node lost power or was killed), and apt refuses every
    install until C(dpkg --configure -a) replays it.
  type: bool
  returned: always
missing_packages:
  description: The given packages that are not installed (dpkg status other than "ii").
  type: list
  elements: str
  returned: always
routes:
  description: Sorted "destination gateway" lines of the routes of routes_proto (empty when not asked).
  type: list
  elements: str
  returned: always
units:
  description: unit -> {active, enabled} (booleans).
  type: dict
  returned: always
units_down:
  description: The asked units that are not both active and enabled, in the order asked.
  type: list
  elements: str
  returned: always
paths:
  description: path -> exists.
  type: dict
  returned: always
users:
  description: user -> {exists, home, shell} (home and shell are null for a user that does not exist).
  type: dict
  returned: always
addresses:
  description: The IPv4 addresses, each {interface, address, prefix} (empty when not asked).
  type: list
  elements: dict
  returned: always
versions:
  description: program -> its X.Y.Z version, or null when it is not installed or prints none.
  type: dict
  returned: always
commands:
  description: name -> {rc, stdout}.
  type: dict
  returned: always
"""

EXAMPLES = r"""
- name: Probe the node
  groundwork_probe:
    modules: [overlay, br_netfilter]
    sysctls: {net.ipv4.ip_forward: "1"}
  register: probe
"""

import gzip
import os
import pwd
import re
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groundwork_fstab import FSTAB, enables_swap


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


CAP_SYS_RESOURCE = 24


def has_capability(status, bit):
    """Whether the CapEff mask in /proc/self/status text holds capability `bit`."""
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def cgroup_version(root="/sys/fs/cgroup"):
    """2 on the unified hierarchy (cgroup.controllers at its root), else 1."""
    return 2 if os.path.exists(os.path.join(root, "cgroup.controllers")) else 1


def is_container():
    try:
        result = subprocess.run(
            ["systemd-detect-virt", "--container"], capture_output=True, check=False
        )
        return result.returncode == 0
    except OSError:
        return os.path.exists("/run/.containerenv") or os.path.exists("/.dockerenv")


def builtin_config():
    try:
        with gzip.open("/proc/config.gz", "rt") as handle:
            return {line.strip() for line in handle if line.endswith("=y\n")}
    except OSError:
        return set()


def missing(modules, kconfig, release):
    loaded = {line.split()[0] for line in (read("/proc/modules") or "").splitlines() if line}
    builtin_list = read(f"/lib/modules/{release}/modules.builtin") or ""
    builtin_names = {os.path.basename(line)[: -len(".ko")] for line in builtin_list.splitlines()}
    config = None
    out = []
    for name in modules:
        if name in loaded or os.path.isdir(f"/sys/module/{name}") or name in builtin_names:
            continue
        if config is None:
            config = builtin_config()
        if f"CONFIG_{kconfig.get(name, name.upper())}=y" in config:
            continue
        out.append(name)
    return out


# The unit file states for which `systemctl is-enabled` exits 0.
ENABLED_STATES = {
    "enabled",
    "enabled-runtime",
    "alias",
    "static",
    "indirect",
    "generated",
    "transient",
}


def unit_states(module, units):
    """unit -> {active, enabled}, read with one systemctl call for every unit."""
    if not units:
        return {}
    _, out, _ = module.run_command(
        ["systemctl", "show", "--property=ActiveState,UnitFileState", "--", *units]
    )
    return parse_unit_states(out, units)


def parse_unit_states(out, units):
    """`systemctl show` prints one blank-line separated block per unit, in the order asked."""
    blocks = [
        dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        for block in out.strip("\n").split("\n\n")
    ]
    states = {}
    for index, unit in enumerate(units):
        props = blocks[index] if index < len(blocks) else {}
        states[unit] = {
            "active": props.get("ActiveState") == "active",
            "enabled": props.get("UnitFileState") in ENABLED_STATES,
        }
    return states


def missing_packages(module, packages):
    if not packages:
        return []
    # dpkg-query exits 1 when a package is unknown, and still lists the known ones.
    _, out, _ = module.run_command(
        ["dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Package}\\n", *packages]
    )
    installed = {
        line.split()[-1].split(":")[0] for line in out.splitlines() if line.startswith("ii ")
    }
    return [name for name in packages if name not in installed]


DPKG_UPDATES = "/var/lib/dpkg/updates"


def dpkg_interrupted(updates=DPKG_UPDATES):
    """apt's own test (debSystem::CheckUpdates): an entry named by digits only."""
    try:
        return any(name.isdigit() for name in os.listdir(updates))
    except OSError:
        return False


def routes(module, proto):
    if proto is None:
        return []
    _, out, _ = module.run_command(["ip", "-4", "route", "show", "proto", str(proto)])
    found = []
    for line in out.splitlines():
        fields = line.split()
        if "via" in fields:
            found.append(f"{fields[0]} {fields[fields.index('via') + 1]}")
        elif fields:
            found.append(fields[0])
    return sorted(found)


def users(names):
    """user -> {exists, home, shell}, from the user database (NSS, like getent)."""
    found = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            found[name] = {"exists": False, "home": None, "shell": None}
        else:
            found[name] = {"exists": True, "home": entry.pw_dir, "shell": entry.pw_shell}
    return found


def addresses(module, wanted):
    if not wanted:
        return []
    _, out, _ = module.run_command(["ip", "-o", "-4", "addr", "show"])
    return parse_addresses(out)


def parse_addresses(out):
    """`ip -o -4 addr show` prints one address a line: "2: eth0    inet 10.0.0.5/24 brd ...".
    A veth's interface shows as eth0@if12: the name is what comes before the @."""
    found = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] != "inet":
            continue
        address, _, prefix = fields[3].partition("/")
        found.append(
            {"interface": fields[1].split("@")[0], "address": address, "prefix": int(prefix or 32)}
        )
    return found


VERSION = re.compile(r"[0-9]+[.][0-9]+[.][0-9]+")


def versions(module, programs):
    """program -> the first X.Y.Z its --version prints (null: not installed, or none printed)."""
    found = {}
    for program in programs:
        # A program that is not installed (yet) is an answer, not a failure.
        try:
            _, out, _ = module.run_command([program, "--version"], handle_exceptions=False)
        except OSError:
            out = ""
        match = VERSION.search(out)
        found[program] = match.group(0) if match else None
    return found


def run(module, argv):
    # A command that is not installed (yet) is an answer, not a failure.
    try:
        rc, out, err = module.run_command([str(a) for a in argv], handle_exceptions=False)
    except OSError as error:
        return {"rc": 127, "stdout": "", "stderr": str(error)}
    return {"rc": rc, "stdout": out.strip(), "stderr": err.strip()}


def main():
    module = AnsibleModule(
        argument_spec={
            "modules": {"type": "list", "elements": "str", "default": []},
            "kconfig": {"type": "dict", "default": {}},
            "sysctls": {"type": "dict", "default": {}},
            "container_sysctl_pattern": {"type": "str", "default": r"^net\."},
            "packages": {"type": "list", "elements": "str", "default": []},
            "routes_proto": {"type": "int"},
            "units": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "path", "default": []},
            "users": {"type": "list", "elements": "str", "default": []},
            "addresses": {"type": "bool", "default": False},
            "versions": {"type": "list", "elements": "str", "default": []},
            "commands": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    release = os.uname().release
    swaps = (read("/proc/swaps") or "").splitlines()[1:]
    container = is_container()
    pattern = re.compile(module.params["container_sysctl_pattern"])
    wanted = {str(k): str(v) for k, v in module.params["sysctls"].items()}
    owned = sorted(k for k in wanted if not container or pattern.search(k))
    sysctls = {}
    drift = []
    for key in owned:
        if any(c in key for c in "*?["):
            continue
        value = read("/proc/sys/" + key.replace(".", "/"))
        sysctls[key] = " ".join(value.split()) if value is not None else None
        if sysctls[key] != " ".join(wanted[key].split()):
            drift.append(key)
    units = unit_states(module, module.params["units"])
    module.exit_json(
        changed=False,
        container=container,
        cap_sys_resource=has_capability(read("/proc/self/status") or "", CAP_SYS_RESOURCE),
        cgroup_version=cgroup_version(),
        sysctls=sysctls,
        sysctls_owned=owned,
        sysctl_drift=drift,
        modules_loadable=os.path.isdir(f"/lib/modules/{release}"),
        missing_modules=missing(module.params["modules"], module.params["kconfig"], release),
        swap_devices=[line.split()[0] for line in swaps if line.strip()],
        fstab_swap=enables_swap(read(FSTAB) or ""),
        hostname={
            "running": (read("/proc/sys/kernel/hostname") or "").strip(),
            "static": (read("/etc/hostname") or "").strip(),
        },
        dpkg_interrupted=dpkg_interrupted(),
        missing_packages=missing_packages(module, module.params["packages"]),
        routes=routes(module, module.params["routes_proto"]),
        units=units,
        units_down=[u for u, state in units.items() if not (state["active"] and state["enabled"])],
        paths={path: os.path.lexists(path) for path in module.params["paths"]},
        users=users(module.params["users"]),
        addresses=addresses(module, module.params["addresses"]),
        versions=versions(module, module.params["versions"]),
        commands={name: run(module, argv) for name, argv in module.params["commands"].items()},
    )


if __name__ == "__main__":
    main()

"""What groundwork_probe reads on a node, as plain functions of its
parameters: the module (plugins/modules/groundwork_probe.py) runs them under
Ansible, and `groundwork up`'s check of converged nodes (groundwork/converged.py)
runs the very same code on the node in one SSH call, so both read a node the
same way.

`run_command(argv, handle_exceptions=True)` returns (rc, stdout, stderr) as
AnsibleModule.run_command does; with handle_exceptions=False a program that
is not there raises OSError.
"""

from __future__ import annotations

import gzip
import os
import pwd
import re
import subprocess

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


def unit_states(run_command, units):
    """unit -> {active, enabled}, read with one systemctl call for every unit."""
    if not units:
        return {}
    _, out, _ = run_command(
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


def missing_packages(run_command, packages):
    if not packages:
        return []
    # dpkg-query exits 1 when a package is unknown, and still lists the known ones.
    _, out, _ = run_command(["dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Package}\\n", *packages])
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


def routes(run_command, proto):
    if proto is None:
        return []
    _, out, _ = run_command(["ip", "-4", "route", "show", "proto", str(proto)])
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


def addresses(run_command, wanted):
    if not wanted:
        return []
    _, out, _ = run_command(["ip", "-o", "-4", "addr", "show"])
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


def versions(run_command, programs):
    """program -> the first X.Y.Z its --version prints (null: not installed, or none printed)."""
    found = {}
    for program in programs:
        # A program that is not installed (yet) is an answer, not a failure.
        try:
            _, out, _ = run_command([program, "--version"], handle_exceptions=False)
        except OSError:
            out = ""
        match = VERSION.search(out)
        found[program] = match.group(0) if match else None
    return found


def run(run_command, argv):
    # A command that is not installed (yet) is an answer, not a failure.
    try:
        rc, out, err = run_command([str(a) for a in argv], handle_exceptions=False)
    except OSError as error:
        return {"rc": 127, "stdout": "", "stderr": str(error)}
    return {"rc": rc, "stdout": out.strip(), "stderr": err.strip()}


def probe(params, run_command):
    """Every fact the module returns, for its (validated) parameters."""
    release = os.uname().release
    swaps = (read("/proc/swaps") or "").splitlines()[1:]
    container = is_container()
    pattern = re.compile(params["container_sysctl_pattern"])
    wanted = {str(k): str(v) for k, v in params["sysctls"].items()}
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
    units = unit_states(run_command, params["units"])
    return dict(
        container=container,
        cap_sys_resource=has_capability(read("/proc/self/status") or "", CAP_SYS_RESOURCE),
        cgroup_version=cgroup_version(),
        sysctls=sysctls,
        sysctls_owned=owned,
        sysctl_drift=drift,
        modules_loadable=os.path.isdir(f"/lib/modules/{release}"),
        missing_modules=missing(params["modules"], params["kconfig"], release),
        swap_devices=[line.split()[0] for line in swaps if line.strip()],
        fstab_swap=enables_swap(read(FSTAB) or ""),
        hostname={
            "running": (read("/proc/sys/kernel/hostname") or "").strip(),
            "static": (read("/etc/hostname") or "").strip(),
        },
        dpkg_interrupted=dpkg_interrupted(),
        missing_packages=missing_packages(run_command, params["packages"]),
        routes=routes(run_command, params["routes_proto"]),
        units=units,
        units_down=[u for u, state in units.items() if not (state["active"] and state["enabled"])],
        paths={path: os.path.lexists(path) for path in params["paths"]},
        users=users(params["users"]),
        addresses=addresses(run_command, params["addresses"]),
        versions=versions(run_command, params["versions"]),
        commands={name: run(run_command, argv) for name, argv in params["commands"].items()},
    )

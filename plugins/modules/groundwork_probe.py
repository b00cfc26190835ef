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
observed:
  description: sha256 of every fact above, from module_utils/groundwork_observe.py.
  type: str
  returned: always
"""

EXAMPLES = r"""
- name: Probe the node
  groundwork_probe:
    modules: [overlay, br_netfilter]
    sysctls: {net.ipv4.ip_forward: "1"}
  register: probe
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groundwork_observe import digest
from ansible.module_utils.groundwork_probing import probe


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
    result = probe(module.params, module.run_command)
    # What this run saw, as one digest: `up` leaves a node alone while every
    # digest is as in the last run that changed nothing (groundwork/converged.py).
    module.exit_json(changed=False, observed=digest(result), **result)


if __name__ == "__main__":
    main()

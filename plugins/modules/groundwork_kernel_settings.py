#!/usr/bin/python
# Copyright: Groundwork contributors
# Apache-2.0
"""The common role's kernel-level host settings in one module run: the
hostname, kernel modules, sysctls and swap.

The role's probe (groundwork_probe) decides what differs; this module applies
only that. One task instead of six: each Ansible task costs the controller a
forked worker per node, skipped ones included, and in the role's linear play
every task waits for the slowest node.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: groundwork_kernel_settings
short_description: Set the hostname, load kernel modules, apply sysctls and turn swap off
description:
  - Applies what the caller asks, in this order, and reports each step it took.
  - Refuses to load modules when the running kernel has no modules directory
    (a container, or a kernel without loadable modules), naming the modules.
options:
  hostname:
    description: Set the static and transient hostname to this (hostnamectl).
    type: str
  modules:
    description: Kernel modules to load with modprobe.
    type: list
    elements: str
    default: []
  sysctl_file:
    description: A sysctl.d file to apply now (systemd-sysctl).
    type: path
  swapoff:
    description: Turn every active swap device off.
    type: bool
    default: false
  fstab_swap_off:
    description: Comment out the swap entries of /etc/fstab, so swap stays off at boot.
    type: bool
    default: false
"""

EXAMPLES = r"""
- groundwork_kernel_settings:
    hostname: cp1
    modules: [br_netfilter]
    sysctl_file: /etc/sysctl.d/90-groundwork.conf
    swapoff: true
    fstab_swap_off: true
"""

RETURN = r"""
steps:
  description: What was done, one line per step.
  returned: always
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groundwork_fstab import FSTAB, comment_swap


def must(module, argv):
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg=f"{' '.join(argv)} failed (rc {rc}): {(err or out).strip()}")


def write_fstab(module, text):
    """Replace /etc/fstab atomically, keeping its mode and owner."""
    directory = os.path.dirname(FSTAB)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".fstab.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    module.atomic_move(temp, FSTAB)


def main():
    module = AnsibleModule(
        argument_spec={
            "hostname": {"type": "str"},
            "modules": {"type": "list", "elements": "str", "default": []},
            "sysctl_file": {"type": "path"},
            "swapoff": {"type": "bool", "default": False},
            "fstab_swap_off": {"type": "bool", "default": False},
        },
        # Check mode (a dry run) names each step it would take, taking none.
        supports_check_mode=True,
    )
    params = module.params
    act = not module.check_mode
    steps = []
    if params["hostname"]:
        if act:
            must(module, ["hostnamectl", "set-hostname", params["hostname"]])
        steps.append(f"hostname {params['hostname']}")
    if params["modules"]:
        if not os.path.isdir(f"/lib/modules/{os.uname().release}"):
            module.fail_json(
                msg=(
                    f"the kernel lacks module(s) {', '.join(params['modules'])} "
                    "and has no modules directory to load them from"
                )
            )
        for name in params["modules"]:
            if act:
                must(module, ["modprobe", name])
            steps.append(f"modprobe {name}")
    if params["sysctl_file"]:
        if act:
            must(module, ["/usr/lib/systemd/systemd-sysctl", params["sysctl_file"]])
        steps.append(f"sysctl {params['sysctl_file']}")
    if params["swapoff"]:
        if act:
            must(module, ["swapoff", "-a"])
        steps.append("swapoff -a")
    if params["fstab_swap_off"] and os.path.exists(FSTAB):
        with open(FSTAB) as handle:
            text = handle.read()
        new = comment_swap(text)
        if new != text:
            if act:
                write_fstab(module, new)
            steps.append("fstab swap entries commented out")
    module.exit_json(changed=bool(steps), steps=steps)


if __name__ == "__main__":
    main()

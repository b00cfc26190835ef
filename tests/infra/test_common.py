"""Role `common`: identity, sysctls and kernel modules from the plan."""

from __future__ import annotations

import fnmatch
from typing import Any

import _facts as facts

from groundwork.plan.kernel import kconfig_symbol
from groundwork.verify.drift import Expect
from groundwork.verify.expect import NodeExpectation


def test_hostname(node: NodeExpectation, host: Any, expect: Expect) -> None:
    live = host.run(facts.HOSTNAME).stdout.strip()
    expect.equal("hostname", node.name, live)
    expect.done()


def test_address_is_own(node: NodeExpectation, host: Any, expect: Expect) -> None:
    """The declared address is configured on the node we reached."""
    out = host.run(facts.ADDRESSES).stdout
    addresses = sorted({f.split()[3].split("/")[0] for f in out.splitlines() if len(f.split()) > 3})
    expect.true("address", node.address in addresses, node.address, addresses)
    expect.done()


# In a container (the lab) a node owns only its network namespace's sysctls;
# kernel-wide ones belong to the host and are not compared there.
NAMESPACED = ("net.",)


def is_container(host: Any) -> bool:
    return bool(host.run(facts.VIRT).rc == 0)


def test_sysctls(node: NodeExpectation, host: Any, expect: Expect) -> None:
    container = is_container(host)
    keys = sorted(k for k in node.sysctls if not container or k.startswith(NAMESPACED))
    out = host.run(facts.sysctls(sorted(node.sysctls))).stdout
    live: dict[str, str] = {}
    for line in out.splitlines():
        path, _, value = line.partition("\t")
        live[path.removeprefix("/proc/sys/").replace("/", ".")] = " ".join(value.split())
    for key in keys:
        declared = str(node.sysctls[key])
        if "*" in key:
            matches = {
                k: v for k, v in live.items() if fnmatch.fnmatchcase(k, key) and "*" not in k
            }
            for name, value in sorted(matches.items()):
                expect.equal(f"sysctl {name}", declared, value)
            continue
        expect.equal(f"sysctl {key}", declared, live.get(key))
    expect.done()


def test_kernel_modules(node: NodeExpectation, host: Any, expect: Expect) -> None:
    """Each module the plan needs is loaded or built into the running kernel."""
    out = host.run(facts.kernel_modules(node.kernel_modules)).stdout
    state = {}
    builtin_y = set()
    for line in out.splitlines():
        if line.startswith("CONFIG_"):
            builtin_y.add(line.split("=", 1)[0].removeprefix("CONFIG_"))
        elif len(line.split()) == 2:
            name, how = line.split()
            state[name] = how
    for module in node.kernel_modules:
        how = state.get(module, "none")
        if how == "none" and kconfig_symbol(module) in builtin_y:
            how = "builtin"
        expect.true(f"kernel module {module}", how != "none", "loaded or built in", "absent")
    expect.done()

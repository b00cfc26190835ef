"""Role `common`: identity, sysctls and kernel modules from the plan."""

from __future__ import annotations

from typing import Any

from groundwork.verify.drift import Expect
from groundwork.verify.expect import NodeExpectation


def test_hostname(node: NodeExpectation, host: Any, expect: Expect) -> None:
    live = host.run("hostname").stdout.strip()
    expect.equal("hostname", node.name, live)
    expect.done()


def test_address_is_own(node: NodeExpectation, host: Any, expect: Expect) -> None:
    """The declared address is configured on the node we reached."""
    out = host.run("ip -o -4 addr show").stdout
    addresses = sorted({f.split()[3].split("/")[0] for f in out.splitlines() if len(f.split()) > 3})
    expect.true("address", node.address in addresses, node.address, addresses)
    expect.done()


def test_sysctls(node: NodeExpectation, host: Any, expect: Expect) -> None:
    keys = sorted(node.sysctls)
    paths = " ".join("/proc/sys/" + k.replace(".", "/") for k in keys)
    # One round trip for all of them: "path<TAB>value" per line.
    out = host.run(
        f"for f in {paths}; do printf '%s\\t' $f; cat $f 2>/dev/null || echo '(absent)'; done"
    ).stdout
    live = {}
    for line in out.splitlines():
        path, _, value = line.partition("\t")
        live[path.removeprefix("/proc/sys/").replace("/", ".")] = " ".join(value.split())
    for key in keys:
        expect.equal(f"sysctl {key}", str(node.sysctls[key]), live.get(key))
    expect.done()


def test_kernel_modules(node: NodeExpectation, host: Any, expect: Expect) -> None:
    """Loaded as a module or built into the kernel: present under /sys/module."""
    if not node.kernel_modules:
        expect.done()
        return
    names = " ".join(node.kernel_modules)
    out = host.run(f"for m in {names}; do [ -d /sys/module/$m ] && echo $m; done").stdout
    present = set(out.split())
    for module in node.kernel_modules:
        expect.true(f"kernel module {module}", module in present, "loaded", "not loaded")
    expect.done()

"""Role `container_runtime`: containerd running with the declared version and cgroup driver."""

from __future__ import annotations

import tomllib
from typing import Any

import _facts as facts
from _live import check_service, version_in

from groundwork.verify.drift import Expect
from groundwork.verify.expect import CONTAINERD_CONFIG, NodeExpectation


def test_containerd_service(node: NodeExpectation, host: Any, expect: Expect) -> None:
    check_service(host, expect, "containerd")
    expect.done()


def test_containerd_version(node: NodeExpectation, host: Any, expect: Expect) -> None:
    out = host.run(facts.CONTAINERD_VERSION)
    live = version_in(out.stdout) if out.rc == 0 else f"(containerd: {out.stderr.strip()})"
    expect.equal("containerd version", node.containerd_version.lstrip("v"), live)
    expect.done()


def _systemd_cgroup(config: dict[str, Any]) -> Any:
    """SystemdCgroup of the runc runtime, for config v2 (1.x) and v3 (2.x)."""
    plugins = config.get("plugins", {})
    for cri in ("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"):
        runtimes = plugins.get(cri, {}).get("containerd", {}).get("runtimes", {})
        options = runtimes.get("runc", {}).get("options")
        if options is not None:
            return options.get("SystemdCgroup", False)
    return None


def test_containerd_cgroup_driver(node: NodeExpectation, host: Any, expect: Expect) -> None:
    f = host.run(facts.cat(CONTAINERD_CONFIG))
    if f.rc != 0:
        expect.differs("config", CONTAINERD_CONFIG, "(absent)")
        expect.done()
    try:
        config = tomllib.loads(f.stdout)
    except tomllib.TOMLDecodeError as err:
        expect.differs("config", "valid TOML", f"invalid: {err}")
        expect.done()
    systemd = _systemd_cgroup(config)
    live = {True: "systemd", False: "cgroupfs", None: "(no runc runtime options)"}.get(
        systemd, f"SystemdCgroup={systemd!r}"
    )
    expect.equal("cgroup driver (runc SystemdCgroup)", node.cgroup_driver, live)
    expect.done()


def test_runc_present(node: NodeExpectation, host: Any, expect: Expect) -> None:
    out = host.run(facts.RUNC_VERSION)
    expect.equal("runc", "installed", "installed" if out.rc == 0 else "(missing)")
    expect.done()


def test_init_cgroups_inside_the_machine(node: NodeExpectation, host: Any, expect: Expect) -> None:
    # A path above the cgroup namespace's root ("/../..") means systemd
    # manages a hierarchy shared with other machines: the scopes it makes for
    # containers can vanish, and exec into those containers then fails.
    out = host.run(facts.cat("/proc/1/cgroup"))
    outside = [line for line in out.stdout.splitlines() if line.split(":", 2)[-1].startswith("/..")]
    live = "inside" if out.rc == 0 and not outside else ", ".join(outside) or out.stderr.strip()
    expect.equal("init's cgroups inside the machine's cgroup namespace", "inside", live)
    expect.done()

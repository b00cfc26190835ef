"""Role `network` (bridge backend): CNI config, static routes, and real pods
on every node reaching pods on every other node."""

from __future__ import annotations

import ipaddress
import json
import shlex
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _live import read_json
from _probe import ENSURE, REACH

from groundwork.verify.drift import Expect
from groundwork.verify.expect import CNI_CONFIG, NodeExpectation


def _bridge_plugin(conflist: Any) -> dict[str, Any] | None:
    if not isinstance(conflist, dict):
        return None
    for plugin in conflist.get("plugins", []):
        if isinstance(plugin, dict) and plugin.get("type") == "bridge":
            return plugin
    return None


def _subnets(ipam: dict[str, Any]) -> list[str]:
    found = []
    for rangeset in ipam.get("ranges", []):
        for r in rangeset if isinstance(rangeset, list) else [rangeset]:
            if isinstance(r, dict) and "subnet" in r:
                found.append(r["subnet"])
    if "subnet" in ipam:
        found.append(ipam["subnet"])
    return found


def test_cni_config(pod_node: NodeExpectation, host: Any, expect: Expect) -> None:
    conflist = read_json(host, CNI_CONFIG)
    bridge = _bridge_plugin(conflist)
    if bridge is None:
        live = "(absent)" if conflist is None else "no bridge plugin"
        expect.differs(CNI_CONFIG, "bridge plugin conflist", live)
        expect.done()
        return
    ipam = bridge.get("ipam", {})
    expect.equal("ipam type", "host-local", ipam.get("type"))
    expect.equal("pod subnet", [pod_node.pod_subnet], _subnets(ipam))
    expect.equal("pod MTU", pod_node.pod_mtu, bridge.get("mtu"))
    expect.done()


def test_pod_routes(pod_node: NodeExpectation, host: Any, expect: Expect) -> None:
    """A route to every other node's pod subnet via that node's address."""
    out = host.run("ip -j -4 route show")
    routes = json.loads(out.stdout) if out.rc == 0 and out.stdout.strip() else []
    live = {r.get("dst"): r.get("gateway") for r in routes}
    for route in pod_node.routes:
        expect.equal(
            f"route to {route.node} pods {route.subnet}",
            f"via {route.via}",
            f"via {live[route.subnet]}" if live.get(route.subnet) else "(no route)",
        )
    expect.done()


def _ensure_probe(stack: Any, name: str) -> str:
    """Start (once per run) the probe container on a node; its pod address."""
    out = stack.host(name).run(f"bash -c {shlex.quote(ENSURE)} probe {stack.run_id}")
    for line in out.stdout.splitlines():
        if line.startswith("ip="):
            return line[3:]
    raise RuntimeError(out.stderr.strip() or f"no address (rc {out.rc})")


def test_pod_network(pod_node: NodeExpectation, host: Any, stack: Any, expect: Expect) -> None:
    """A container started by containerd with the CNI config on this node
    reaches (ping) a container on every other node over the pod network."""
    names = [n.name for n in stack.expect.nodes if n.pod_subnet]

    def ensure(name: str) -> str:
        try:
            return _ensure_probe(stack, name)
        except (RuntimeError, OSError) as err:
            return f"error: {err}"

    with ThreadPoolExecutor(len(names)) as pool:
        addresses = dict(zip(names, pool.map(ensure, names), strict=True))
    own = addresses[pod_node.name]
    if own.startswith("error"):
        expect.differs("pod on this node", "running", own)
        expect.done()
    in_subnet = ipaddress.ip_address(own) in ipaddress.ip_network(pod_node.pod_subnet)
    expect.true("pod address", in_subnet, f"in {pod_node.pod_subnet}", own)
    peers = {n: a for n, a in addresses.items() if n != pod_node.name}
    for name, addr in peers.items():
        if addr.startswith("error"):
            expect.differs(f"pod on {name}", "running", addr)
    targets = [a for a in peers.values() if not a.startswith("error")]
    out = host.run(f"bash -c {shlex.quote(REACH)} reach {stack.run_id} " + " ".join(targets))
    reached = dict(line.split() for line in out.stdout.splitlines() if len(line.split()) == 2)
    for name, addr in peers.items():
        if addr.startswith("error"):
            continue
        expect.equal(
            f"pod {own} -> pod on {name} ({addr})",
            "reached",
            "reached" if reached.get(addr) == "ok" else "unreachable",
        )
    expect.done()

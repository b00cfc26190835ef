"""Role `network` (bridge plugin): CNI config, static routes or macvlan's
shim, and real pods on every node reaching pods on every other node."""

from __future__ import annotations

import ipaddress
import json
import time
from typing import Any

import _facts as facts
from _live import check_service, read_json

from groundwork.verify.drift import Expect
from groundwork.verify.expect import CNI_CONFIG, NodeExpectation, Route


def _plugin(conflist: Any, kind: str) -> dict[str, Any] | None:
    if not isinstance(conflist, dict):
        return None
    for plugin in conflist.get("plugins", []):
        if isinstance(plugin, dict) and plugin.get("type") == kind:
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
    underlay = pod_node.underlay
    kind = "bridge" if underlay is None else "macvlan"
    plugin = _plugin(conflist, kind)
    if plugin is None:
        live = "(absent)" if conflist is None else f"no {kind} plugin"
        expect.differs(CNI_CONFIG, f"{kind} plugin conflist", live)
        expect.done()
        return
    ipam = plugin.get("ipam", {})
    expect.equal("ipam type", "host-local", ipam.get("type"))
    if underlay is None:
        expect.equal("pod subnet", [pod_node.pod_subnet], _subnets(ipam))
    else:
        # Pods on the nodes' network, their addresses from this node's range of it.
        expect.equal("pods' network", [str(underlay.network)], _subnets(ipam))
        ranges = [r for rs in ipam.get("ranges", []) for r in rs if isinstance(r, dict)]
        spans = [f"{r.get('rangeStart')}-{r.get('rangeEnd')}" for r in ranges]
        expect.equal("pod addresses", [f"{underlay.range_start}-{underlay.range_end}"], spans)
        gateways = sorted({str(r.get("gw")) for r in ipam.get("routes", [])})
        expect.equal("pods' gateway (the shim)", [str(underlay.shim.ip)], gateways)
    expect.equal("pod MTU", pod_node.pod_mtu, plugin.get("mtu"))
    expect.done()


def test_underlay_shim(underlay_node: NodeExpectation, host: Any, expect: Expect) -> None:
    """macvlan: the node's own macvlan device is up and holds the first address
    of its pod subnet, so the node reaches its pods and they the node."""
    underlay = underlay_node.underlay
    assert underlay is not None
    out = host.run(facts.SHIM)
    links = json.loads(out.stdout) if out.rc == 0 and out.stdout.strip() else []
    if not links:
        expect.differs("gw-shim", "present", "(absent)")
        expect.done()
    link = links[0]
    expect.equal(
        "gw-shim kind", "macvlan", (link.get("linkinfo") or {}).get("info_kind", "macvlan")
    )
    expect.true("gw-shim up", "UP" in link.get("flags", []), "UP", ",".join(link.get("flags", [])))
    held = [f"{a.get('local')}/{a.get('prefixlen')}" for a in link.get("addr_info", [])]
    expect.equal("gw-shim address", [str(underlay.shim)], held)
    expect.done()


def test_pod_routes(pod_node: NodeExpectation, host: Any, expect: Expect) -> None:
    """A route to every other node's pod subnet via that node's address."""
    expect_routes(expect, host, facts.ROUTES, pod_node.routes, "route", "(no route)")
    expect.done()


def expect_routes(
    expect: Expect, host: Any, command: str, routes: tuple[Route, ...], what: str, none: str
) -> None:
    """Each route to another node's pod subnet, through that node's address,
    among those `command` (`ip -j route show ...`) lists."""
    out = host.run(command)
    listed = json.loads(out.stdout) if out.rc == 0 and out.stdout.strip() else []
    live = {r.get("dst"): r.get("gateway") for r in listed}
    for route in routes:
        expect.equal(
            f"{what} to {route.node} pods {route.subnet}",
            f"via {route.via}",
            f"via {live[route.subnet]}" if live.get(route.subnet) else none,
        )


def test_pod_network(substrate_pod_node: NodeExpectation, stack: Any, expect: Expect) -> None:
    """A container started by containerd with the CNI config on this node
    reaches (ping) a container on every other node over the pod network.
    Checked when only the substrate is (`up --substrate-only`, Pulumi's node
    verification): with the Kubernetes layer, test_pod_to_pod proves the same
    pairs with the cluster's pods."""
    pod_node = substrate_pod_node
    addresses = stack.probe_addresses()
    own = addresses[pod_node.name]
    if own.startswith("error"):
        expect.differs("pod on this node", "running", own)
        expect.done()
    in_subnet = ipaddress.ip_address(own) in ipaddress.ip_network(pod_node.pod_subnet)
    expect.true("pod address", in_subnet, f"in {pod_node.pod_subnet}", own)
    peers = {n: a for n, a in addresses.items() if n != pod_node.name}
    reached = stack.reach_from(pod_node.name)
    for name, addr in peers.items():
        if addr.startswith("error"):
            expect.differs(f"pod on {name}", "running", addr)
            continue
        expect.equal(
            f"pod {own} -> pod on {name} ({addr})",
            "reached",
            "reached" if reached.get(addr) == "ok" else "unreachable",
        )
    expect.done()


def test_pod_routes_service(pod_node: NodeExpectation, host: Any, expect: Expect) -> None:
    """The unit that re-applies the pod routes at boot is enabled and has run."""
    check_service(host, expect, "groundwork-routes.service")
    expect.done()


# How long a BGP session that is not Established yet is waited for.
SESSION_SETTLE_SECONDS = 20.0


def bird_sessions(protocols: str) -> dict[str, str]:
    """`birdc -r show protocols`: each BGP protocol's name -> its Info column
    ("Established", or the state and why: "Active  Received: Administrative
    shutdown")."""
    sessions = {}
    for line in protocols.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "BGP":
            sessions[fields[0]] = " ".join(fields[5:])
    return sessions


def test_bgp_sessions_and_learned_routes(
    bgp_node: NodeExpectation, host: Any, expect: Expect
) -> None:
    """bgp: BIRD runs, every session (each other node, each declared router)
    is Established, and the kernel routes every other node's pod subnet
    through that node's address, as BIRD learned it."""
    bgp = bgp_node.bgp
    assert bgp is not None
    check_service(host, expect, "bird")
    out = host.run(facts.BIRD_PROTOCOLS)
    sessions = bird_sessions(out.stdout) if out.rc == 0 else {}
    # A session BIRD (re)started a moment ago (`up` waits for the other
    # nodes, not for the stack's routers) is given a few seconds to come up.
    deadline = time.monotonic() + SESSION_SETTLE_SECONDS
    while out.rc == 0 and time.monotonic() < deadline:
        if all(sessions.get(s.protocol) == "Established" for s in bgp.sessions):
            break
        time.sleep(1)
        out = getattr(host, "host", host).run(facts.BIRD_PROTOCOLS)
        sessions = bird_sessions(out.stdout) if out.rc == 0 else {}
    for session in bgp.sessions:
        expect.equal(
            f"BGP session {session.protocol} with {session.address} (AS {session.asn})",
            "Established",
            sessions.get(session.protocol, f"(no session: {out.stderr.strip() or 'absent'})"),
        )
    routes = bgp_node.routes_over_bgp
    expect_routes(expect, host, facts.BIRD_ROUTES, routes, "learned route", "(not learned)")
    expect.done()

"""The lab's BGP router: BIRD (the host's Debian bird2) on the lab gateway.

A lab stack whose pod network routes with BGP and declares the lab gateway
among its routers (network.bgp.peers) gets one, the way a site's nodes peer
with the routers of their rack: `lab up` runs BIRD bound to the gateway
address only (`strict bind`), with one session to every node that runs
pods, and `lab down` stops it. It learns each node's pod subnet and keeps
the routes in its own table; it installs nothing into the host's kernel and
announces nothing, so the host's routing stays as it was. `learned_routes`
reads what it learned (tests/network checks it).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from groundwork.lab.errors import LabError
from groundwork.lab.layout import LabLayout, lab_state_dir
from groundwork.lab.site import Server, server_pid, start_server, stop_server
from groundwork.plan.bgp import protocol_name
from groundwork.spec import ClusterSpec
from groundwork.spec.model import Backend, Bgp
from groundwork.spec.rules import pod_nodes

BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"
BGP_PORT = 179
NAME = "router"


@dataclass(frozen=True)
class RouterSession:
    protocol: str
    node: str
    address: str


@dataclass(frozen=True)
class LabRouter:
    address: str  # the lab gateway
    asn: int  # the router's own AS (the declared peer's)
    cluster_asn: int
    sessions: tuple[RouterSession, ...]


def planned(spec: ClusterSpec) -> LabRouter | None:
    """The router a lab stack declares: a BGP peer at the lab gateway (pure)."""
    if spec.lab is None or spec.network.resolved_backend() is not Backend.BGP:
        return None
    bgp = spec.network.bgp or Bgp()
    gateway = spec.lab.gateway
    peer = next((p for p in bgp.peers if p.address == gateway), None)
    if peer is None:
        return None
    # The nodes that run pods, each announcing its pod subnet.
    speakers = set(pod_nodes(spec))
    sessions = tuple(
        RouterSession(protocol_name("node", n.name), n.name, str(n.address))
        for n in spec.nodes
        if n.name in speakers
    )
    return LabRouter(str(gateway), peer.asn, bgp.asn, sessions)


def config(router: LabRouter) -> str:
    """BIRD's configuration for the lab router (pure)."""
    lines = [
        "# Written by `groundwork lab up`: the lab's BGP router on the gateway.",
        f"router id {router.address};",
        "log stderr all;",
        "protocol device {",
        "  scan time 10;",
        "}",
    ]
    same_as = router.asn == router.cluster_asn
    for session in router.sessions:
        lines += [
            f"# {session.node}",
            f"protocol bgp {session.protocol} {{",
            f"  local {router.address} as {router.asn};",
            f"  neighbor {session.address} as {router.cluster_asn};",
            "  strict bind on;",
            *(["  direct;"] if same_as else []),
            "  ipv4 {",
            "    import all;",
            "    export none;",
            *(["    gateway direct;"] if same_as else []),
            "  };",
            "}",
        ]
    return "\n".join(lines) + "\n"


def _config_path(lab: LabLayout) -> Path:
    return lab_state_dir(lab.stack) / "router.conf"


def _control_socket(lab: LabLayout) -> str:
    return str(lab_state_dir(lab.stack) / "router.ctl")


def server(lab: LabLayout) -> Server:
    conf = str(_config_path(lab))
    # In the foreground: the pid `lab up` records is BIRD's own.
    argv = (BIRD, "-f", "-c", conf, "-s", _control_socket(lab))
    return Server(NAME, conf.encode(), BGP_PORT, argv)


def ensure(lab: LabLayout, router: LabRouter | None) -> bool:
    """Run the router as declared (restarted when its configuration changed),
    or stop one the stack no longer declares; True when anything changed."""
    if router is None:
        if running(lab):
            stop(lab)
            return True
        return False
    if shutil.which(BIRD) is None:
        raise LabError(
            "the stack declares a BGP router at the lab gateway "
            f"({router.address}, cluster.network.bgp.peers), and {BIRD} is missing: install "
            "Debian's bird2 (scripts/host-packages.txt)"
        )
    text = config(router)
    path = _config_path(lab)
    changed = not path.exists() or path.read_text() != text
    if changed:
        stop(lab)
        path.write_text(text)
    if not running(lab):
        check = subprocess.run(
            [BIRD, "-p", "-c", str(path)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise LabError(f"the lab router's configuration {path}: {check.stderr.strip()}")
        start_server(lab, server(lab))
        return True
    return changed


def running(lab: LabLayout) -> bool:
    return server_pid(lab.stack, NAME, str(_config_path(lab)).encode()) is not None


def stop(lab: LabLayout) -> None:
    stop_server(lab.stack, NAME, str(_config_path(lab)).encode())


def birdc(lab: LabLayout, *command: str) -> str:
    done = subprocess.run(
        [BIRDC, "-r", "-s", _control_socket(lab), *command],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LabError(f"birdc {' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def learned_routes(lab: LabLayout) -> dict[str, str]:
    """What the router learned: destination -> next hop (its best routes)."""
    routes: dict[str, str] = {}
    destination = ""
    for line in birdc(lab, "show", "route").splitlines():
        fields = line.split()
        if fields and "/" in fields[0]:
            destination = fields[0]
        if destination and "via" in fields and destination not in routes:
            routes[destination] = fields[fields.index("via") + 1]
    return routes

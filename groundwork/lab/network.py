"""The lab's internal podman network and the subnet clash check.

An --internal network has no route out of the host: nodes reach each other
and the host's gateway address (where the mirror listens), nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network
from typing import Any

from groundwork.lab.errors import LabError
from groundwork.lab.layout import LABEL, LabLayout
from groundwork.lab.proc import run


@dataclass(frozen=True)
class PodmanNetwork:
    name: str
    subnets: tuple[IPv4Network, ...]
    interface: str
    labels: Mapping[str, str]
    internal: bool


def parse_networks(data: Iterable[Mapping[str, Any]]) -> list[PodmanNetwork]:
    """PodmanNetwork records from `podman network ls --format json` (pure)."""
    networks = []
    for item in data:
        subnets = []
        for sub in item.get("subnets") or []:
            net = ip_network(sub["subnet"], strict=False)
            if isinstance(net, IPv4Network):
                subnets.append(net)
        networks.append(
            PodmanNetwork(
                name=str(item["name"]),
                subnets=tuple(subnets),
                interface=str(item.get("network_interface", "")),
                labels=dict(item.get("labels") or {}),
                internal=bool(item.get("internal", False)),
            )
        )
    return networks


def is_ours(net: PodmanNetwork, lab: LabLayout) -> bool:
    """Our lab's own network: right name and carrying our label."""
    return net.name == lab.network and net.labels.get(LABEL) == lab.stack


def find_clashes(
    lab: LabLayout,
    routes: Iterable[Mapping[str, Any]],
    networks: Iterable[PodmanNetwork],
) -> list[str]:
    """Why the lab subnet cannot be used here (empty when it can). Pure.

    A host route or another podman network overlapping the subnet would make
    lab traffic leave through the wrong interface. Our own network (and the
    route of its bridge) is not a clash: that is the lab already being up.
    """
    problems: list[str] = []
    own_interfaces = set()
    for net in networks:
        if is_ours(net, lab):
            own_interfaces.add(net.interface)
            continue
        if net.name == lab.network:
            problems.append(
                f"a podman network named {net.name!r} exists but was not made by this lab"
            )
            continue
        for sub in net.subnets:
            if sub.overlaps(lab.subnet):
                problems.append(f"podman network {net.name!r} ({sub})")
    for route in routes:
        dst = str(route.get("dst", ""))
        if dst in ("", "default") or route.get("dev") in own_interfaces:
            continue
        try:
            route_net = ip_network(dst, strict=False)
        except ValueError:
            continue
        if isinstance(route_net, IPv4Network) and route_net.overlaps(lab.subnet):
            problems.append(f"host route {dst} via {route.get('dev', '?')}")
    return problems


def list_networks() -> list[PodmanNetwork]:
    out = run(["podman", "network", "ls", "--format", "json"]).stdout
    return parse_networks(json.loads(out or "[]"))


def host_routes() -> list[dict[str, Any]]:
    out = run(["ip", "-j", "route"]).stdout
    routes: list[dict[str, Any]] = json.loads(out or "[]")
    return routes


def check_subnet(lab: LabLayout) -> None:
    """LabError naming every clash, before anything is created."""
    problems = find_clashes(lab, host_routes(), list_networks())
    if problems:
        raise LabError(
            f"lab subnet {lab.subnet} clashes with {'; '.join(problems)}: "
            "choose another lab.subnet in the stack or remove the clashing network"
        )


def create_argv(lab: LabLayout) -> list[str]:
    """podman network create for the lab (pure).

    DNS is off: aardvark-dns would be one more process to clean up, and
    nodes find each other through /etc/hosts entries written at boot.
    """
    return [
        "podman",
        "network",
        "create",
        "--internal",
        "--disable-dns",
        "--subnet",
        str(lab.subnet),
        "--gateway",
        str(lab.gateway),
        "--label",
        lab.label,
        lab.network,
    ]


def ensure_network(lab: LabLayout) -> bool:
    """Create the lab network unless ours already exists as declared; True if created."""
    for net in list_networks():
        if not is_ours(net, lab):
            continue
        if net.subnets == (lab.subnet,) and net.internal:
            return False
        # Ours but declared differently now (stale): recreate it.
        remove_network(lab)
    run(create_argv(lab))
    return True


def remove_network(lab: LabLayout) -> None:
    for net in list_networks():
        if is_ours(net, lab):
            run(["podman", "network", "rm", "-f", net.name])


def own_interface(lab: LabLayout) -> str | None:
    for net in list_networks():
        if is_ours(net, lab):
            return net.interface
    return None

"""Observing a lab: node states, SSH and mirror reachability, and the status table."""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from rich.table import Table

from groundwork.lab import network, nodes, site
from groundwork.lab.artifacts import HOW_TO_SUPPLY
from groundwork.lab.layout import LabLayout, LabNode, layout
from groundwork.lab.proc import run
from groundwork.lab.ssh import SshTarget, key_paths
from groundwork.lab.state import LabState, NodeState

if TYPE_CHECKING:
    from groundwork.spec import ClusterSpec


def role_names(roles: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(str(getattr(r, "value", r)) for r in roles)


def probe_script(mirror_url: str) -> str:
    """Python run on a node over SSH: exit 0 when the node can read the mirror's index."""
    return (
        "import sys, urllib.request as u\n"
        "try:\n"
        f"    u.urlopen({f'{mirror_url}/{site.INDEX}'!r}, timeout=3).read()\n"
        "except Exception:\n"
        "    sys.exit(3)\n"
    )


def check_node(lab: LabLayout, node: LabNode, alive: bool) -> NodeState:
    roles = role_names(node.roles)
    if not alive:
        return NodeState(node.name, str(node.address), roles, node.container, "stopped", None, None)
    state = nodes.system_state(lab, node)
    key, known_hosts = key_paths(lab.stack)
    ssh_ok: bool | None = None
    mirror_ok: bool | None = None
    if key.exists() and known_hosts.exists():
        target = SshTarget(node.address, node.port, node.user, key, known_hosts)
        # One SSH session answers both: 255 is ssh's own failure.
        result = run(
            target.argv(["python3", "-c", _quote(probe_script(lab.mirror_url))]),
            check=False,
            timeout=30,
        )
        ssh_ok = result.returncode != 255
        mirror_ok = result.returncode == 0
    else:
        ssh_ok = False
    return NodeState(node.name, str(node.address), roles, node.container, state, ssh_ok, mirror_ok)


def _quote(text: str) -> str:
    # ssh hands the remote command to the user's shell: quote it for that shell.
    return shlex.quote(text)


def observe(
    lab: LabLayout,
    changed: bool = False,
    notes: tuple[str, ...] = (),
    deep: bool = True,
    containers: dict[str, nodes.Container] | None = None,
) -> LabState:
    """The lab as it is. `deep` also asks every running node over podman and SSH
    (about 1 s); without it a node's state is podman's record alone.
    `containers`: the lab's containers as just listed (four podman calls,
    0.15 s), when nothing was started since."""
    if containers is None:
        containers = nodes.in_lab_storage(lab, nodes.list_containers(lab))

    def one(node: LabNode) -> NodeState:
        c = containers.get(node.container)
        roles = role_names(node.roles)
        if c is None:
            return NodeState(
                node.name, str(node.address), roles, node.container, "absent", None, None
            )
        alive = nodes.is_alive(c)
        if not deep:
            state = "running" if alive else "stopped"
            return NodeState(node.name, str(node.address), roles, node.container, state, None, None)
        return check_node(lab, node, alive)

    with ThreadPoolExecutor(max_workers=max(1, len(lab.nodes))) as pool:
        states = tuple(pool.map(one, lab.nodes))
    index = site.read_index(lab.stack) or {}
    k8s = bool(index.get("kubernetes", {}).get("available", False))
    extra = list(notes)
    if not k8s:
        extra.append(
            "Kubernetes components cannot be installed in this lab: no official "
            f"Kubernetes binaries in its mirror. To supply them: {HOW_TO_SUPPLY}"
        )
    return LabState(
        stack=lab.stack,
        network=lab.network,
        network_present=network.own_interface(lab) is not None,
        mirror_url=lab.mirror_url,
        mirror_running=site.server_pid(lab.stack) is not None and site.mirror_answers(lab),
        kubernetes_available=k8s,
        nodes=states,
        changed=changed,
        notes=tuple(extra),
        storage=lab.storage.kind,
        podman=shlex.join(lab.storage.podman()),
    )


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "-"
    return "[green]yes[/green]" if value else "[red]no[/red]"


def table(state: LabState) -> Table:
    t = Table(
        title=f"lab {state.stack} (network {state.network}, mirror {state.mirror_url})",
        caption=f"machines' disks: {state.storage}; to use podman on them: {state.podman}",
    )
    for col in ("node", "address", "roles", "state", "SSH reachable", "mirror reachable"):
        t.add_column(col)
    for n in state.nodes:
        colour = {"running": "green", "degraded": "yellow"}.get(n.state, "red")
        t.add_row(
            n.name,
            n.address,
            ",".join(n.roles),
            f"[{colour}]{n.state}[/{colour}]",
            _yes_no(n.ssh_ok),
            _yes_no(n.mirror_ok),
        )
    return t


def status(spec: ClusterSpec) -> LabState:
    return observe(layout(spec))

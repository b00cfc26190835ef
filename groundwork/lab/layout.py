"""Names and paths of one stack's lab, derived from the spec (pure).

Everything the lab creates carries the label LABEL=<stack> and a name derived
from the lab's network name, so `down` and stale-state cleanup find exactly
what this lab made and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING

from groundwork.lab.errors import LabError
from groundwork.lab.storage import Storage, storage
from groundwork.paths import state_dir

if TYPE_CHECKING:
    from groundwork.spec import ClusterSpec

LABEL = "io.groundwork.lab"


@dataclass(frozen=True)
class LabNode:
    name: str
    address: IPv4Address
    roles: tuple[str, ...]
    container: str
    user: str
    port: int


@dataclass(frozen=True)
class LabLayout:
    stack: str
    subnet: IPv4Network
    gateway: IPv4Address
    network: str
    mirror_port: int
    registry_port: int
    nodes: tuple[LabNode, ...]
    storage: Storage
    # The release the mirror serves (cluster.kubernetes.version).
    kubernetes_version: str
    # cluster.network.plugin: the lab builds and serves that plugin's images.
    network_plugin: str

    @property
    def label(self) -> str:
        return f"{LABEL}={self.stack}"

    @property
    def mirror_url(self) -> str:
        return f"http://{self.gateway}:{self.mirror_port}"

    @property
    def registry_url(self) -> str:
        return f"http://{self.gateway}:{self.registry_port}"

    def node(self, name: str) -> LabNode:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise LabError(f"no node {name!r} in stack {self.stack!r}: choose one of {known}")


def container_name(network: str, node: str) -> str:
    return f"{network}-{node}"


def _v4(value: object, what: str) -> IPv4Address:
    if not isinstance(value, IPv4Address):
        raise LabError(f"{what} {value} is not an IPv4 address: the lab is IPv4 only")
    return value


def _v4net(value: object) -> IPv4Network:
    if not isinstance(value, IPv4Network):
        raise LabError(f"lab.subnet {value} is not an IPv4 network: the lab is IPv4 only")
    return value


def layout(spec: ClusterSpec) -> LabLayout:
    """The lab of a stack; LabError when the stack declares no lab."""
    lab = spec.lab
    if lab is None:
        raise LabError(
            f"stack {spec.name!r} has no lab block: add one (subnet, gateway) or use --stack lab"
        )
    nodes = tuple(
        LabNode(
            name=n.name,
            address=_v4(n.address, f"node {n.name} address"),
            roles=tuple(n.roles),
            container=container_name(lab.network_name, n.name),
            user=n.ssh.user,
            port=n.ssh.port,
        )
        for n in spec.nodes
    )
    return LabLayout(
        stack=spec.name,
        subnet=_v4net(lab.subnet),
        gateway=_v4(lab.gateway, "lab.gateway"),
        network=lab.network_name,
        mirror_port=lab.mirror_port,
        registry_port=lab.registry_port,
        nodes=nodes,
        storage=storage(lab.storage),
        kubernetes_version=spec.kubernetes.version,
        network_plugin=spec.network.plugin.value,
    )


def lab_state_dir(stack: str) -> Path:
    """Where one stack's lab keeps its key, known_hosts and mirror process files."""
    path = state_dir(stack) / "lab"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path

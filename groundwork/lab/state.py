"""What `up` and `status` report about a lab."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeState:
    name: str
    address: str
    roles: tuple[str, ...]
    container: str
    # absent, stopped, systemd's is-system-running answer, or "running" when
    # only podman's record was read (a lab that `up` found unchanged).
    state: str
    ssh_ok: bool | None  # None: not checked (node not running, or lab unchanged)
    mirror_ok: bool | None


@dataclass(frozen=True)
class LabState:
    stack: str
    network: str
    network_present: bool
    mirror_url: str
    mirror_running: bool
    kubernetes_available: bool
    nodes: tuple[NodeState, ...]
    changed: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Where the machines' disks are (cluster.lab.storage), and the podman
    # command that reaches them (groundwork/lab/storage.py).
    storage: str = "disk"
    podman: str = "podman"

    @property
    def up(self) -> bool:
        return (
            self.network_present
            and self.mirror_running
            and all(
                n.state in ("running", "degraded") and n.ssh_ok is not False for n in self.nodes
            )
        )

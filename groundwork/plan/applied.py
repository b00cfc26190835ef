"""The applied record's format: the membership the last successful `up`
applied, as groundwork/applied.py reads and writes it (applied.json).

The nodes (with enough to reach each again once it leaves the stack), the
etcd members with the settings each member bootstrapped with, the pod
network the cluster was built with, and their JSON form (to_dict/from_dict).
Pure; plan/membership.py diffs the record against the declared stack.

Every field added later is optional when read: a record written by an
older Groundwork still loads, what it lacks is not compared, and the next
converged `up` writes it whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Literal

from groundwork.plan.etcd import EtcdMember, EtcdPlan
from groundwork.spec import ClusterSpec

RECORD_VERSION = 1

State = Literal["new", "existing"]


class RecordError(ValueError):
    """applied.json is not a record this version can read."""


@dataclass(frozen=True)
class Bootstrap:
    """What one etcd member reads on its first start."""

    initial_cluster: str
    state: State


@dataclass(frozen=True)
class AppliedNode:
    """A node as it was applied: enough to reach it again once it leaves the stack."""

    name: str
    address: str
    roles: tuple[str, ...]
    ssh_user: str = "root"
    ssh_port: int = 22
    ssh_key: str | None = None


@dataclass(frozen=True)
class AppliedMember:
    name: str
    address: str
    bootstrap: Bootstrap

    @property
    def peer_url(self) -> str:
        return EtcdMember(self.name, ip_address(self.address)).peer_url

    @property
    def client_url(self) -> str:
        return EtcdMember(self.name, ip_address(self.address)).client_url


@dataclass(frozen=True)
class AppliedNetwork:
    """The pod network a cluster was built with: none of it can change while
    it runs (plan/membership.py refuses a change, naming the rebuild)."""

    plugin: str
    backend: str
    pod_cidr: str
    service_cidr: str
    # None in a record written before the node subnet size was recorded:
    # then it is not compared, and the next converged `up` records it.
    node_subnet_size: int | None = None

    def fields(self) -> tuple[tuple[str, str], ...]:
        """(stack field under cluster.network, value) of every recorded
        field, in the order a message names them."""
        recorded = (
            ("plugin", self.plugin),
            ("backend", self.backend),
            ("podCidr", self.pod_cidr),
            ("serviceCidr", self.service_cidr),
            (
                "nodeSubnetSize",
                None if self.node_subnet_size is None else str(self.node_subnet_size),
            ),
        )
        return tuple((name, value) for name, value in recorded if value is not None)

    def to_dict(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {
            "plugin": self.plugin,
            "backend": self.backend,
            "podCidr": self.pod_cidr,
            "serviceCidr": self.service_cidr,
        }
        if self.node_subnet_size is not None:
            out["nodeSubnetSize"] = self.node_subnet_size
        return out

    @classmethod
    def from_dict(cls, data: Any) -> AppliedNetwork:
        if not isinstance(data, Mapping):
            # Applied.from_dict reports it as a malformed record.
            raise TypeError(f"network is a {type(data).__name__}, not a mapping")
        size = data.get("nodeSubnetSize")
        return cls(
            str(data["plugin"]),
            str(data["backend"]),
            str(data["podCidr"]),
            str(data["serviceCidr"]),
            None if size is None else int(size),
        )


def applied_network(spec: ClusterSpec) -> AppliedNetwork:
    net = spec.network
    # Each CIDR field is one range or a dual-stack pair: "a,b".
    return AppliedNetwork(
        net.plugin.value,
        net.resolved_backend().value,
        ",".join(map(str, net.pod_cidr)),
        ",".join(map(str, net.service_cidr)),
        net.node_subnet_size,
    )


@dataclass(frozen=True)
class Applied:
    """The membership the last successful `up` applied."""

    nodes: tuple[AppliedNode, ...]
    members: tuple[AppliedMember, ...]
    # None in a record written before the network was recorded.
    network: AppliedNetwork | None = None

    def node(self, name: str) -> AppliedNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    def member(self, name: str) -> AppliedMember | None:
        return next((m for m in self.members if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": RECORD_VERSION,
            "nodes": [
                {
                    "name": n.name,
                    "address": n.address,
                    "roles": list(n.roles),
                    "ssh": {"user": n.ssh_user, "port": n.ssh_port, "key": n.ssh_key},
                }
                for n in self.nodes
            ],
            "etcd": {
                "members": [
                    {
                        "name": m.name,
                        "address": m.address,
                        "initial_cluster": m.bootstrap.initial_cluster,
                        "initial_cluster_state": m.bootstrap.state,
                    }
                    for m in self.members
                ]
            },
            **({"network": self.network.to_dict()} if self.network else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Applied:
        """The record back from its JSON document; RecordError names what is wrong."""
        try:
            if data["version"] != RECORD_VERSION:
                raise RecordError(f"record version {data['version']!r}, expected {RECORD_VERSION}")
            nodes = tuple(
                AppliedNode(
                    name=str(n["name"]),
                    address=str(ip_address(n["address"])),
                    roles=tuple(str(r) for r in n["roles"]),
                    ssh_user=str(n["ssh"]["user"]),
                    ssh_port=int(n["ssh"]["port"]),
                    ssh_key=None if n["ssh"]["key"] is None else str(n["ssh"]["key"]),
                )
                for n in data["nodes"]
            )
            members = tuple(
                AppliedMember(
                    name=str(m["name"]),
                    address=str(ip_address(m["address"])),
                    bootstrap=Bootstrap(
                        str(m["initial_cluster"]), _state(m["initial_cluster_state"])
                    ),
                )
                for m in data["etcd"]["members"]
            )
            # A record written before the network was recorded has none.
            net = data.get("network")
            network = None if net is None else AppliedNetwork.from_dict(net)
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, RecordError):
                raise
            raise RecordError(f"malformed record: {type(err).__name__}: {err}") from None
        return cls(nodes, members, network)


def _state(value: Any) -> State:
    if value == "new":
        return "new"
    if value == "existing":
        return "existing"
    raise RecordError(f"initial_cluster_state {value!r} is neither new nor existing")


def applied_after(spec: ClusterSpec, etcd: EtcdPlan, bootstrap: Mapping[str, Bootstrap]) -> Applied:
    """The record to write once the declared stack is applied."""
    nodes = tuple(
        AppliedNode(
            name=n.name,
            address=str(n.address),
            roles=tuple(r.value for r in n.roles),
            ssh_user=n.ssh.user,
            ssh_port=n.ssh.port,
            ssh_key=n.ssh.key,
        )
        for n in spec.nodes
    )
    members = tuple(AppliedMember(m.name, str(m.address), bootstrap[m.name]) for m in etcd.members)
    return Applied(nodes, members, applied_network(spec))


def without(applied: Applied, names: Sequence[str]) -> Applied:
    """The record once these nodes (and their etcd memberships) are gone."""
    gone = set(names)
    return Applied(
        tuple(n for n in applied.nodes if n.name not in gone),
        tuple(m for m in applied.members if m.name not in gone),
        applied.network,
    )

"""etcd membership: names, URLs and the bootstrap settings every member shares."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

CLIENT_PORT = 2379
PEER_PORT = 2380
# Metrics and health on plain HTTP, bound to loopback only (no port to open).
METRICS_URL = "http://127.0.0.1:2381"


def _url(address: IPv4Address | IPv6Address, port: int) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"https://{host}:{port}"


@dataclass(frozen=True)
class EtcdMember:
    name: str
    address: IPv4Address | IPv6Address

    @property
    def peer_url(self) -> str:
        return _url(self.address, PEER_PORT)

    @property
    def client_url(self) -> str:
        return _url(self.address, CLIENT_PORT)


@dataclass(frozen=True)
class EtcdPlan:
    members: tuple[EtcdMember, ...]
    initial_cluster_token: str
    version: str

    @property
    def initial_cluster(self) -> str:
        """--initial-cluster: "cp1=https://10.77.0.11:2380,..."."""
        return ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def client_urls(self) -> tuple[str, ...]:
        return tuple(m.client_url for m in self.members)

    @property
    def servers(self) -> str:
        """kube-apiserver's --etcd-servers."""
        return ",".join(self.client_urls)


def cluster_token(cluster_name: str) -> str:
    """--initial-cluster-token: the same on every member, unique per cluster name,
    so members of two clusters can never join each other by mistake."""
    digest = hashlib.sha256(f"groundwork/{cluster_name}".encode()).hexdigest()[:12]
    return f"{cluster_name}-etcd-{digest}"


def etcd_plan(
    cluster_name: str,
    members: Sequence[tuple[str, IPv4Address | IPv6Address]],
    version: str,
) -> EtcdPlan:
    """Members in declaration order (name, address)."""
    return EtcdPlan(
        members=tuple(EtcdMember(name, address) for name, address in members),
        initial_cluster_token=cluster_token(cluster_name),
        version=version,
    )

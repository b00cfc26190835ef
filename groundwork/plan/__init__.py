"""The plan: everything derived from a validated cluster spec, without I/O.

`build_plan(spec)` is the one entry point: the CLI prints it, the inventory
turns it into Ansible variables, the PKI reads its certificate requests.
Each part is computed by a small pure module (ipam, mtu, ports, kernel,
etcd, certs, endpoint) that takes plain values, so it can be tested alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from groundwork.plan import ipam, mtu
from groundwork.plan.certs import CertificateRequest, certificate_requests, first_service_ip
from groundwork.plan.endpoint import EndpointPlan, endpoint_plan
from groundwork.plan.etcd import EtcdMember, EtcdPlan, etcd_plan
from groundwork.plan.kernel import (
    KernelFilesystem,
    KernelModule,
    Sysctl,
    kernel_filesystems,
    kernel_modules,
    sysctls,
)
from groundwork.plan.ports import PortRule, port_matrix
from groundwork.spec.model import Backend, ClusterSpec, KubeProxyMode, Plugin, Role

__all__ = [
    "CertificateRequest",
    "ClusterPlan",
    "EndpointPlan",
    "EtcdPlan",
    "KernelFilesystem",
    "KernelModule",
    "NetworkPlan",
    "NodePlan",
    "PortRule",
    "Sysctl",
    "build_plan",
]


@dataclass(frozen=True)
class NodePlan:
    name: str
    address: IPv4Address | IPv6Address
    roles: tuple[str, ...]
    pod_subnet: IPv4Network | None  # None for etcd-only nodes (no kubelet)

    @property
    def runs_kubelet(self) -> bool:
        return self.pod_subnet is not None


@dataclass(frozen=True)
class NetworkPlan:
    plugin: Plugin
    backend: Backend
    pod_cidr: IPv4Network
    service_cidr: IPv4Network
    node_subnet_size: int
    node_mtu: int
    encapsulation_overhead: int
    pod_mtu: int
    kube_proxy: KubeProxyMode
    kubernetes_service_ip: IPv4Address  # first service IP: the `kubernetes` Service
    cluster_dns_ip: IPv4Address  # tenth service IP: CoreDNS (kubelet clusterDNS)
    cluster_domain: str


@dataclass(frozen=True)
class ClusterPlan:
    name: str
    kubernetes_version: str
    nodes: tuple[NodePlan, ...]
    network: NetworkPlan
    endpoint: EndpointPlan
    etcd: EtcdPlan
    ports: tuple[PortRule, ...]
    kernel_modules: tuple[KernelModule, ...]
    sysctls: tuple[Sysctl, ...]
    # Checked by the pre-flight on every kubelet node, never loaded.
    kernel_filesystems: tuple[KernelFilesystem, ...]
    certificates: tuple[CertificateRequest, ...]

    @property
    def pod_mtu(self) -> int:
        return self.network.pod_mtu

    def node(self, name: str) -> NodePlan:
        return next(n for n in self.nodes if n.name == name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable: addresses and networks as strings, properties
        (URLs, initial cluster, port labels) included."""
        out = _jsonable(self)
        assert isinstance(out, dict)
        return out


# Computed properties worth having in the JSON next to the fields.
_EXTRA: dict[type, tuple[str, ...]] = {
    ClusterPlan: ("pod_mtu",),
    EndpointPlan: ("url",),
    EtcdMember: ("peer_url", "client_url"),
    EtcdPlan: ("initial_cluster", "client_urls", "servers"),
    PortRule: ("ports", "label"),
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, CertificateRequest):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        extra = _EXTRA.get(type(value), ())
        out.update({name: _jsonable(getattr(value, name)) for name in extra})
        return out
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, IPv4Address | IPv6Address | IPv4Network | IPv6Network):
        return str(value)
    return value


def build_plan(spec: ClusterSpec) -> ClusterPlan:
    """Derive the plan of a validated spec (call only after validation)."""
    net = spec.network
    plugin, backend = net.plugin, net.resolved_backend()
    pod_cidr, service_cidr = net.pod_cidr4, net.service_cidr4
    kube_proxy = spec.kubernetes.kube_proxy

    kubelet_nodes = [n for n in spec.nodes if n.has(Role.CONTROL_PLANE) or n.has(Role.WORKER)]
    subnets = ipam.allocate(
        pod_cidr,
        net.node_subnet_size,
        {n.name: n.address for n in kubelet_nodes if isinstance(n.address, IPv4Address)},
    )
    nodes = tuple(
        NodePlan(n.name, n.address, tuple(r.value for r in n.roles), subnets.get(n.name))
        for n in spec.nodes
    )
    network = NetworkPlan(
        plugin=plugin,
        backend=backend,
        pod_cidr=pod_cidr,
        service_cidr=service_cidr,
        node_subnet_size=net.node_subnet_size,
        node_mtu=net.node_mtu,
        encapsulation_overhead=mtu.overhead(plugin, backend),
        pod_mtu=mtu.pod_mtu(net.node_mtu, plugin, backend),
        kube_proxy=kube_proxy,
        kubernetes_service_ip=first_service_ip(service_cidr),
        cluster_dns_ip=service_cidr.network_address + 10,
        cluster_domain=spec.kubernetes.cluster_domain,
    )
    endpoint = endpoint_plan(spec.control_plane.endpoint)
    control_plane = [(n.name, n.address) for n in spec.nodes_with(Role.CONTROL_PLANE)]
    members = [(n.name, n.address) for n in spec.nodes_with(Role.ETCD)]
    has_bgp_peers = net.bgp is not None and bool(net.bgp.peers)
    return ClusterPlan(
        name=spec.name,
        kubernetes_version=spec.kubernetes.version.removeprefix("v"),
        nodes=nodes,
        network=network,
        endpoint=endpoint,
        etcd=etcd_plan(spec.name, members, spec.etcd.version.removeprefix("v")),
        ports=port_matrix(
            endpoint,
            kube_proxy,
            plugin,
            backend,
            bgp_peers=has_bgp_peers,
            load_balancer=spec.load_balancer.provider,
        ),
        kernel_modules=kernel_modules(plugin, backend, kube_proxy),
        sysctls=sysctls(plugin, backend, kube_proxy),
        kernel_filesystems=kernel_filesystems([(c.name, c.driver) for c in spec.storage.classes]),
        certificates=certificate_requests(
            endpoint,
            control_plane,
            members,
            [(n.name, n.address) for n in kubelet_nodes],
            service_cidr,
            spec.kubernetes.cluster_domain,
            kube_proxy=kube_proxy is not KubeProxyMode.NONE,
        ),
    )

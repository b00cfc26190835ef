"""The ports and protocols that must be open between node roles.

One `PortRule` per (destination role, protocol, port range): a firewall
role can open exactly these and nothing else. Sources and destinations are
role names (`control-plane`, `etcd`, `worker`) plus two outsiders:
`clients` (kubectl users, the external load balancer, users of NodePort
services) and `bgp-peers` (the routers in `cluster.network.bgp.peers`).

Not listed: pod-to-pod traffic itself. With routed backends (bridge static
routes, flannel host-gw, calico bgp, cilium native, kube-router bgp) packets
between nodes carry pod addresses, so a firewall between the nodes must also
pass traffic from and to the pod CIDR. Component metrics endpoints
(etcd 2381, controller-manager/scheduler) bind to 127.0.0.1 and are only
listed where another node must reach them.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.plan.endpoint import EndpointPlan
from groundwork.spec.model import IPIP_BACKENDS, VXLAN_BACKENDS, Backend, KubeProxyMode, Plugin

CONTROL_PLANE = "control-plane"
ETCD = "etcd"
WORKER = "worker"
CLIENTS = "clients"
BGP_PEERS = "bgp-peers"
KUBELET_ROLES: tuple[str, ...] = (CONTROL_PLANE, WORKER)

# IP protocols without ports, by name -> IANA protocol number.
IP_PROTOCOLS: dict[str, int] = {"vrrp": 112, "ipip": 4}


@dataclass(frozen=True)
class PortRule:
    sources: tuple[str, ...]
    destination: str
    protocol: str  # "tcp", "udp", or an IP protocol name in IP_PROTOCOLS
    port: int | None  # None for IP protocols without ports
    port_end: int | None  # last port of a range, None for a single port
    purpose: str

    @property
    def ports(self) -> str:
        """ "6443", "30000-32767", or "" for portless protocols."""
        if self.port is None:
            return ""
        return f"{self.port}-{self.port_end}" if self.port_end is not None else str(self.port)

    @property
    def label(self) -> str:
        """ "6443/tcp", "proto 112 (vrrp)"."""
        if self.port is None:
            return f"proto {IP_PROTOCOLS[self.protocol]} ({self.protocol})"
        return f"{self.ports}/{self.protocol}"


def _to(
    destinations: tuple[str, ...],
    sources: tuple[str, ...],
    protocol: str,
    port: int | None,
    purpose: str,
    port_end: int | None = None,
) -> list[PortRule]:
    return [PortRule(sources, d, protocol, port, port_end, purpose) for d in destinations]


def control_plane_ports(endpoint: EndpointPlan) -> list[PortRule]:
    everyone = (*KUBELET_ROLES, CLIENTS)
    rules: list[PortRule] = []
    if endpoint.haproxy:
        rules += _to(
            (CONTROL_PLANE,), everyone, "tcp", endpoint.port, "haproxy: API endpoint on the VIP"
        )
        rules += _to(
            (CONTROL_PLANE,),
            (*KUBELET_ROLES,),
            "tcp",
            endpoint.apiserver_port,
            "kube-apiserver behind haproxy (and the kubernetes Service's endpoints)",
        )
        rules += _to(
            (CONTROL_PLANE,), (CONTROL_PLANE,), "vrrp", None, "keepalived VRRP for the VIP"
        )
    else:
        rules += _to((CONTROL_PLANE,), everyone, "tcp", endpoint.apiserver_port, "kube-apiserver")
    rules += _to(
        (CONTROL_PLANE,), (CONTROL_PLANE,), "tcp", 10257, "kube-controller-manager (self: health)"
    )
    rules += _to((CONTROL_PLANE,), (CONTROL_PLANE,), "tcp", 10259, "kube-scheduler (self: health)")
    return rules


def etcd_ports() -> list[PortRule]:
    return [
        *_to((ETCD,), (CONTROL_PLANE, ETCD), "tcp", 2379, "etcd clients (kube-apiserver, etcdctl)"),
        *_to((ETCD,), (ETCD,), "tcp", 2380, "etcd peers"),
    ]


def node_ports(kube_proxy: KubeProxyMode) -> list[PortRule]:
    nodes = KUBELET_ROLES
    rules = _to(nodes, nodes, "tcp", 10250, "kubelet API (logs, exec, metrics)")
    if kube_proxy is not KubeProxyMode.NONE:
        rules += _to(
            nodes, (*nodes, CLIENTS), "tcp", 10256, "kube-proxy health (load balancer checks)"
        )
    for protocol in ("tcp", "udp"):
        rules += _to(nodes, (*nodes, CLIENTS), protocol, 30000, "NodePort Services", 32767)
    return rules


def backend_ports(plugin: Plugin, backend: Backend, bgp_peers: bool) -> list[PortRule]:
    """The network plugin's own traffic between kubelet nodes."""
    nodes = KUBELET_ROLES
    rules: list[PortRule] = []

    def add(
        protocol: str, port: int | None, purpose: str, sources: tuple[str, ...] = nodes
    ) -> None:
        rules.extend(_to(nodes, sources, protocol, port, purpose))

    bgp_sources = (*nodes, BGP_PEERS) if bgp_peers else nodes
    if plugin is Plugin.FLANNEL:
        if backend is Backend.VXLAN:
            add("udp", 8472, "flannel VXLAN")
        elif backend is Backend.WIREGUARD:
            add("udp", 51820, "flannel WireGuard")
    elif plugin is Plugin.CALICO:
        if backend in {Backend.BGP, Backend.VXLAN_CROSS_SUBNET, *IPIP_BACKENDS}:
            add("tcp", 179, "calico BGP (bird)", bgp_sources)
        if backend in IPIP_BACKENDS:
            add("ipip", None, "calico IP-in-IP")
        if backend in VXLAN_BACKENDS:
            add("udp", 4789, "calico VXLAN")
        add("tcp", 5473, "calico typha (felix to typha)")
    elif plugin is Plugin.CILIUM:
        add("tcp", 4240, "cilium health checks")
        add("tcp", 4244, "hubble server (relay to node)")
        if backend is Backend.VXLAN:
            add("udp", 8472, "cilium VXLAN")
        elif backend is Backend.GENEVE:
            add("udp", 6081, "cilium Geneve")
    elif plugin is Plugin.KUBE_ROUTER:
        add("tcp", 179, "kube-router BGP (routes to pod subnets)", bgp_sources)
        if backend is Backend.IPIP:
            add("ipip", None, "kube-router IP-in-IP")
    elif plugin is Plugin.BRIDGE and backend is Backend.BGP:
        add("tcp", 179, "BIRD BGP (routes to pod subnets)", bgp_sources)
    # Plugin.BRIDGE's static routes and macvlan: no daemon, no port.
    return rules


def load_balancer_ports(provider: str) -> list[PortRule]:
    if provider != "metallb":
        return []
    return [
        r
        for protocol in ("tcp", "udp")
        for r in _to(KUBELET_ROLES, KUBELET_ROLES, protocol, 7946, "MetalLB speaker memberlist")
    ]


def port_matrix(
    endpoint: EndpointPlan,
    kube_proxy: KubeProxyMode,
    plugin: Plugin,
    backend: Backend,
    *,
    bgp_peers: bool = False,
    load_balancer: str = "none",
) -> tuple[PortRule, ...]:
    """Every rule, control plane first, then etcd, nodes, network, load balancer."""
    return (
        *control_plane_ports(endpoint),
        *etcd_ports(),
        *node_ports(kube_proxy),
        *backend_ports(plugin, backend, bgp_peers),
        *load_balancer_ports(load_balancer),
    )

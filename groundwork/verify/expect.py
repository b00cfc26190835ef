"""What each node must look like, derived from the spec and its plan (pure).

The checks in tests/infra read only these expectations, never the Ansible
inventory or the roles' variables: the plan is the independent truth the live
nodes are compared with, so a bug in the roles cannot hide itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from groundwork.manifests.gateway import TRAEFIK_NS
from groundwork.plan import ClusterPlan, bgp, build_plan, underlay
from groundwork.plan.bgp import BgpNode
from groundwork.plan.etcd import CLIENT_PORT as ETCD_CLIENT_PORT
from groundwork.plan.etcd import PEER_PORT as ETCD_PEER_PORT
from groundwork.plan.underlay import UnderlayNode
from groundwork.spec import ClusterSpec
from groundwork.spec.model import Backend, GatewayController, Plugin

# Where the roles put things on a node. These are facts of the node layout
# (shared with roles/), not declarations; the declared values live in the plan.
ETCD_PKI = "/etc/etcd/pki"
ETCD_DATA_DIR = "/var/lib/etcd"
ETCD_USER = "etcd"
# The timer of scheduled snapshots (roles/etcd), on members when declared.
SNAPSHOT_TIMER = "groundwork-etcd-snapshot.timer"
ETCD_BINARIES = ("/usr/local/bin/etcd", "/usr/local/bin/etcdctl")
CONTAINERD_CONFIG = "/etc/containerd/config.toml"
CNI_CONFIG = "/etc/cni/net.d/10-groundwork.conflist"


@dataclass(frozen=True)
class EtcdMember:
    name: str
    address: str
    client_url: str
    peer_url: str


@dataclass(frozen=True)
class Route:
    """A static route to another node's pod subnet via that node's address."""

    subnet: str
    via: str
    node: str


@dataclass(frozen=True)
class Listen:
    port: int
    what: str
    address: str | None = None  # None: any local address


@dataclass(frozen=True)
class NodeExpectation:
    """Everything a check needs to know about one node."""

    name: str
    address: str
    roles: tuple[str, ...]
    ssh_user: str
    ssh_port: int
    services: tuple[str, ...]
    listen: tuple[Listen, ...]
    sysctls: dict[str, str]
    kernel_modules: tuple[str, ...]
    pod_subnet: str
    pod_mtu: int
    routes: tuple[Route, ...]
    cgroup_driver: str
    containerd_version: str
    etcd_version: str | None
    etcd_member: EtcdMember | None
    # The macvlan backend's shim and pod addresses on this node.
    underlay: UnderlayNode | None = None
    # The bgp backend's BIRD settings on this node, and the routes it must
    # have learned: each other node's pod subnet via that node's address.
    bgp: BgpNode | None = None
    routes_over_bgp: tuple[Route, ...] = ()

    def has(self, role: str) -> bool:
        return role in self.roles


# Where kubelet serves its API (its serving certificate is checked there).
KUBELET_PORT = 10250
# A certificate with fewer days left than this fails the expiry check:
# time to run `groundwork up`, which renews what is due.
MIN_CERTIFICATE_DAYS = 30


@dataclass(frozen=True)
class ServedCertificate:
    """A serving certificate as the plan issues it, and where it is served."""

    name: str  # the PKI's name: kube-apiserver, kubelet-w1
    node: str
    address: str
    port: int
    dns_sans: tuple[str, ...]
    ip_sans: tuple[str, ...]


@dataclass(frozen=True)
class RouteExpectation:
    """An exposed workload: its route, and what answers through the gateway."""

    namespace: str
    name: str  # the HTTPRoute's (or Ingress's) name, the workload's
    hostname: str
    path: str


@dataclass(frozen=True)
class GatewayService:
    """The Service in front of the gateway controller, when Groundwork renders it."""

    namespace: str
    name: str
    port_name: str  # its HTTP port


@dataclass(frozen=True)
class KubeExpectation:
    """What the Kubernetes layer must look like."""

    version: str  # as /version and the kubelets report it: "v1.36.3"
    endpoint_url: str  # https://VIP:port
    apiservers: tuple[tuple[str, str], ...]  # (node, https://address:port), each apiserver
    kubelet_nodes: tuple[str, ...]
    control_plane_nodes: tuple[str, ...]
    cluster_domain: str
    served: tuple[ServedCertificate, ...]
    # The `kubernetes` Service's ClusterIP: every kubelet node reaches it.
    service_ip: str = ""
    min_certificate_days: int = MIN_CERTIFICATE_DAYS
    routes: tuple[RouteExpectation, ...] = ()
    gateway_service: GatewayService | None = None
    # The plan's pod MTU (node MTU less the backend's encapsulation): a
    # don't-fragment ping of exactly that size crosses between pods.
    pod_mtu: int = 1500


@dataclass(frozen=True)
class ClusterExpectation:
    stack: str
    nodes: tuple[NodeExpectation, ...]
    etcd_members: tuple[EtcdMember, ...]
    vip: str | None
    endpoint_port: int
    network_plugin: Plugin
    network_backend: Backend
    kubernetes: KubeExpectation | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def node(self, name: str) -> NodeExpectation:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def with_role(self, role: str) -> list[NodeExpectation]:
        return [n for n in self.nodes if n.has(role)]

    @property
    def vip_holders(self) -> list[NodeExpectation]:
        """Nodes that run haproxy + keepalived (control-plane, VIP endpoint only)."""
        return self.with_role("control-plane") if self.vip is not None else []

    @property
    def bridge_network(self) -> bool:
        return self.network_plugin is Plugin.BRIDGE


KUBELET_ROLES = ("control-plane", "worker")


def from_plan(spec: ClusterSpec, plan: ClusterPlan) -> ClusterExpectation:
    """The expectations of every node (pure: spec + plan in, values out)."""
    members = tuple(
        EtcdMember(m.name, str(m.address), m.client_url, m.peer_url) for m in plan.etcd.members
    )
    by_member = {m.name: m for m in members}
    endpoint = plan.endpoint
    vip = endpoint.host if endpoint.kind == "vip" and endpoint.haproxy else None
    bridge = plan.network.plugin is Plugin.BRIDGE
    sysctls = {s.key: s.value for s in plan.sysctls}
    modules = tuple(m.name for m in plan.kernel_modules)
    spec_nodes = {n.name: n for n in spec.nodes}
    nodes = []
    for n in plan.nodes:
        kubelet = any(r in KUBELET_ROLES for r in n.roles)
        is_etcd = "etcd" in n.roles
        lb = vip is not None and "control-plane" in n.roles
        services: list[str] = []
        listen: list[Listen] = []
        if kubelet:
            services.append("containerd")
        if is_etcd:
            services.append("etcd.service")
            if spec.etcd.snapshots is not None:
                services.append(SNAPSHOT_TIMER)
            listen += [
                Listen(ETCD_CLIENT_PORT, "etcd client port", str(n.address)),
                Listen(ETCD_PEER_PORT, "etcd peer port", str(n.address)),
            ]
        if lb:
            services += ["haproxy", "keepalived"]
            listen.append(Listen(endpoint.port, "haproxy endpoint port"))
        routes: tuple[Route, ...] = ()
        to_others = tuple(
            Route(str(o.pod_subnet), str(o.address), o.name)
            for o in plan.nodes
            if o.name != n.name and o.pod_subnet is not None
        )
        if bridge and plan.network.backend is Backend.STATIC_ROUTES and n.pod_subnet is not None:
            routes = to_others
        bgp_node = bgp.planned(spec, plan, n.name)
        ssh = spec_nodes[n.name].ssh
        nodes.append(
            NodeExpectation(
                name=n.name,
                address=str(n.address),
                roles=tuple(n.roles),
                ssh_user=ssh.user,
                ssh_port=ssh.port,
                services=tuple(services),
                listen=tuple(listen),
                sysctls=dict(sysctls),
                kernel_modules=modules,
                pod_subnet=str(n.pod_subnet) if n.pod_subnet is not None else "",
                pod_mtu=plan.network.pod_mtu,
                routes=routes,
                cgroup_driver=spec.container_runtime.cgroup_driver,
                containerd_version=spec.container_runtime.version.removeprefix("v"),
                etcd_version=plan.etcd.version if is_etcd else None,
                etcd_member=by_member.get(n.name) if is_etcd else None,
                underlay=underlay.planned(spec, plan, n.name),
                bgp=bgp_node,
                routes_over_bgp=to_others if bgp_node is not None else (),
            )
        )
    return ClusterExpectation(
        stack=spec.name,
        nodes=tuple(nodes),
        etcd_members=members,
        vip=vip,
        endpoint_port=endpoint.port,
        network_plugin=plan.network.plugin,
        network_backend=plan.network.backend,
        kubernetes=kube_expectation(spec, plan),
    )


def kube_expectation(spec: ClusterSpec, plan: ClusterPlan) -> KubeExpectation:
    endpoint = plan.endpoint
    control_plane = [n for n in plan.nodes if "control-plane" in n.roles]
    kubelets = [n for n in plan.nodes if any(r in KUBELET_ROLES for r in n.roles)]
    requests = {c.name: c for c in plan.certificates}
    served: list[ServedCertificate] = []
    apiserver = requests.get("kube-apiserver")
    for n in control_plane:
        if apiserver is not None:
            served.append(
                ServedCertificate(
                    apiserver.name,
                    n.name,
                    str(n.address),
                    endpoint.apiserver_port,
                    apiserver.dns_sans,
                    apiserver.ip_sans,
                )
            )
    for n in kubelets:
        kubelet = requests.get(f"kubelet-{n.name}")
        if kubelet is not None:
            served.append(
                ServedCertificate(
                    kubelet.name,
                    n.name,
                    str(n.address),
                    KUBELET_PORT,
                    kubelet.dns_sans,
                    kubelet.ip_sans,
                )
            )
    return KubeExpectation(
        version=f"v{plan.kubernetes_version.removeprefix('v')}",
        endpoint_url=endpoint.url,
        apiservers=tuple(
            (n.name, f"https://{n.address}:{endpoint.apiserver_port}") for n in control_plane
        ),
        kubelet_nodes=tuple(n.name for n in kubelets),
        control_plane_nodes=tuple(n.name for n in control_plane),
        cluster_domain=spec.kubernetes.cluster_domain,
        served=tuple(served),
        service_ip=str(plan.network.kubernetes_service_ip),
        routes=tuple(
            RouteExpectation(w.namespace, w.name, w.expose.hostname, w.expose.path)
            for w in spec.workloads
            if w.expose is not None
        ),
        gateway_service=_gateway_service(spec),
        pod_mtu=plan.pod_mtu,
    )


def _gateway_service(spec: ClusterSpec) -> GatewayService | None:
    """Traefik's Service is Groundwork's own (groundwork.manifests.gateway);
    Envoy Gateway names its per-Gateway Services itself."""
    if GatewayController(spec.gateway.controller) is not GatewayController.TRAEFIK:
        return None
    return GatewayService(TRAEFIK_NS, "traefik", "web")


def expectations(spec: ClusterSpec) -> ClusterExpectation:
    return from_plan(spec, build_plan(spec))

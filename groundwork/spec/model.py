"""The declarative model of one cluster: the `groundwork:cluster` config value.

Structure: types, enums, defaults and unknown-key rejection, and the network
plugin's own choices (a refused plugin's reason, the backends a plugin
offers), so that everything downstream holds a `Plugin` and a `Backend`.
Rules that relate fields across the cluster (CIDR overlaps, etcd quorum,
default storage class ...) live in `rules.py`, so that every problem is
reported at once with its path.

Field names are camelCase in the stack file (the Pulumi convention) and
snake_case in Python.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUseDefault

from groundwork import versions

# DNS-1123 label: what Kubernetes accepts as a node name and what a hostname
# may be, so one name works for both.
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
VERSION_PATTERN = r"^v?\d+\.\d+\.\d+$"
DNS_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
ABSOLUTE_PATH_PATTERN = r"^/"
CAPACITY_PATTERN = r"^\d+(Ki|Mi|Gi|Ti)$"
SIZE_PATTERN = r"^\d+(Mi|Gi|Ti)$"
URL_PATTERN = r"^https?://"
# A systemd OnCalendar expression ("daily", "*-*-* 02:30:00"); systemd-analyze
# checks it on each node before a timer is written.
CALENDAR_PATTERN = r"^[A-Za-z0-9*:,./~ +-]{1,100}$"

# Each pattern in words: a user is told the rule, never shown the regex.
PATTERN_WORDS: dict[str, str] = {
    NAME_PATTERN: "lowercase letters, digits and '-', starting and ending with a letter or "
    "digit, at most 63 characters (e.g. web-1)",
    VERSION_PATTERN: "a version with three numbers, major.minor.patch (e.g. 1.36.3; "
    "a leading v is allowed)",
    DNS_NAME_PATTERN: "a DNS name: lowercase letters, digits, '-' and '.', starting and "
    "ending with a letter or digit (e.g. api.example.internal)",
    ABSOLUTE_PATH_PATTERN: "an absolute path, starting with /",
    CAPACITY_PATTERN: "a whole number and a unit Ki, Mi, Gi or Ti (e.g. 10Gi)",
    SIZE_PATTERN: "a whole number and a unit Mi, Gi or Ti (e.g. 10Gi)",
    URL_PATTERN: "a URL starting with http:// or https://",
    CALENDAR_PATTERN: "a systemd calendar event (systemd.time(7)), e.g. daily, hourly or "
    "'*-*-* 02:30:00'",
}

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=63)]
Version = Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]


def _parse_address(value: Any) -> IPv4Address | IPv6Address:
    if isinstance(value, IPv4Address | IPv6Address):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address as a string, got {type(value).__name__}")
    try:
        return ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IP address") from None


def _parse_network(value: Any) -> IPv4Network | IPv6Network:
    if isinstance(value, IPv4Network | IPv6Network):
        return value
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"{value!r} is not a CIDR (expected a.b.c.d/len)")
    try:
        return ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"{value!r} is not a valid CIDR: {err}") from None


def _parse_networks(value: Any) -> tuple[IPv4Network | IPv6Network, ...]:
    # One CIDR now; a list of one per address family is accepted by the shape
    # so dual-stack can be added without changing stack files.
    items = value if isinstance(value, list | tuple) else [value]
    if not 1 <= len(items) <= 2:
        raise ValueError("expected one CIDR, or a list of one CIDR per address family")
    return tuple(_parse_network(item) for item in items)


def _networks_to_config(value: tuple[IPv4Network | IPv6Network, ...]) -> str | list[str]:
    return str(value[0]) if len(value) == 1 else [str(v) for v in value]


# An address or network of either family parses (one clear error if not);
# `rules.py` rejects IPv6 for now, so dual-stack needs no new shape.
Address = Annotated[IPv4Address | IPv6Address, PlainValidator(_parse_address), PlainSerializer(str)]
Network = Annotated[IPv4Network | IPv6Network, PlainValidator(_parse_network), PlainSerializer(str)]
Networks = Annotated[
    tuple[IPv4Network | IPv6Network, ...],
    PlainValidator(_parse_networks),
    PlainSerializer(_networks_to_config),
]


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must never pass silently)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


class Role(StrEnum):
    CONTROL_PLANE = "control-plane"
    ETCD = "etcd"
    WORKER = "worker"


class Ssh(Strict):
    user: str = "root"
    port: int = Field(default=22, ge=1, le=65535)
    # A reference, never the key itself: a file path, or "lab" for the lab's
    # generated key. Private keys never live in a stack file.
    key: str | None = None


class Taint(Strict):
    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Node(Strict):
    name: Name
    address: Address
    roles: list[Role] = Field(min_length=1)
    ssh: Ssh = Ssh()
    labels: dict[str, str] = {}
    taints: list[Taint] = []

    def has(self, role: Role) -> bool:
        return role in self.roles


class EtcdTopology(StrEnum):
    STACKED = "stacked"  # etcd members on the control-plane nodes
    EXTERNAL = "external"  # dedicated nodes holding only the etcd role


class EtcdSnapshots(Strict):
    """Snapshots each member takes of itself on a schedule, kept on its disk."""

    schedule: str = Field(pattern=CALENDAR_PATTERN)
    keep: int = Field(default=7, ge=1, le=1000)


class Etcd(Strict):
    topology: EtcdTopology = EtcdTopology.STACKED
    version: Version = versions.DEFAULT_ETCD
    snapshots: EtcdSnapshots | None = None


class VipEndpoint(Strict):
    """keepalived holds the VIP on one control-plane node; haproxy forwards."""

    vip: Address
    port: int = Field(default=6443, ge=1, le=65535)
    # VRRP router id: must be unique per L2 segment.
    virtual_router_id: int = Field(default=51, ge=1, le=255)


class LoadBalancerEndpoint(Strict):
    """An external load balancer the user runs in front of the apiservers."""

    load_balancer: Address
    port: int = Field(default=6443, ge=1, le=65535)


class DnsEndpoint(Strict):
    """A DNS name resolving to the apiservers (round robin or external LB)."""

    dns: Annotated[str, StringConstraints(pattern=DNS_NAME_PATTERN)]
    port: int = Field(default=6443, ge=1, le=65535)


def _endpoint_kind(value: Any) -> str | None:
    keys = value.keys() if isinstance(value, dict) else vars(value).keys()
    for key, tag in (("vip", "vip"), ("loadBalancer", "loadBalancer"), ("dns", "dns")):
        if key in keys or (key == "loadBalancer" and "load_balancer" in keys):
            return tag
    return None


Endpoint = Annotated[
    Annotated[VipEndpoint, Tag("vip")]
    | Annotated[LoadBalancerEndpoint, Tag("loadBalancer")]
    | Annotated[DnsEndpoint, Tag("dns")],
    Discriminator(
        _endpoint_kind,
        custom_error_type="endpoint_kind",
        custom_error_message="set exactly one of vip, loadBalancer or dns",
    ),
]


class ControlPlane(Strict):
    endpoint: Endpoint


class KubeProxyMode(StrEnum):
    IPTABLES = "iptables"
    NFTABLES = "nftables"
    IPVS = "ipvs"  # deprecated upstream; warned at validation
    NONE = "none"  # the CNI replaces kube-proxy (cilium)


class Kubernetes(Strict):
    version: Version = versions.DEFAULT_KUBERNETES
    kube_proxy: KubeProxyMode = KubeProxyMode.NFTABLES
    cluster_domain: str = "cluster.local"


class Plugin(StrEnum):
    BRIDGE = "bridge"
    FLANNEL = "flannel"
    CALICO = "calico"
    CILIUM = "cilium"
    KUBE_ROUTER = "kube-router"


class Backend(StrEnum):
    """How a plugin carries pod traffic between nodes (PLUGIN_BACKENDS: which plugin offers which)."""

    STATIC_ROUTES = "static-routes"
    VXLAN = "vxlan"
    HOST_GW = "host-gw"
    WIREGUARD = "wireguard"
    IPIP = "ipip"
    BGP = "bgp"
    IPIP_CROSS_SUBNET = "ipip-cross-subnet"
    VXLAN_CROSS_SUBNET = "vxlan-cross-subnet"
    GENEVE = "geneve"
    NATIVE = "native"


# Which backends each plugin offers. The first is the plugin's default.
PLUGIN_BACKENDS: dict[Plugin, tuple[Backend, ...]] = {
    Plugin.BRIDGE: (Backend.STATIC_ROUTES,),
    Plugin.FLANNEL: (Backend.VXLAN, Backend.HOST_GW, Backend.WIREGUARD),
    Plugin.CALICO: (
        Backend.VXLAN,
        Backend.IPIP,
        Backend.BGP,
        Backend.IPIP_CROSS_SUBNET,
        Backend.VXLAN_CROSS_SUBNET,
    ),
    Plugin.CILIUM: (Backend.VXLAN, Backend.GENEVE, Backend.NATIVE),
    Plugin.KUBE_ROUTER: (Backend.BGP, Backend.IPIP),
}

# Backends that tunnel pod traffic in VXLAN or IP-in-IP (the cross-subnet
# modes only between subnets, but they need the same kernel and ports).
VXLAN_BACKENDS = frozenset({Backend.VXLAN, Backend.VXLAN_CROSS_SUBNET})
IPIP_BACKENDS = frozenset({Backend.IPIP, Backend.IPIP_CROSS_SUBNET})

# Plugins users ask for that Groundwork refuses, and why.
REJECTED_PLUGINS: dict[str, str] = {
    "weave": "Weave Net is unmaintained (Weaveworks shut down in 2024); "
    "choose flannel, calico, cilium, kube-router or bridge",
    "canal": "canal is superseded by calico with its own policy engine; choose calico",
}


# Bytes each backend's encapsulation takes from the node MTU. Routed
# backends (host-gw, bgp, native, static routes) add nothing.
ENCAPSULATION_OVERHEAD: dict[tuple[Plugin, Backend], int] = {
    (Plugin.BRIDGE, Backend.STATIC_ROUTES): 0,
    (Plugin.FLANNEL, Backend.VXLAN): 50,
    (Plugin.FLANNEL, Backend.HOST_GW): 0,
    (Plugin.FLANNEL, Backend.WIREGUARD): 80,
    (Plugin.CALICO, Backend.VXLAN): 50,
    (Plugin.CALICO, Backend.IPIP): 20,
    (Plugin.CALICO, Backend.BGP): 0,
    # cross-subnet modes encapsulate only between subnets; size for the worst case
    (Plugin.CALICO, Backend.IPIP_CROSS_SUBNET): 20,
    (Plugin.CALICO, Backend.VXLAN_CROSS_SUBNET): 50,
    (Plugin.CILIUM, Backend.VXLAN): 50,
    (Plugin.CILIUM, Backend.GENEVE): 50,
    (Plugin.CILIUM, Backend.NATIVE): 0,
    (Plugin.KUBE_ROUTER, Backend.BGP): 0,
    (Plugin.KUBE_ROUTER, Backend.IPIP): 20,
}
# Calico's WireGuard adds 60 bytes on top of its encapsulation (if enabled).
CALICO_WIREGUARD_OVERHEAD = 60
# Below this a pod cannot carry IPv6 or many real-world protocols.
MINIMUM_POD_MTU = 1280


class BgpPeer(Strict):
    address: Address
    asn: int = Field(ge=1, le=4294967295)


class Bgp(Strict):
    """BGP peering for routed backends (calico bgp, kube-router bgp)."""

    asn: int = Field(default=64512, ge=1, le=4294967295)
    peers: list[BgpPeer] = []


class NetworkSpec(Strict):
    plugin: Plugin = Plugin.BRIDGE
    backend: Backend | None = None  # None: the plugin's default backend
    pod_cidr: Networks = (IPv4Network("10.244.0.0/16"),)
    service_cidr: Networks = (IPv4Network("10.96.0.0/12"),)
    # Prefix length of each node's pod subnet (/24 gives 254 pods per node).
    node_subnet_size: int = Field(default=24, ge=8, le=30)
    node_mtu: int = Field(default=1500, ge=576, le=9216)
    # The network the node addresses live on; a VIP must be inside it.
    # Defaults to the /24 of the first node when omitted.
    node_cidr: Network | None = None
    bgp: Bgp | None = None

    # Before pydantic's enum check, so that a refused plugin gets its reason,
    # an unknown one the choices, and a backend is judged against what its
    # plugin offers, in Groundwork's words rather than an enum error.
    @field_validator("plugin", mode="before")
    @classmethod
    def _known_plugin(cls, value: Any) -> Plugin:
        if isinstance(value, Plugin):
            return value
        if isinstance(value, str) and value in REJECTED_PLUGINS:
            raise ValueError(REJECTED_PLUGINS[value])
        try:
            return Plugin(value)
        except ValueError:
            choices = ", ".join(p.value for p in Plugin)
            raise ValueError(f"unknown plugin {value!r}; choose one of {choices}") from None

    @field_validator("backend", mode="before")
    @classmethod
    def _offered_by_plugin(cls, value: Any, info: ValidationInfo) -> Backend | None:
        if value is None:
            return None
        plugin = info.data.get("plugin")
        if plugin is None:
            # The plugin itself is wrong (reported there): nothing to judge against.
            raise PydanticUseDefault()
        offered = PLUGIN_BACKENDS[plugin]
        if value not in offered:
            raise ValueError(
                f"{plugin.value} has no backend {value!r}; choose one of {', '.join(offered)}"
            )
        return Backend(value)

    def resolved_backend(self) -> Backend:
        return self.backend if self.backend is not None else PLUGIN_BACKENDS[self.plugin][0]

    @property
    def pod_cidr4(self) -> IPv4Network:
        """The IPv4 pod CIDR (validation guarantees there is exactly one)."""
        return next(n for n in self.pod_cidr if isinstance(n, IPv4Network))

    @property
    def service_cidr4(self) -> IPv4Network:
        return next(n for n in self.service_cidr if isinstance(n, IPv4Network))


class StorageDriver(StrEnum):
    LOCAL_PATH = "local-path"
    NFS = "nfs"
    LOCAL_STATIC = "local-static"


class NfsParameters(Strict):
    server: str
    share: str = Field(pattern=ABSOLUTE_PATH_PATTERN)


class LocalVolume(Strict):
    """A pre-made directory or disk on one node, offered as a static PV."""

    node: Name
    path: str = Field(pattern=ABSOLUTE_PATH_PATTERN)
    capacity: str = Field(pattern=CAPACITY_PATTERN)


class StorageClass(Strict):
    name: Name
    driver: StorageDriver
    default: bool = False
    reclaim_policy: Literal["Delete", "Retain"] = "Delete"
    nfs: NfsParameters | None = None
    local_path: str = "/var/lib/groundwork/local-path"  # local-path only
    volumes: list[LocalVolume] = []  # local-static only


class Storage(Strict):
    classes: list[StorageClass] = []


class GatewayController(StrEnum):
    ENVOY_GATEWAY = "envoy-gateway"
    TRAEFIK = "traefik"
    NONE = "none"


# Ingress controllers users ask for that Groundwork refuses, and why.
REJECTED_INGRESS: dict[str, str] = {
    "ingress-nginx": "ingress-nginx is retired upstream (no releases or security fixes "
    "after March 2026); use the Gateway API with envoy-gateway or traefik",
    "nginx": "ingress-nginx is retired upstream (no releases or security fixes "
    "after March 2026); use the Gateway API with envoy-gateway or traefik",
}


class Gateway(Strict):
    controller: str = GatewayController.NONE.value
    # Optional Ingress class served by the same controller, for workloads
    # that still use Ingress objects.
    ingress_class: str | None = None


class MetalLbPool(Strict):
    name: Name
    addresses: list[str] = Field(min_length=1)  # CIDRs or "a.b.c.d-a.b.c.e" ranges


class LoadBalancer(Strict):
    provider: Literal["metallb", "kube-vip", "none"] = "none"
    mode: Literal["l2", "bgp"] = "l2"
    pools: list[MetalLbPool] = []


class Port(Strict):
    name: Name
    port: int = Field(ge=1, le=65535)
    protocol: Literal["TCP", "UDP"] = "TCP"


class WorkloadStorage(Strict):
    size: str = Field(pattern=SIZE_PATTERN)
    storage_class: Name = Field(alias="class")
    mount_path: str = Field(default="/data", pattern=ABSOLUTE_PATH_PATTERN)


class Exposure(Strict):
    hostname: str
    path: str = Field(default="/", pattern=ABSOLUTE_PATH_PATTERN)
    port: Name  # the name of one of the workload's ports


class Workload(Strict):
    kind: Literal["StatefulSet"] = "StatefulSet"
    name: Name
    namespace: Name = "default"
    image: str = Field(min_length=1)
    # The container's arguments (its image's entrypoint stays).
    args: list[str] = []
    replicas: int = Field(default=1, ge=0)
    ports: list[Port] = []
    storage: WorkloadStorage | None = None
    expose: Exposure | None = None


class ContainerRuntime(Strict):
    version: Version = versions.DEFAULT_CONTAINERD
    cgroup_driver: Literal["systemd", "cgroupfs"] = "systemd"
    sandbox_image: str = "registry.k8s.io/pause:3.10"
    registry_mirrors: dict[str, str] = {}


class Artifacts(Strict):
    """Where binaries and packages come from: upstream, or an offline mirror."""

    source: Literal["upstream", "mirror"] = "upstream"
    mirror: str | None = Field(default=None, pattern=URL_PATTERN)


# Where lab machines keep their disks (cluster.lab.storage).
LabStorageKind = Literal["memory", "disk"]


class LabSpec(Strict):
    """Present only in the lab stack: the machines are created on this host."""

    subnet: Network
    gateway: Address
    # Defaults to "groundwork-<cluster name>" (filled in by ClusterSpec).
    network_name: Name = ""
    mirror_port: int = Field(default=8080, ge=1, le=65535)
    # The OCI registry of the lab's images, on the gateway too.
    registry_port: int = Field(default=5000, ge=1, le=65535)
    # Where the machines' disks live: a tmpfs of the lab's own (fast, gone at
    # a reboot) or podman's storage on disk (groundwork/lab/storage.py).
    storage: LabStorageKind = "memory"


class ClusterSpec(Strict):
    name: Name
    kubernetes: Kubernetes = Kubernetes()
    nodes: list[Node] = Field(min_length=1)
    etcd: Etcd = Etcd()
    control_plane: ControlPlane
    network: NetworkSpec = NetworkSpec()
    container_runtime: ContainerRuntime = ContainerRuntime()
    storage: Storage = Storage()
    gateway: Gateway = Gateway()
    load_balancer: LoadBalancer = LoadBalancer()
    workloads: list[Workload] = []
    artifacts: Artifacts = Artifacts()
    lab: LabSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_lab_network_name(cls, data: Any) -> Any:
        lab = data.get("lab") if isinstance(data, dict) else None
        # .get: a missing name is reported as required, not raised here.
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(lab, dict) and not lab.get("networkName") and isinstance(name, str):
            data = {**data, "lab": {**lab, "networkName": f"groundwork-{name}"}}
        return data

    def nodes_with(self, role: Role) -> list[Node]:
        return [n for n in self.nodes if n.has(role)]

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

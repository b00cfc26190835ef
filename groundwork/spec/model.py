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

from collections.abc import Mapping
from enum import StrEnum
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Annotated, Any, Literal, TypeVar

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
    WithJsonSchema,
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
# A network address of either family, "/" and a prefix length (or a netmask,
# which ip_network takes too): the shape the schema gives editors; the
# model's own parser is the judge (_parse_network).
CIDR_PATTERN = r"^[0-9A-Fa-f:.]+/[0-9.]+$"

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
    CIDR_PATTERN: "a CIDR: a network address, '/' and a prefix length (e.g. 10.244.0.0/16)",
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


# What the schema says of them: the parsers above leave it no type of its own.
ADDRESS_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]
}
CIDR_SCHEMA: dict[str, Any] = {"type": "string", "pattern": CIDR_PATTERN}
CIDRS_SCHEMA: dict[str, Any] = {
    "anyOf": [CIDR_SCHEMA, {"type": "array", "items": CIDR_SCHEMA, "minItems": 1, "maxItems": 2}]
}

# An address or network of either family parses (one clear error if not);
# `rules.py` rejects IPv6 for now, so dual-stack needs no new shape.
Address = Annotated[
    IPv4Address | IPv6Address,
    PlainValidator(_parse_address),
    PlainSerializer(str),
    WithJsonSchema(ADDRESS_SCHEMA),
]
Network = Annotated[
    IPv4Network | IPv6Network,
    PlainValidator(_parse_network),
    PlainSerializer(str),
    WithJsonSchema(CIDR_SCHEMA),
]
Networks = Annotated[
    tuple[IPv4Network | IPv6Network, ...],
    PlainValidator(_parse_networks),
    PlainSerializer(_networks_to_config),
    WithJsonSchema(CIDRS_SCHEMA),
]


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must never pass silently)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


ChosenEnum = TypeVar("ChosenEnum", bound=StrEnum)


def choose(kind: type[ChosenEnum], value: Any, refused: Mapping[str, str], noun: str) -> ChosenEnum:
    """A field's enum member from its value, before pydantic's enum check: a
    refused value gets its reason, an unknown one the choices."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and value in refused:
        raise ValueError(refused[value])
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ValueError(f"unknown {noun} {value!r}; choose one of {choices}") from None


class Role(StrEnum):
    """What a node runs."""

    CONTROL_PLANE = "control-plane"
    ETCD = "etcd"
    WORKER = "worker"


class Ssh(Strict):
    """How Groundwork logs in to a node over SSH (its host key is always checked)."""

    user: str = Field(
        default="root",
        description="The user Groundwork logs in as. Any other user than root must be "
        "able to use sudo without a password: every step needs root.",
    )
    port: int = Field(default=22, ge=1, le=65535, description="The port of the node's SSH server.")
    key: str | None = Field(
        default=None,
        description="The private key to log in with: a file path (~ is expanded), or lab "
        "for the lab's generated key. A reference, never the key itself: private keys "
        "never live in a stack file. Omitted: ssh's default keys and agent.",
    )


class Taint(Strict):
    """A taint the node is registered with: pods that do not tolerate it keep off."""

    key: str = Field(description="The taint's key (e.g. dedicated).")
    value: str = Field(default="", description="The taint's value; empty by default.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        description="What it does to a pod without a matching toleration: NoSchedule "
        "keeps new pods off the node, PreferNoSchedule keeps them off when there is room "
        "elsewhere, NoExecute also evicts running ones."
    )


class Node(Strict):
    """One machine of the cluster, how Groundwork reaches it, and what it runs."""

    name: Name = Field(
        description="The node's name: its hostname, its Kubernetes node name and its "
        "etcd member name. Unique in the cluster."
    )
    address: Address = Field(
        description="The address Groundwork reaches the node at and the cluster uses for "
        "it; the node must hold it. IPv4 (IPv6 is not supported yet), unique, inside the "
        "node network and outside the pod and service CIDRs."
    )
    roles: list[Role] = Field(
        min_length=1,
        description="What the node runs, each role once: control-plane (kube-apiserver, "
        "controller-manager, scheduler), etcd (an etcd member) and worker (workloads). A "
        "node with control-plane or worker gets a kubelet.",
    )
    ssh: Ssh = Field(default=Ssh(), description="How Groundwork logs in to the node.")
    labels: dict[str, str] = Field(
        default={},
        description="Labels the kubelet registers the node with. Keys under kubernetes.io "
        "or k8s.io are refused, but for those a kubelet may set (NodeRestriction): use a "
        "prefix of your own, e.g. example.com/role.",
    )
    taints: list[Taint] = Field(
        default=[], description="Taints the kubelet registers the node with."
    )

    def has(self, role: Role) -> bool:
        return role in self.roles


class EtcdTopology(StrEnum):
    """Where the etcd members run."""

    STACKED = "stacked"  # etcd members on the control-plane nodes
    EXTERNAL = "external"  # dedicated nodes holding only the etcd role


class EtcdSnapshots(Strict):
    """Snapshots each member takes of itself on a schedule, kept on its disk."""

    schedule: str = Field(
        pattern=CALENDAR_PATTERN,
        description="When each member takes a snapshot (systemd's OnCalendar); "
        "systemd-analyze checks it on each member before the timer is written.",
    )
    keep: int = Field(
        default=7,
        ge=1,
        le=1000,
        description="How many scheduled snapshots each member keeps "
        "(/var/lib/etcd-snapshots); the oldest are removed.",
    )


class Etcd(Strict):
    """The etcd cluster that holds Kubernetes' state: its members are the nodes with
    the etcd role."""

    topology: EtcdTopology = Field(
        default=EtcdTopology.STACKED,
        description="Where the members run: stacked, on control-plane nodes (a node with "
        "etcd must also have control-plane), or external, on dedicated nodes that have the "
        "etcd role only.",
    )
    version: Version = Field(
        default=versions.DEFAULT_ETCD,
        description="The etcd release the members run; older than "
        f"{versions.MINIMUM_EXTERNAL_ETCD} is refused.",
    )
    snapshots: EtcdSnapshots | None = Field(
        default=None,
        description="Snapshots each member takes of itself on a schedule. Omitted: none "
        "(groundwork etcd snapshot takes one on demand).",
    )


class VipEndpoint(Strict):
    """A virtual IP in front of the apiservers: keepalived holds it on one
    control-plane node, and haproxy on each forwards to every kube-apiserver."""

    vip: Address = Field(
        description="The virtual IP clients reach the API at: IPv4, unused, inside the "
        "nodes' network (network.nodeCidr, or the lab subnet) and outside the pod and "
        "service CIDRs."
    )
    port: int = Field(
        default=6443,
        ge=1,
        le=65535,
        description="The port clients connect to; haproxy listens on it on every "
        "control-plane node, so kube-apiserver listens on 6444 there (6443 if this is 6444).",
    )
    virtual_router_id: int = Field(
        default=51,
        ge=1,
        le=255,
        description="The VRRP router id of keepalived; it must be unique on the nodes' L2 "
        "segment, so change it when another VRRP group there uses it.",
    )


class LoadBalancerEndpoint(Strict):
    """An external load balancer the user runs in front of the apiservers."""

    load_balancer: Address = Field(
        description="The load balancer's address; it forwards the port to the same port "
        "on every control-plane node."
    )
    port: int = Field(
        default=6443,
        ge=1,
        le=65535,
        description="The port clients connect to; kube-apiserver listens on the same port "
        "on each control-plane node.",
    )


class DnsEndpoint(Strict):
    """A DNS name resolving to the apiservers (round robin or external LB)."""

    dns: Annotated[str, StringConstraints(pattern=DNS_NAME_PATTERN)] = Field(
        description="The name clients reach the API at; it must resolve to the "
        "control-plane nodes, or to a load balancer in front of them."
    )
    port: int = Field(
        default=6443,
        ge=1,
        le=65535,
        description="The port clients connect to; kube-apiserver listens on the same port "
        "on each control-plane node.",
    )


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
    """Where kubelets, kubectl and pods reach the Kubernetes API."""

    endpoint: Endpoint = Field(
        description="The API endpoint, exactly one of: vip (a virtual IP the "
        "control-plane nodes hold), loadBalancer (a load balancer of your own) or dns (a "
        "name resolving to the control-plane nodes)."
    )


class KubeProxyMode(StrEnum):
    """How kube-proxy implements Services."""

    IPTABLES = "iptables"
    NFTABLES = "nftables"
    IPVS = "ipvs"  # deprecated upstream; warned at validation
    NONE = "none"  # the CNI replaces kube-proxy (cilium)


class Kubernetes(Strict):
    """The Kubernetes release and the settings of its components."""

    version: Version = Field(
        default=versions.DEFAULT_KUBERNETES,
        description="The Kubernetes release installed; its minor version must be one of "
        f"{', '.join(versions.KUBERNETES_MINORS)}, and a lab stack must name the one the "
        "lab builds.",
    )
    kube_proxy: KubeProxyMode = Field(
        default=KubeProxyMode.NFTABLES,
        description="How kube-proxy implements Services: nftables, iptables, ipvs "
        "(deprecated upstream: a warning), or none, when the network plugin replaces "
        "kube-proxy (cilium only).",
    )
    cluster_domain: str = Field(
        default="cluster.local",
        description="The DNS domain of the cluster's Services and pods "
        "(name.namespace.svc.<domain>), served by CoreDNS.",
    )


class Plugin(StrEnum):
    """The CNI plugin that gives pods their network."""

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
    # Pods on the nodes' own network (an underlay): macvlan devices on the
    # node's interface, each node's pods in a range of that network.
    MACVLAN = "macvlan"


# Which backends each plugin offers. The first is the plugin's default.
PLUGIN_BACKENDS: dict[Plugin, tuple[Backend, ...]] = {
    Plugin.BRIDGE: (Backend.STATIC_ROUTES, Backend.MACVLAN, Backend.BGP),
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
    (Plugin.BRIDGE, Backend.MACVLAN): 0,
    (Plugin.BRIDGE, Backend.BGP): 0,
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
    """A router outside the cluster the nodes exchange routes with."""

    address: Address = Field(description="The router's address.")
    asn: int = Field(ge=1, le=4294967295, description="The router's AS number.")


class Bgp(Strict):
    """BGP peering for routed backends (calico bgp, kube-router bgp)."""

    asn: int = Field(
        default=64512,
        ge=1,
        le=4294967295,
        description="The cluster's own AS number (64512, the default, is a private one).",
    )
    peers: list[BgpPeer] = Field(default=[], description="The routers the nodes peer with.")


def _offered_backends() -> str:
    return "; ".join(
        f"{plugin.value}: {', '.join(b.value for b in backends)}"
        for plugin, backends in PLUGIN_BACKENDS.items()
    )


class NetworkSpec(Strict):
    """The pod network: its plugin, how the plugin carries traffic, and the address
    ranges of pods, Services and nodes."""

    plugin: Plugin = Field(
        default=Plugin.BRIDGE,
        description="The CNI plugin. bridge is the CNI reference plugins configured by "
        "Groundwork on each node (no daemon): its static-routes backend gives each node a "
        "Linux bridge and routes between the nodes, its bgp backend the same bridge with "
        "the routes learned over BGP (BIRD on each node, a full mesh, and network.bgp's "
        "peers), its macvlan backend puts pods on the nodes' own network (podCidr inside "
        "it). Only bridge and flannel have carried packets "
        "on Groundwork's lab; the others get a warning. "
        f"{' and '.join(REJECTED_PLUGINS)} are refused, with the reason.",
    )
    backend: Backend | None = Field(
        default=None,
        description="How the plugin carries pod traffic between nodes, one of those it "
        f"offers ({_offered_backends()}). Omitted: the first it offers.",
    )
    pod_cidr: Networks = Field(
        default=(IPv4Network("10.244.0.0/16"),),
        description="The range pod addresses come from: each node with a kubelet gets a "
        "subnet of it (nodeSubnetSize). One IPv4 CIDR, apart from the Service and node "
        "ranges; the list form, one CIDR per address family, is kept for dual-stack, which "
        "is not supported yet.",
    )
    service_cidr: Networks = Field(
        default=(IPv4Network("10.96.0.0/12"),),
        description="The range Services' cluster IPs come from (the tenth address is "
        "CoreDNS's). One IPv4 CIDR, apart from the pod and node ranges; the list form is "
        "kept for dual-stack.",
    )
    node_subnet_size: int = Field(
        default=24,
        ge=8,
        le=30,
        description="The prefix length of each node's pod subnet, taken from podCidr: /24 "
        "gives 254 pods per node. Which subnet a node gets follows from the last bits of "
        "its address.",
    )
    node_mtu: int = Field(
        default=1500,
        ge=576,
        le=9216,
        description="The MTU of the nodes' network, in bytes. Pods get it less what the "
        f"backend's encapsulation takes (50 for VXLAN), at least {MINIMUM_POD_MTU}.",
    )
    node_cidr: Network | None = Field(
        default=None,
        description="The network the node addresses are on: every node address and a VIP "
        "must be inside it. Required with a VIP endpoint; omitted in a lab stack, the lab "
        "subnet is used.",
    )
    bgp: Bgp | None = Field(
        default=None,
        description="BGP settings, for the backends that route with BGP (calico bgp and "
        "the cross-subnet modes, kube-router bgp, cilium) and MetalLB's bgp mode; refused "
        "with a backend that does not use BGP.",
    )

    # Before pydantic's enum check, so that a refused plugin gets its reason,
    # an unknown one the choices, and a backend is judged against what its
    # plugin offers, in Groundwork's words rather than an enum error.
    @field_validator("plugin", mode="before")
    @classmethod
    def _known_plugin(cls, value: Any) -> Plugin:
        return choose(Plugin, value, REJECTED_PLUGINS, "plugin")

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
    """What provides a storage class's volumes."""

    LOCAL_PATH = "local-path"
    NFS = "nfs"
    LOCAL_STATIC = "local-static"


# Drivers users ask for that Groundwork cannot install yet, and why.
UNAVAILABLE_STORAGE_DRIVERS: dict[str, str] = {
    "csi-hostpath": "csi-driver-host-path cannot be built here yet: the Go module proxy "
    "Groundwork builds from serves no version of github.com/kubernetes-csi/"
    "csi-driver-host-path, node-driver-registrar/v2 or livenessprobe/v2 (its sidecars "
    "external-provisioner, -attacher, -resizer and -snapshotter are served); use "
    "local-path, which has no expansion or snapshots",
}


class NfsParameters(Strict):
    """The NFS export the nfs driver makes its volumes in."""

    server: str = Field(description="The NFS server's host name or address.")
    share: str = Field(
        pattern=ABSOLUTE_PATH_PATTERN,
        description="The exported directory on the server; each volume is a directory under it.",
    )


class LocalVolume(Strict):
    """A pre-made directory or disk on one node, offered as a static PV."""

    node: Name = Field(description="The node the volume is on, one of the declared nodes.")
    path: str = Field(
        pattern=ABSOLUTE_PATH_PATTERN,
        description="The directory or mounted disk on that node, made beforehand.",
    )
    capacity: str = Field(
        pattern=CAPACITY_PATTERN,
        description="The size the PersistentVolume offers to claims.",
    )


class StorageClass(Strict):
    """A StorageClass, and the driver that provides its volumes."""

    name: Name = Field(
        description="The StorageClass's name, unique among the classes; workloads name it "
        "in storage.class."
    )
    driver: StorageDriver = Field(
        description="What provides the volumes: local-path (a directory made on the "
        "pod's node when claimed), nfs (a directory on an NFS export, csi-driver-nfs) or "
        "local-static (the volumes declared here, one PersistentVolume each)."
    )
    default: bool = Field(
        default=False,
        description="Whether claims that name no class get this one; exactly one class "
        "is the default.",
    )
    reclaim_policy: Literal["Delete", "Retain"] = Field(
        default="Delete",
        description="What becomes of a volume when its claim is deleted: Delete removes "
        "it and its data, Retain keeps it for an administrator to reclaim.",
    )
    nfs: NfsParameters | None = Field(
        default=None,
        description="The NFS export; required with the nfs driver, refused with the others.",
    )
    local_path: str = Field(
        default="/var/lib/groundwork/local-path",
        description="The directory on each node local-path volumes are made in; local-path only.",
    )
    volumes: list[LocalVolume] = Field(
        default=[],
        description="The volumes offered; at least one with local-static, refused with the others.",
    )

    # Before the enum check: a driver that cannot be installed gets its
    # reason, an unknown one the choices.
    @field_validator("driver", mode="before")
    @classmethod
    def _known_driver(cls, value: Any) -> StorageDriver:
        return choose(StorageDriver, value, UNAVAILABLE_STORAGE_DRIVERS, "driver")


class Storage(Strict):
    """The cluster's StorageClasses."""

    classes: list[StorageClass] = Field(
        default=[],
        description="The StorageClasses; when there are any, exactly one is the default. "
        "None: the cluster has no StorageClass.",
    )


class GatewayController(StrEnum):
    """The Gateway API controllers Groundwork installs."""

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
    """How HTTP gets into the cluster: a Gateway API controller and the Gateway
    `groundwork`, which the exposed workloads' routes attach to."""

    controller: str = Field(
        default=GatewayController.NONE.value,
        description="The Gateway API controller installed: "
        f"{', '.join(c.value for c in GatewayController)}. ingress-nginx is refused "
        "(retired upstream). Exposed workloads need one.",
    )
    ingress_class: str | None = Field(
        default=None,
        description="An Ingress class served by the same controller, for workloads that "
        "still use Ingress objects (traefik only); exposed workloads then get an Ingress "
        "of this class instead of an HTTPRoute.",
    )


class MetalLbPool(Strict):
    """A set of addresses MetalLB gives to Services of type LoadBalancer."""

    name: Name = Field(description="The pool's name (its IPAddressPool's).")
    addresses: list[str] = Field(
        min_length=1,
        description="CIDRs (a.b.c.d/len) or ranges a.b.c.d-a.b.c.e, outside the pod and "
        "service CIDRs.",
    )


class LoadBalancer(Strict):
    """What gives Services of type LoadBalancer their addresses, on machines without
    a cloud."""

    provider: Literal["metallb", "kube-vip", "none"] = Field(
        default="none",
        description="MetalLB, kube-vip (ARP, one leader per Service), or none: no Service "
        "gets an external address.",
    )
    mode: Literal["l2", "bgp"] = Field(
        default="l2",
        description="How MetalLB announces the addresses: l2 (ARP on the nodes' network) "
        "or bgp (to network.bgp's peers, which it then needs).",
    )
    pools: list[MetalLbPool] = Field(
        default=[],
        description="The addresses MetalLB hands out; at least one with metallb, refused "
        "with the other providers.",
    )


class Port(Strict):
    """A port the workload's container listens on."""

    name: Name = Field(description="The port's name; expose.port refers to it.")
    port: int = Field(
        ge=1, le=65535, description="The port number, in the container and on its Services."
    )
    protocol: Literal["TCP", "UDP"] = Field(default="TCP", description="The port's protocol.")


class WorkloadStorage(Strict):
    """A persistent volume for each pod of the workload (a volumeClaimTemplate)."""

    size: str = Field(pattern=SIZE_PATTERN, description="The size of each pod's volume.")
    storage_class: Name = Field(
        alias="class",
        description="The StorageClass the volumes come from, one of storage.classes.",
    )
    mount_path: str = Field(
        default="/data",
        pattern=ABSOLUTE_PATH_PATTERN,
        description="Where the volume is mounted in the container.",
    )


class Exposure(Strict):
    """HTTP from outside the cluster to one port of the workload, through the
    gateway: an HTTPRoute, or an Ingress when gateway.ingressClass is set."""

    hostname: str = Field(description="The host name the requests are routed by.")
    path: str = Field(
        default="/",
        pattern=ABSOLUTE_PATH_PATTERN,
        description="The path prefix routed to the workload.",
    )
    port: Name = Field(description="The name of the workload's port the requests go to.")


class RollingUpdate(Strict):
    """How a changed workload replaces its pods: one at a time, highest ordinal
    first, each Ready before the next (StatefulSet RollingUpdate)."""

    partition: int = Field(
        default=0,
        ge=0,
        description="Only pods whose ordinal is at least this are updated; those below "
        "keep their revision until it is lowered (a canary: partition replicas-1 "
        "updates the last pod only). 0: every pod.",
    )


class Workload(Strict):
    """An application deployed with the cluster: a StatefulSet, its headless
    Service, and a PodDisruptionBudget when it has more than one replica."""

    kind: Literal["StatefulSet"] = Field(
        default="StatefulSet", description="The kind of workload; StatefulSet only, so far."
    )
    name: Name = Field(
        description="The workload's name, unique in its namespace; its StatefulSet and "
        "Services are named after it."
    )
    namespace: Name = Field(
        default="default",
        description="The namespace it runs in, made by Groundwork if it is not default.",
    )
    image: str = Field(
        min_length=1, description="The container image (e.g. registry.example/app:1.2)."
    )
    args: list[str] = Field(
        default=[], description="The container's arguments; its image's entrypoint stays."
    )
    replicas: int = Field(default=1, ge=0, description="How many pods run.")
    pod_management_policy: Literal["OrderedReady", "Parallel"] = Field(
        default="OrderedReady",
        description="OrderedReady: pods start one at a time in ordinal order, each Ready "
        "before the next, and stop in reverse order; Parallel: all at once (the pods "
        "do not depend on each other).",
    )
    rolling_update: RollingUpdate = Field(
        default=RollingUpdate(),
        description="How a change to the workload reaches its pods; a partition holds "
        "the pods below it at their revision.",
    )
    ports: list[Port] = Field(default=[], description="The ports the container listens on, named.")
    storage: WorkloadStorage | None = Field(
        default=None, description="A persistent volume for each pod. Omitted: none."
    )
    expose: Exposure | None = Field(
        default=None,
        description="Route HTTP from outside the cluster to one of the ports; needs "
        "gateway.controller. Omitted: reachable inside the cluster only.",
    )


class IpBlock(Strict):
    """Addresses outside the cluster a policy lets in or out."""

    cidr: Network = Field(description="The range (e.g. 192.0.2.0/24).")
    except_: list[Network] = Field(
        default=[], alias="except", description="Ranges within cidr that stay excluded."
    )


class PolicyPeer(Strict):
    """Who a policy rule lets through: pods (by their labels, in namespaces
    chosen by theirs), or an address range."""

    pod_selector: dict[str, str] | None = Field(
        default=None, description="Pods with these labels ({}: every pod)."
    )
    namespace_selector: dict[str, str] | None = Field(
        default=None,
        description="In namespaces with these labels ({}: every namespace). Omitted: the "
        "policy's own namespace.",
    )
    ip_block: IpBlock | None = Field(
        default=None, description="An address range; not with the selectors."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> PolicyPeer:
        selectors = self.pod_selector is not None or self.namespace_selector is not None
        if self.ip_block is not None and selectors:
            raise ValueError("a peer is either an ipBlock or selectors, not both")
        if self.ip_block is None and not selectors:
            raise ValueError("a peer needs podSelector, namespaceSelector or ipBlock")
        return self


class PolicyPort(Strict):
    protocol: Literal["TCP", "UDP", "SCTP"] = Field(default="TCP", description="The protocol.")
    port: int | Name | None = Field(
        default=None, description="A port number or a named port. Omitted: every port."
    )


class IngressRule(Strict):
    from_: list[PolicyPeer] = Field(
        default=[], alias="from", description="Who may connect. Empty: anyone."
    )
    ports: list[PolicyPort] = Field(default=[], description="To which ports. Empty: any.")


class EgressRule(Strict):
    to: list[PolicyPeer] = Field(default=[], description="Where to. Empty: anywhere.")
    ports: list[PolicyPort] = Field(default=[], description="To which ports. Empty: any.")


class NetworkPolicy(Strict):
    """A Kubernetes NetworkPolicy the cluster gets with its workloads. Only
    plugins that enforce policies filter by it (validate warns otherwise)."""

    name: Name = Field(description="The policy's name, unique in its namespace.")
    namespace: Name = Field(
        default="default",
        description="The namespace of the pods it selects, made by Groundwork if needed.",
    )
    pod_selector: dict[str, str] = Field(
        default={}, description="The pods it applies to, by their labels ({}: every pod)."
    )
    ingress: list[IngressRule] | None = Field(
        default=None,
        description="What may reach the selected pods; [] lets nothing in. Omitted: "
        "incoming traffic is not restricted by this policy.",
    )
    egress: list[EgressRule] | None = Field(
        default=None,
        description="Where the selected pods may connect; [] lets nothing out. Omitted: "
        "outgoing traffic is not restricted by this policy.",
    )

    @model_validator(mode="after")
    def _restricts_something(self) -> NetworkPolicy:
        if self.ingress is None and self.egress is None:
            raise ValueError("give ingress, egress or both ([] denies all of that direction)")
        return self


class ContainerRuntime(Strict):
    """The container runtime, containerd, on every node with a kubelet."""

    version: Version = Field(
        default=versions.DEFAULT_CONTAINERD,
        description="The containerd release installed; 2.0 or newer (1.x is refused).",
    )
    cgroup_driver: Literal["systemd", "cgroupfs"] = Field(
        default="systemd",
        description="How containerd and the kubelet manage cgroups: systemd, as on any "
        "systemd host, or cgroupfs.",
    )
    sandbox_image: str = Field(
        default="registry.k8s.io/pause:3.10",
        description="The pause image that holds each pod's namespaces.",
    )
    registry_mirrors: dict[str, str] = Field(
        default={},
        description="Mirrors containerd pulls through: a registry's host name (e.g. "
        "docker.io) to the URL of a mirror that serves its images. Images keep their "
        "upstream names.",
    )


class Artifacts(Strict):
    """Where binaries and packages come from: upstream, or an offline mirror."""

    source: Literal["upstream", "mirror"] = Field(
        default="upstream",
        description="Where release files and packages come from: upstream, each release "
        "file downloaded by the nodes and checked against the sha256 pinned in "
        "groundwork/versions.py (a version with no pin is refused), or mirror, everything "
        "from the mirror.",
    )
    mirror: str | None = Field(
        default=None,
        pattern=URL_PATTERN,
        description="The mirror's URL, as groundwork build --mirror-url lays it out; "
        "required with source: mirror, refused with upstream. A lab's is "
        "http://<lab gateway>:<mirrorPort>.",
    )


# Where lab machines keep their disks (cluster.lab.storage).
LabStorageKind = Literal["memory", "disk"]


class LabSpec(Strict):
    """Present only in the lab stack: the machines are created on this host."""

    subnet: Network = Field(
        description="The lab network, IPv4, with no route out of the host: the node "
        "addresses, the VIP and the gateway are inside it."
    )
    gateway: Address = Field(
        description="The host's address on the lab network, inside subnet, where the "
        "lab's mirror and registry listen."
    )
    # Filled in by ClusterSpec._default_lab_network_name when empty.
    network_name: Name = Field(
        default="",
        description="The name of the lab's podman network; empty or omitted: "
        "groundwork-<cluster name>.",
    )
    mirror_port: int = Field(
        default=8080,
        ge=1,
        le=65535,
        description="The port of the lab's artifact mirror on the gateway.",
    )
    registry_port: int = Field(
        default=5000,
        ge=1,
        le=65535,
        description="The port of the lab's OCI registry, which serves the images, on the gateway.",
    )
    # How each kind is set up: groundwork/lab/storage.py.
    storage: LabStorageKind = Field(
        default="memory",
        description="Where the machines' disks live: memory, a tmpfs of the lab's own "
        "(fast, gone at a reboot), or disk, podman's storage.",
    )


class ClusterSpec(Strict):
    """One Kubernetes cluster: its machines, how they are reached, and what runs on
    them."""

    name: Name = Field(
        description="The cluster's name, in its kubeconfig and its Pulumi resources "
        "(and, in a lab, its network's default name)."
    )
    kubernetes: Kubernetes = Field(
        default=Kubernetes(), description="The Kubernetes release and its settings."
    )
    nodes: list[Node] = Field(
        min_length=1,
        description="The machines: control-plane on one or more nodes (three for "
        "availability), etcd on an odd number of them (1, 3 or 5).",
    )
    etcd: Etcd = Field(
        default=Etcd(), description="Where the etcd members run, their version, snapshots."
    )
    control_plane: ControlPlane = Field(description="Where the Kubernetes API is reached.")
    network: NetworkSpec = Field(
        default=NetworkSpec(),
        description="The pod network: plugin, backend, and the pod, Service and node ranges.",
    )
    container_runtime: ContainerRuntime = Field(
        default=ContainerRuntime(), description="The container runtime's version and settings."
    )
    storage: Storage = Field(
        default=Storage(), description="The StorageClasses the cluster offers."
    )
    gateway: Gateway = Field(
        default=Gateway(),
        description="The Gateway API controller HTTP enters by. Omitted: none.",
    )
    load_balancer: LoadBalancer = Field(
        default=LoadBalancer(),
        description="What gives Services of type LoadBalancer their addresses. Omitted: nothing.",
    )
    workloads: list[Workload] = Field(
        default=[], description="Applications deployed with the cluster."
    )
    network_policies: list[NetworkPolicy] = Field(
        default=[],
        description="NetworkPolicies the cluster gets with its workloads; enforced only by "
        "a plugin that enforces them (calico, cilium, kube-router).",
    )
    artifacts: Artifacts = Field(
        default=Artifacts(), description="Where binaries and packages come from."
    )
    lab: LabSpec | None = Field(
        default=None,
        description="The lab: machines Groundwork creates on this host. Only in a lab stack.",
    )

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

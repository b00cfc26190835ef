"""Rules that relate several fields of a cluster declaration.

Each rule is a small pure function yielding Problems; `check` runs them all
so a user sees every problem at once, each with its config path. Nothing
here contacts a host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

from groundwork import versions
from groundwork.plan import ipam
from groundwork.spec.model import (
    ENCAPSULATION_OVERHEAD,
    MINIMUM_POD_MTU,
    REJECTED_INGRESS,
    Backend,
    ClusterSpec,
    EtcdTopology,
    GatewayController,
    KubeProxyMode,
    Plugin,
    Role,
    StorageDriver,
    VipEndpoint,
)
from groundwork.spec.problems import Problem, path_of

Rule = Callable[[ClusterSpec], Iterator[Problem]]


def _node(i: int, *field: str) -> str:
    """cluster.nodes[i].<field>"""
    return path_of(("nodes", i, *field))


def _net(field: str) -> str:
    """cluster.network.<field>"""
    return path_of(("network", field))


NODES = path_of(("nodes",))
VIP = path_of(("controlPlane", "endpoint", "vip"))
LAB_SUBNET = path_of(("lab", "subnet"))
MIRROR = path_of(("artifacts", "mirror"))
ETCD_VERSION = path_of(("etcd", "version"))
CONTAINERD_VERSION = path_of(("containerRuntime", "version"))
KUBE_PROXY = path_of(("kubernetes", "kubeProxy"))


def _v(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.removeprefix("v").split("."))


def node_cidr(spec: ClusterSpec) -> IPv4Network | IPv6Network | None:
    """The network of the node addresses: declared, or the lab's subnet."""
    if spec.network.node_cidr is not None:
        return spec.network.node_cidr
    return spec.lab.subnet if spec.lab is not None else None


def ipv4_only(spec: ClusterSpec) -> Iterator[Problem]:
    msg = "IPv6 is not supported yet (dual-stack is planned); use IPv4"
    for i, node in enumerate(spec.nodes):
        if isinstance(node.address, IPv6Address):
            yield Problem(_node(i, "address"), msg)
    for field, nets in (
        ("podCidr", spec.network.pod_cidr),
        ("serviceCidr", spec.network.service_cidr),
    ):
        if any(isinstance(n, IPv6Network) for n in nets) or len(nets) != 1:
            yield Problem(_net(field), msg + " (a single IPv4 CIDR)")
    endpoint = spec.control_plane.endpoint
    if isinstance(endpoint, VipEndpoint) and isinstance(endpoint.vip, IPv6Address):
        yield Problem(VIP, msg)


def nodes_unique(spec: ClusterSpec) -> Iterator[Problem]:
    seen_names: dict[str, int] = {}
    seen_addresses: dict[str, int] = {}
    for i, node in enumerate(spec.nodes):
        if node.name in seen_names:
            j = seen_names[node.name]
            yield Problem(_node(i, "name"), f"duplicate of {_node(j, 'name')} ({node.name})")
        seen_names.setdefault(node.name, i)
        addr = str(node.address)
        if addr in seen_addresses:
            j = seen_addresses[addr]
            yield Problem(_node(i, "address"), f"{addr} is already {_node(j, 'address')}")
        seen_addresses.setdefault(addr, i)
        if len(set(node.roles)) != len(node.roles):
            yield Problem(_node(i, "roles"), "a role is listed twice")


# Labels in the kubernetes.io / k8s.io namespaces a kubelet may set on its own
# Node (NodeRestriction admission); any other such label makes the kubelet
# refuse to start, so it is rejected here instead of on the node.
_KUBELET_ALLOWED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
    }
)
_KUBELET_ALLOWED_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")


def node_labels(spec: ClusterSpec) -> Iterator[Problem]:
    for i, node in enumerate(spec.nodes):
        for key in node.labels:
            prefix = key.split("/", 1)[0] if "/" in key else ""
            restricted = prefix.endswith(("kubernetes.io", "k8s.io"))
            allowed = key in _KUBELET_ALLOWED_LABELS or key.startswith(_KUBELET_ALLOWED_PREFIXES)
            if restricted and not allowed:
                yield Problem(
                    _node(i, "labels"),
                    f"{key!r}: a kubelet may not set labels in the {prefix} namespace "
                    "(NodeRestriction); use your own prefix, e.g. example.com/role",
                )


def control_plane_present(spec: ClusterSpec) -> Iterator[Problem]:
    if not spec.nodes_with(Role.CONTROL_PLANE):
        yield Problem(NODES, "no node has the control-plane role; give it to 1 or 3 nodes")


def etcd_quorum(spec: ClusterSpec) -> Iterator[Problem]:
    members = spec.nodes_with(Role.ETCD)
    names = ", ".join(n.name for n in members)
    if not members:
        yield Problem(NODES, "no node has the etcd role; give it to 1, 3 or 5 nodes")
    elif len(members) % 2 == 0:
        yield Problem(
            path_of(("etcd",)),
            f"{len(members)} etcd members ({names}) tolerate no more failures than "
            f"{len(members) - 1}; use an odd number of nodes with the etcd role",
        )
    topology = spec.etcd.topology
    for i, node in enumerate(spec.nodes):
        stacked = node.has(Role.ETCD) and not node.has(Role.CONTROL_PLANE)
        if topology is EtcdTopology.STACKED and stacked:
            yield Problem(
                _node(i, "roles"),
                f"{node.name} has etcd without control-plane, but cluster.etcd.topology is "
                "stacked; add control-plane or set topology: external",
            )
        if topology is EtcdTopology.EXTERNAL and node.has(Role.ETCD) and len(node.roles) > 1:
            yield Problem(
                _node(i, "roles"),
                f"{node.name} mixes etcd with other roles, but cluster.etcd.topology is "
                "external (dedicated etcd nodes)",
            )


def kubernetes_version(spec: ClusterSpec) -> Iterator[Problem]:
    minor = versions.kubernetes_minor(spec.kubernetes.version.removeprefix("v"))
    if minor not in versions.KUBERNETES_MINORS:
        window = f"{versions.KUBERNETES_MINORS[0]}-{versions.KUBERNETES_MINORS[-1]}"
        yield Problem(
            path_of(("kubernetes", "version")),
            f"{spec.kubernetes.version} is outside the supported window {window}",
        )


def _etcd_too_old(version: str) -> bool:
    return _v(version) < _v(versions.MINIMUM_EXTERNAL_ETCD)


def _containerd_too_old(version: str) -> bool:
    return _v(version) < (2, 0)


def component_versions(spec: ClusterSpec) -> Iterator[Problem]:
    """etcd older than Kubernetes supports, and containerd 1.x, are refused."""
    etcd = spec.etcd.version
    if _etcd_too_old(etcd):
        yield Problem(
            ETCD_VERSION,
            f"etcd {etcd} is older than {versions.MINIMUM_EXTERNAL_ETCD}, the minimum "
            "Kubernetes supports; use 3.6.x",
        )
    containerd = spec.container_runtime.version
    if _containerd_too_old(containerd):
        yield Problem(
            CONTAINERD_VERSION,
            f"containerd {containerd} is 1.x: Kubernetes 1.36 needs containerd 2.0 or newer, "
            "and Groundwork configures 2.x only; use 2.2 or newer",
        )


def lab_builds(spec: ClusterSpec) -> Iterator[Problem]:
    """A lab serves what it builds (components/*/go.mod): the stack must name
    those versions, or its `up` would find nothing to install."""
    if spec.lab is None:
        return
    from groundwork.build.recipes import (
        BY_COMPONENT,
        RecipeError,
        kubernetes_versions,
        pinned_version,
    )

    try:
        releases = kubernetes_versions()
    except RecipeError as err:
        yield Problem(path_of(("kubernetes", "version")), f"the lab cannot build it: {err}")
    else:
        kubernetes = spec.kubernetes.version.removeprefix("v")
        if kubernetes not in releases:
            built = " or ".join(sorted(releases))
            yield Problem(
                path_of(("kubernetes", "version")),
                f"{spec.kubernetes.version} is not what the lab builds: {built} "
                "(components/kubernetes*/go.mod); declare one of them, or bump the pin there",
            )
    declared = (
        (ETCD_VERSION, "etcd", spec.etcd.version),
        (CONTAINERD_VERSION, "containerd", spec.container_runtime.version),
    )
    for path, component, version in declared:
        try:
            built = pinned_version(BY_COMPONENT[component]).removeprefix("v")
        except RecipeError as err:
            yield Problem(path, f"the lab cannot build it: {err}")
            continue
        if version.removeprefix("v") != built:
            yield Problem(
                path,
                f"{version} is not what the lab builds: {built} "
                f"(components/{component}/go.mod); declare {built}, or bump the pin there",
            )


def network_plugin(spec: ClusterSpec) -> Iterator[Problem]:
    """What the plugin and backend (valid on their own, see the model) mean for the rest."""
    net = spec.network
    plugin, backend = net.plugin, net.resolved_backend()
    if spec.kubernetes.kube_proxy is KubeProxyMode.NONE and plugin is not Plugin.CILIUM:
        yield Problem(
            KUBE_PROXY,
            f"none needs a CNI that replaces kube-proxy (cilium); {plugin.value} does not",
        )
    cross_subnet = backend in {Backend.IPIP_CROSS_SUBNET, Backend.VXLAN_CROSS_SUBNET}
    needs_bgp = backend is Backend.BGP or (plugin is Plugin.CALICO and cross_subnet)
    if net.bgp is not None and not needs_bgp and plugin is not Plugin.CILIUM:
        yield Problem(_net("bgp"), f"{plugin.value} {backend} does not use BGP; remove this block")
    pod_mtu = net.node_mtu - ENCAPSULATION_OVERHEAD[(plugin, backend)]
    if pod_mtu < MINIMUM_POD_MTU:
        yield Problem(
            _net("nodeMtu"),
            f"{net.node_mtu} leaves a pod MTU of {pod_mtu} with {plugin.value} {backend} "
            f"({net.node_mtu - pod_mtu} bytes of encapsulation); the minimum pod MTU is "
            f"{MINIMUM_POD_MTU}",
        )


def cidrs(spec: ClusterSpec) -> Iterator[Problem]:
    net = spec.network
    pod, service = net.pod_cidr[0], net.service_cidr[0]
    named: list[tuple[str, IPv4Network | IPv6Network]] = [
        (_net("podCidr"), pod),
        (_net("serviceCidr"), service),
    ]
    nodes = node_cidr(spec)
    if net.node_cidr is not None:
        named.append((_net("nodeCidr"), net.node_cidr))
    if spec.lab is not None:
        named.append((LAB_SUBNET, spec.lab.subnet))
    # An underlay's pods live inside the nodes' network (see underlay).
    underlay = net.resolved_backend() is Backend.MACVLAN
    nodes_nets = {_net("nodeCidr"), LAB_SUBNET}
    for i, (path_a, a) in enumerate(named):
        for path_b, b in named[i + 1 :]:
            pair = {path_a, path_b}
            same_nodes_net = pair == nodes_nets
            pods_on_nodes_net = underlay and _net("podCidr") in pair and bool(pair & nodes_nets)
            apart = same_nodes_net or pods_on_nodes_net
            if a.version == b.version and a.overlaps(b) and not apart:
                yield Problem(path_a, f"overlaps {path_b} {b}")
    if isinstance(pod, IPv4Network):
        if net.node_subnet_size < pod.prefixlen:
            yield Problem(
                _net("nodeSubnetSize"),
                f"/{net.node_subnet_size} per node is larger than podCidr {pod} itself",
            )
        else:
            available = 2 ** (net.node_subnet_size - pod.prefixlen)
            needed = len(pod_nodes(spec))
            if needed > available:
                yield Problem(
                    _net("podCidr"),
                    f"{pod} holds {available} node subnets of /{net.node_subnet_size} but "
                    f"{needed} nodes need one; use a larger podCidr or smaller node subnets (a larger nodeSubnetSize)",
                )
    for i, node in enumerate(spec.nodes):
        for path, cidr in named[:2]:
            if node.address.version == cidr.version and node.address in cidr:
                yield Problem(_node(i, "address"), f"{node.address} is inside {path} {cidr}")
        if (
            nodes is not None
            and node.address.version == nodes.version
            and node.address not in nodes
        ):
            where = _net("nodeCidr") if net.node_cidr is not None else LAB_SUBNET
            yield Problem(_node(i, "address"), f"{node.address} is outside {where} {nodes}")


def underlay(spec: ClusterSpec) -> Iterator[Problem]:
    """The macvlan backend puts pods on the nodes' own network: podCidr is a
    range of it, kept apart from every address the network already uses."""
    net = spec.network
    if net.resolved_backend() is not Backend.MACVLAN:
        return
    pod, nodes = net.pod_cidr[0], node_cidr(spec)
    if nodes is None:
        yield Problem(
            _net("nodeCidr"),
            "required with the macvlan backend: pods get addresses of the nodes' network, "
            "from podCidr inside it",
        )
        return
    if pod.version != nodes.version:
        return  # reported by ipv4_only
    where = _net("nodeCidr") if net.node_cidr is not None else LAB_SUBNET
    if not pod.subnet_of(nodes):  # type: ignore[arg-type]
        yield Problem(
            _net("podCidr"),
            f"{pod} is not inside {where} {nodes}: with the macvlan backend pods live on the "
            "nodes' network, so podCidr must be a range of it that no node or router uses",
        )
    if spec.lab is not None and spec.lab.gateway in pod:
        yield Problem(
            path_of(("lab", "gateway")),
            f"{spec.lab.gateway} is inside podCidr {pod}: a pod would get the lab gateway's address",
        )


def pod_nodes(spec: ClusterSpec) -> list[str]:
    """Nodes that run a kubelet and so need a pod subnet (not etcd-only nodes)."""
    return [n.name for n in spec.nodes if n.has(Role.CONTROL_PLANE) or n.has(Role.WORKER)]


def pod_subnet_collisions(spec: ClusterSpec) -> Iterator[Problem]:
    """Two kubelet nodes whose addresses map to the same pod subnet (see plan/ipam.py)."""
    net = spec.network
    pod = net.pod_cidr[0]
    if not isinstance(pod, IPv4Network) or net.node_subnet_size < pod.prefixlen:
        return  # reported by ipv4_only / cidrs
    kubelet = set(pod_nodes(spec))
    index = {n.name: i for i, n in enumerate(spec.nodes)}
    addresses = {
        n.name: n.address
        for n in spec.nodes
        if n.name in kubelet and isinstance(n.address, IPv4Address)
    }
    bits = net.node_subnet_size - pod.prefixlen
    for first, later, subnet in ipam.collisions(pod, net.node_subnet_size, addresses):
        yield Problem(
            _node(index[later], "address"),
            f"gets pod subnet {subnet}, the same as {_node(index[first])} ({first}); "
            f"a node's pod subnet comes from the last {bits} bits of its address, so give "
            "the nodes addresses that differ there, or use a larger podCidr or smaller "
            "node subnets (a larger nodeSubnetSize)",
        )


def endpoint(spec: ClusterSpec) -> Iterator[Problem]:
    ep = spec.control_plane.endpoint
    if not isinstance(ep, VipEndpoint):
        return
    path = VIP
    nodes = node_cidr(spec)
    if nodes is None:
        yield Problem(
            _net("nodeCidr"),
            "required with a VIP endpoint: the VIP must be in the control-plane nodes' subnet",
        )
    elif ep.vip.version == nodes.version and ep.vip not in nodes:
        yield Problem(path, f"{ep.vip} is outside the nodes' subnet {nodes}; VRRP cannot hold it")
    for i, node in enumerate(spec.nodes):
        if node.address == ep.vip:
            yield Problem(path, f"{ep.vip} is {_node(i, 'address')}; the VIP must be unused")
    if spec.lab is not None and ep.vip == spec.lab.gateway:
        yield Problem(path, f"{ep.vip} is the lab gateway")
    net = spec.network
    for cidr_path, cidr in (
        (_net("podCidr"), net.pod_cidr[0]),
        (_net("serviceCidr"), net.service_cidr[0]),
    ):
        if ep.vip.version == cidr.version and ep.vip in cidr:
            yield Problem(path, f"{ep.vip} is inside {cidr_path} {cidr}")


def storage(spec: ClusterSpec) -> Iterator[Problem]:
    classes = spec.storage.classes
    base = ("storage", "classes")
    defaults = [i for i, c in enumerate(classes) if c.default]
    if classes and not defaults:
        yield Problem(path_of(base), "no class is the default; set default: true on exactly one")
    for i in defaults[1:]:
        first = classes[defaults[0]].name
        yield Problem(
            path_of((*base, i, "default")),
            f"a second default class; {path_of((*base, defaults[0]))} ({first}) is already "
            "the default",
        )
    names: dict[str, int] = {}
    for i, sc in enumerate(classes):
        if sc.name in names:
            yield Problem(
                path_of((*base, i, "name")),
                f"duplicate of {path_of((*base, names[sc.name], 'name'))} ({sc.name})",
            )
        names.setdefault(sc.name, i)
        if sc.driver is StorageDriver.NFS and sc.nfs is None:
            yield Problem(path_of((*base, i, "nfs")), "the nfs driver needs nfs: {server, share}")
        if sc.driver is not StorageDriver.NFS and sc.nfs is not None:
            yield Problem(
                path_of((*base, i, "nfs")),
                f"only the nfs driver takes nfs settings, not {sc.driver.value}",
            )
        if sc.driver is StorageDriver.LOCAL_STATIC and not sc.volumes:
            yield Problem(
                path_of((*base, i, "volumes")),
                "local-static needs at least one volume (node, path, capacity)",
            )
        if sc.driver is not StorageDriver.LOCAL_STATIC and sc.volumes:
            yield Problem(
                path_of((*base, i, "volumes")),
                f"only local-static takes volumes, not {sc.driver.value}",
            )


def volume_nodes(spec: ClusterSpec) -> Iterator[Problem]:
    """Each local-static volume is on a declared node."""
    node_names = {n.name for n in spec.nodes}
    for i, sc in enumerate(spec.storage.classes):
        for j, vol in enumerate(sc.volumes):
            if vol.node not in node_names:
                yield Problem(
                    path_of(("storage", "classes", i, "volumes", j, "node")),
                    f"no node named {vol.node!r}",
                )


def gateway(spec: ClusterSpec) -> Iterator[Problem]:
    gw = spec.gateway
    controller, ingress_class = (
        path_of(("gateway", "controller")),
        path_of(("gateway", "ingressClass")),
    )
    if gw.controller in REJECTED_INGRESS:
        yield Problem(controller, REJECTED_INGRESS[gw.controller])
    elif gw.controller not in {c.value for c in GatewayController}:
        choices = ", ".join(c.value for c in GatewayController)
        yield Problem(
            controller,
            f"unknown controller {gw.controller!r}; choose one of {choices}",
        )
    if gw.ingress_class is not None:
        if gw.ingress_class in REJECTED_INGRESS:
            yield Problem(ingress_class, REJECTED_INGRESS[gw.ingress_class])
        elif gw.controller == GatewayController.ENVOY_GATEWAY.value:
            yield Problem(
                ingress_class,
                "envoy-gateway serves only the Gateway API, no Ingress; use traefik for an Ingress class",
            )
        elif gw.controller == GatewayController.NONE.value:
            yield Problem(
                ingress_class,
                "an Ingress class needs a controller (envoy-gateway or traefik)",
            )


def load_balancer(spec: ClusterSpec) -> Iterator[Problem]:
    lb = spec.load_balancer
    base = ("loadBalancer",)
    if lb.provider == "metallb" and not lb.pools:
        yield Problem(path_of((*base, "pools")), "MetalLB needs at least one address pool")
    if lb.provider != "metallb" and lb.pools:
        yield Problem(
            path_of((*base, "pools")), f"pools are MetalLB settings; provider is {lb.provider}"
        )
    if lb.provider == "metallb" and lb.mode == "bgp" and spec.network.bgp is None:
        yield Problem(
            path_of((*base, "mode")), f"MetalLB bgp mode needs {_net('bgp')} (asn and peers)"
        )
    net = spec.network
    for i, pool in enumerate(lb.pools):
        for j, text in enumerate(pool.addresses):
            path = path_of((*base, "pools", i, "addresses", j))
            first_text = text.split("-")[0].strip()
            try:
                first = ip_network(first_text if "/" in text else f"{first_text}/32", strict=False)
            except ValueError:
                yield Problem(path, f"{text!r} is neither a CIDR nor an address range a-b")
                continue
            for cidr_path, cidr in (
                (_net("podCidr"), net.pod_cidr[0]),
                (_net("serviceCidr"), net.service_cidr[0]),
            ):
                if first.version == cidr.version and first.overlaps(cidr):
                    yield Problem(path, f"{text} overlaps {cidr_path} {cidr}")


def network_policies(spec: ClusterSpec) -> Iterator[Problem]:
    seen: dict[tuple[str, str], int] = {}
    for i, policy in enumerate(spec.network_policies):
        key = (policy.namespace, policy.name)
        if key in seen:
            yield Problem(
                path_of(("networkPolicies", i, "name")),
                f"duplicate of {path_of(('networkPolicies', seen[key]))} "
                f"({policy.namespace}/{policy.name})",
            )
        seen.setdefault(key, i)


def workloads(spec: ClusterSpec) -> Iterator[Problem]:
    classes = {c.name for c in spec.storage.classes}
    seen: dict[tuple[str, str], int] = {}
    exposing = spec.gateway.controller != GatewayController.NONE.value
    for i, wl in enumerate(spec.workloads):
        base = ("workloads", i)
        key = (wl.namespace, wl.name)
        if key in seen:
            yield Problem(
                path_of((*base, "name")),
                f"duplicate of {path_of(('workloads', seen[key]))} ({wl.namespace}/{wl.name})",
            )
        seen.setdefault(key, i)
        if wl.rolling_update.partition > wl.replicas:
            yield Problem(
                path_of((*base, "rollingUpdate", "partition")),
                f"{wl.rolling_update.partition} is more than the {wl.replicas} replicas: at "
                f"most {wl.replicas}, which holds every pod at its revision",
            )
        if wl.storage is not None and wl.storage.storage_class not in classes:
            declared = ", ".join(sorted(classes)) or "none"
            yield Problem(
                path_of((*base, "storage", "class")),
                f"no storage class named {wl.storage.storage_class!r}; declared: {declared}",
            )
        if wl.expose is not None:
            port_names = [p.name for p in wl.ports]
            if wl.expose.port not in port_names:
                yield Problem(
                    path_of((*base, "expose", "port")),
                    f"no port named {wl.expose.port!r}; ports: {', '.join(port_names) or 'none'}",
                )
            if not exposing:
                yield Problem(
                    path_of((*base, "expose")),
                    f"exposure needs {path_of(('gateway', 'controller'))} (envoy-gateway or traefik)",
                )


def artifacts(spec: ClusterSpec) -> Iterator[Problem]:
    art = spec.artifacts
    if art.source == "mirror" and art.mirror is None:
        yield Problem(MIRROR, "source: mirror needs a mirror URL")
    if art.source == "upstream" and art.mirror is not None:
        yield Problem(
            path_of(("artifacts", "source")), "a mirror URL is set; set source: mirror to use it"
        )


def upstream_pins(spec: ClusterSpec) -> Iterator[Problem]:
    """With `artifacts.source: upstream` the nodes download each release file
    from upstream and check it against the sha256 pinned in
    groundwork/versions.py: a file without a pin would be refused by `up`, so
    validate refuses it first, naming the field that chose its version."""
    if spec.artifacts.source != "upstream":
        return
    from groundwork import versions
    from groundwork.plan.kube_binaries import required_binaries
    from groundwork.plan.runtime import runtime_releases

    hint = (
        "pin its sha256 in groundwork/versions.py (one line per file, from the release's "
        "checksum file), or serve a build (`groundwork build`) from a mirror "
        "(artifacts.source: mirror)"
    )
    kube = spec.kubernetes.version.removeprefix("v")
    unpinned = [b for b in required_binaries(spec) if not versions.artifact(b, kube).sha256]
    if unpinned:
        yield Problem(
            path_of(("kubernetes", "version")),
            f"Kubernetes {kube}: no sha256 pinned for {', '.join(unpinned)} (amd64); {hint}",
        )
    if any(n.has(Role.ETCD) for n in spec.nodes):
        etcd = spec.etcd.version.removeprefix("v")
        if not versions.artifact("etcd", etcd).sha256:
            yield Problem(ETCD_VERSION, f"etcd {etcd}: no sha256 pinned (amd64); {hint}")
    for release in runtime_releases(spec):
        if versions.artifact(release.name, release.version).sha256:
            continue
        if release.name == "containerd":
            yield Problem(
                CONTAINERD_VERSION, f"containerd {release.version}: no sha256 pinned; {hint}"
            )
        else:
            yield Problem(
                path_of(("artifacts", "source")),
                f"{release.name} {release.version} (installed with containerd): no sha256 "
                f"pinned; {hint}",
            )


def lab(spec: ClusterSpec) -> Iterator[Problem]:
    if spec.lab is None:
        for i, node in enumerate(spec.nodes):
            if node.ssh.key == "lab":
                yield Problem(
                    _node(i, "ssh", "key"),
                    "'lab' is the lab's generated key; this stack has no lab block",
                )
        return
    lab_spec = spec.lab
    if lab_spec.subnet.version != 4 or lab_spec.gateway.version != 4:
        yield Problem(LAB_SUBNET, "the lab network is IPv4")
        return
    if lab_spec.gateway not in lab_spec.subnet:
        yield Problem(
            path_of(("lab", "gateway")),
            f"{lab_spec.gateway} is outside {LAB_SUBNET} {lab_spec.subnet}",
        )
    for i, node in enumerate(spec.nodes):
        if node.address == lab_spec.gateway:
            yield Problem(_node(i, "address"), f"{node.address} is the lab gateway")
    expected = f"http://{lab_spec.gateway}:{lab_spec.mirror_port}"
    if spec.artifacts.mirror is not None and spec.artifacts.mirror.rstrip("/") != expected:
        yield Problem(MIRROR, f"the lab mirror listens at {expected}")


@dataclass(frozen=True)
class CrossFieldRule:
    """A rule and the sections of the cluster value it reads (their config keys),
    so that it can run when those sections are valid and others are not."""

    check: Rule
    reads: frozenset[str]
    # Sound on the valid nodes alone (a problem among some nodes is one among
    # all), or it needs every node: a count, or a lookup by name.
    every_node: bool = False


def _reads(rule: Rule, *sections: str, every_node: bool = False) -> CrossFieldRule:
    return CrossFieldRule(rule, frozenset(sections), every_node)


RULES: tuple[CrossFieldRule, ...] = (
    _reads(ipv4_only, "nodes", "network", "controlPlane"),
    _reads(nodes_unique, "nodes"),
    _reads(node_labels, "nodes"),
    _reads(control_plane_present, "nodes", every_node=True),
    _reads(etcd_quorum, "nodes", "etcd", every_node=True),
    _reads(kubernetes_version, "kubernetes"),
    _reads(component_versions, "etcd", "containerRuntime"),
    _reads(network_plugin, "network", "kubernetes"),
    # With nodes left out it may miss a full pod CIDR, never invent one.
    _reads(cidrs, "network", "lab", "nodes"),
    _reads(pod_subnet_collisions, "network", "nodes"),
    _reads(underlay, "network", "lab"),
    _reads(endpoint, "controlPlane", "network", "lab", "nodes"),
    _reads(storage, "storage"),
    _reads(volume_nodes, "storage", "nodes", every_node=True),
    _reads(gateway, "gateway"),
    _reads(load_balancer, "loadBalancer", "network"),
    _reads(workloads, "workloads", "storage", "gateway"),
    _reads(network_policies, "networkPolicies"),
    _reads(artifacts, "artifacts"),
    _reads(upstream_pins, "artifacts", "kubernetes", "nodes", "etcd", "containerRuntime"),
    _reads(lab, "lab", "nodes", "artifacts"),
    _reads(lab_builds, "lab", "kubernetes", "etcd", "containerRuntime"),
)


def check(spec: ClusterSpec) -> list[Problem]:
    """Every problem in a structurally valid declaration, sorted by path."""
    return sorted(p for rule in RULES for p in rule.check(spec))


def check_valid_parts(
    spec: ClusterSpec, valid: frozenset[str], every_node_valid: bool
) -> list[Problem]:
    """The problems of the rules that read only `valid` sections of `spec`
    (the others hold stand-ins for what failed structurally), sorted by path."""
    runnable = [
        rule for rule in RULES if rule.reads <= valid and (every_node_valid or not rule.every_node)
    ]
    return sorted(p for rule in runnable for p in rule.check(spec))


# Warnings: legal but questionable choices, shown by validate and plan. Each
# is a rule like the ones above; they are listed in the order they print.


def ipvs_deprecated(spec: ClusterSpec) -> Iterator[Problem]:
    if spec.kubernetes.kube_proxy is KubeProxyMode.IPVS:
        yield Problem(
            KUBE_PROXY,
            "ipvs mode is deprecated upstream (since 1.35); prefer nftables",
        )


def no_workers(spec: ClusterSpec) -> Iterator[Problem]:
    if not spec.nodes_with(Role.WORKER):
        yield Problem(NODES, "no worker nodes; workloads will run on control-plane nodes")


def vip_for_one_control_plane(spec: ClusterSpec) -> Iterator[Problem]:
    if len(spec.nodes_with(Role.CONTROL_PLANE)) == 1 and isinstance(
        spec.control_plane.endpoint, VipEndpoint
    ):
        yield Problem(
            path_of(("controlPlane", "endpoint")),
            "a VIP in front of a single control-plane node adds no availability",
        )


# The plugins whose data plane the lab has carried packets through
# (tests/network, tests/lab; docs/network.md). The others are rendered and
# schema-checked only (calico cannot be built here; cilium and kube-router
# are not built yet).
PROVEN_PLUGINS = frozenset({Plugin.BRIDGE, Plugin.FLANNEL})


def unproven_plugin(spec: ClusterSpec) -> Iterator[Problem]:
    plugin = spec.network.plugin
    if plugin not in PROVEN_PLUGINS:
        yield Problem(
            path_of(("network", "plugin")),
            f"{plugin.value}'s manifests are rendered and schema-checked, but it has never "
            "carried a packet on Groundwork's lab (docs/network.md says why): prove it on a "
            "cluster of your own before relying on it",
        )


# The plugins that filter traffic by NetworkPolicy.
ENFORCING_PLUGINS = frozenset({Plugin.CALICO, Plugin.CILIUM, Plugin.KUBE_ROUTER})


def unenforced_policies(spec: ClusterSpec) -> Iterator[Problem]:
    net = spec.network
    count = len(spec.network_policies)
    if count and net.plugin not in ENFORCING_PLUGINS:
        yield Problem(
            path_of(("networkPolicies",)),
            f"{net.plugin.value} {net.resolved_backend()} does not enforce NetworkPolicy: the "
            f"{count} declared polic{'y is' if count == 1 else 'ies are'} applied but "
            f"filter{'s' if count == 1 else ''} nothing; calico, cilium and kube-router "
            "enforce them (none has run on Groundwork's lab yet: docs/network.md)",
        )


WARNINGS: tuple[Rule, ...] = (
    ipvs_deprecated,
    no_workers,
    vip_for_one_control_plane,
    unproven_plugin,
    unenforced_policies,
)


def warnings(spec: ClusterSpec) -> list[Problem]:
    """Legal but questionable choices, in the order of WARNINGS."""
    return [p for rule in WARNINGS for p in rule(spec)]

"""What the picture shows, as data: the nodes grouped by zone, the workloads,
storage classes and gateway, the machines outside the cluster that serve it,
and which of them are linked.

Pure: spec + plan in, cards and links out. The layout places them and the
SVG module draws them, so what is linked to what is tested without geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from groundwork.plan import ClusterPlan, NodePlan
from groundwork.plan.ports import CONTROL_PLANE, ETCD, WORKER
from groundwork.spec.model import ClusterSpec, StorageClass, StorageDriver, Workload

TIERS = (CONTROL_PLANE, ETCD, WORKER)  # top to bottom in every zone
TIER_TITLES: dict[str, str] = {
    CONTROL_PLANE: "control plane",
    ETCD: "etcd only (no kubelet)",
    WORKER: "workers",
}
# The well-known label; the deprecated beta one still marks zones on older hosts.
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
# The label a stack gives the nodes that mount NFS shares (prod's storage node);
# when no node carries it, every worker may run a pod with an NFS volume.
NFS_CLIENT_LABEL = ("groundwork.dev/storage", "nfs-client")

# Card kinds outside the cluster, which are also the kinds of the links from
# nodes to them; in this order in each lane under a row of nodes.
BGP, MIRROR, REGISTRY, NFS = "bgp", "mirror", "registry", "nfs"
NODE_LINKS = (BGP, MIRROR, REGISTRY, NFS)
# Card kinds inside the cluster, and the links between cards.
GATEWAY, WORKLOAD, CLASS = "gateway", "workload", "class"
ROUTE, VOLUME, EXPORT = "route", "volume", "export"


@dataclass(frozen=True)
class Zone:
    name: str  # "" for the nodes without a zone label
    tiers: tuple[tuple[NodePlan, ...], ...]  # one per TIERS entry, empty ones included


@dataclass(frozen=True)
class Card:
    key: str  # unique in the scene: what links name
    kind: str
    title: str
    lines: tuple[str, ...]
    tooltip: str


@dataclass(frozen=True)
class Link:
    kind: str
    source: str  # a node's name, or a card's key
    target: str  # a card's key
    label: str = ""


@dataclass(frozen=True)
class Scene:
    zones: tuple[Zone, ...]
    framed: bool  # some node has a zone: every zone gets a frame
    outside: tuple[Card, ...]  # top to bottom beside the cluster
    gateway: Card | None
    workloads: tuple[Card, ...]
    classes: tuple[Card, ...]
    links: tuple[Link, ...]

    def node_kinds(self) -> tuple[str, ...]:
        """The kinds of node links present, in lane order."""
        present = {link.kind for link in self.links}
        return tuple(k for k in NODE_LINKS if k in present)


def tier(node: NodePlan) -> str:
    """Where a node is drawn: control-plane beats worker beats etcd. A worker
    that is also an etcd member runs a kubelet, so it belongs with the workers."""
    if CONTROL_PLANE in node.roles:
        return CONTROL_PLANE
    if WORKER in node.roles:
        return WORKER
    return ETCD


def zone_of(labels: dict[str, str]) -> str:
    return next((labels[k] for k in ZONE_LABELS if labels.get(k)), "")


def zones(spec: ClusterSpec, plan: ClusterPlan) -> tuple[Zone, ...]:
    """Zones by name, then the nodes without one; nodes keep their declared order.
    The plan's nodes are drawn: a node the spec does not declare has no zone."""
    labels = {n.name: zone_of(n.labels) for n in spec.nodes}
    names = sorted({labels.get(n.name, "") for n in plan.nodes} - {""})
    if any(not labels.get(n.name) for n in plan.nodes):
        names.append("")
    return tuple(
        Zone(
            name,
            tuple(
                tuple(n for n in plan.nodes if labels.get(n.name, "") == name and tier(n) == t)
                for t in TIERS
            ),
        )
        for name in names
    )


def split_url(url: str) -> tuple[str, ...]:
    """Scheme and host on one line, the path on the next: a card is narrower
    than most mirror URLs, and the host is what an operator looks for."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = url[len(origin) :]
    return (origin, path) if path.strip("/") else (origin,)


def _bgp(spec: ClusterSpec, kubelets: list[str]) -> tuple[list[Card], list[Link]]:
    bgp = spec.network.bgp
    if bgp is None:
        return [], []
    cards, links = [], []
    for peer in bgp.peers:
        key = f"{BGP}:{peer.address}"
        cards.append(
            Card(
                key,
                BGP,
                "BGP router",
                (str(peer.address), f"AS {peer.asn}, peers with AS {bgp.asn}"),
                f"BGP peer {peer.address} AS {peer.asn}: every node with a kubelet "
                f"(AS {bgp.asn}) keeps a session with it",
            )
        )
        # Global peers: the CNI's BGP speaker on each kubelet node dials every one.
        links += [Link(BGP, name, key) for name in kubelets]
    return cards, links


def _mirror(spec: ClusterSpec, plan: ClusterPlan) -> tuple[list[Card], list[Link]]:
    url = spec.artifacts.mirror
    if spec.artifacts.source != "mirror" or url is None:
        return [], []
    title = "lab mirror (this host)" if spec.lab is not None else "artifact mirror"
    card = Card(
        MIRROR,
        MIRROR,
        title,
        (*split_url(url), "binaries and packages"),
        f"{title} {url}: every node downloads its binaries and packages from it",
    )
    # Every node, etcd-only ones too: etcd's binary comes from the mirror.
    return [card], [Link(MIRROR, n.name, MIRROR) for n in plan.nodes]


def _registries(spec: ClusterSpec, kubelets: list[str]) -> tuple[list[Card], list[Link]]:
    served: dict[str, list[str]] = {}
    for upstream, url in spec.container_runtime.registry_mirrors.items():
        served.setdefault(split_url(url)[0], []).append(upstream)
    lab = f"http://{spec.lab.gateway}:{spec.lab.registry_port}" if spec.lab else ""
    if lab:
        # The lab's registry serves the images built here, mirrored or not.
        served.setdefault(lab, [])
    cards, links = [], []
    for origin, upstreams in sorted(served.items()):
        key = f"{REGISTRY}:{origin}"
        title = "lab registry (this host)" if origin == lab else "registry mirror"
        what = f"mirrors {', '.join(sorted(upstreams))}" if upstreams else "images built here"
        cards.append(
            Card(key, REGISTRY, title, (origin, what), f"{title} {origin}: containerd {what}")
        )
        links += [Link(REGISTRY, name, key) for name in kubelets]
    return cards, links


def _nfs(spec: ClusterSpec, plan: ClusterPlan) -> tuple[list[Card], list[Link]]:
    exports: dict[str, list[StorageClass]] = {}
    for sc in spec.storage.classes:
        if sc.driver is StorageDriver.NFS and sc.nfs is not None:
            exports.setdefault(sc.nfs.server, []).append(sc)
    if not exports:
        return [], []
    labelled = {
        n.name for n in spec.nodes if n.labels.get(NFS_CLIENT_LABEL[0]) == NFS_CLIENT_LABEL[1]
    }
    clients = [
        n.name for n in plan.nodes if (n.name in labelled if labelled else WORKER in n.roles)
    ]
    cards, links = [], []
    for server, classes in sorted(exports.items()):
        key = f"{NFS}:{server}"
        shares = ", ".join(sorted({sc.nfs.share for sc in classes if sc.nfs is not None}))
        cards.append(
            Card(
                key,
                NFS,
                "NFS server",
                (server, f"exports {shares}"),
                f"NFS server {server} exporting {shares}; mounted by {', '.join(clients)}",
            )
        )
        links += [Link(NFS, name, key) for name in clients]
        links += [Link(EXPORT, f"{CLASS}:{sc.name}", key) for sc in classes]
    return cards, links


def outside(spec: ClusterSpec, plan: ClusterPlan) -> tuple[tuple[Card, ...], tuple[Link, ...]]:
    """The machines the cluster depends on but does not run, and the links to them."""
    kubelets = [n.name for n in plan.nodes if n.runs_kubelet]
    cards: list[Card] = []
    links: list[Link] = []
    for more_cards, more_links in (
        _bgp(spec, kubelets),
        _mirror(spec, plan),
        _registries(spec, kubelets),
        _nfs(spec, plan),
    ):
        cards += more_cards
        links += more_links
    return tuple(cards), tuple(links)


def gateway_card(spec: ClusterSpec) -> Card | None:
    gw, lb = spec.gateway, spec.load_balancer
    if gw.controller == "none" and lb.provider == "none":
        return None
    lines: list[str] = []
    if gw.controller != "none":
        lines.append(
            f"Ingress class {gw.ingress_class}" if gw.ingress_class else "Gateway groundwork"
        )
    if lb.provider == "none":
        lines.append("no load balancer: node ports")
    else:
        mode = f" ({lb.mode})" if lb.provider == "metallb" else ""
        lines.append(f"LB addresses: {lb.provider}{mode}")
    lines += [f"pool {pool.name}: {', '.join(pool.addresses)}" for pool in lb.pools]
    title = f"gateway {gw.controller}" if gw.controller != "none" else "load balancer"
    return Card(GATEWAY, GATEWAY, title, tuple(lines), f"{title}: {'; '.join(lines)}")


def workload_key(w: Workload) -> str:
    return f"{WORKLOAD}:{w.namespace}/{w.name}"


def workload_card(w: Workload) -> Card:
    ports = ", ".join(f"{p.name}:{p.port}" for p in w.ports) or "no ports"
    volume = (
        f"{w.storage.size} per pod from {w.storage.storage_class}" if w.storage else "no volume"
    )
    route = f"; {w.expose.hostname}{w.expose.path} routed to it" if w.expose else ""
    return Card(
        workload_key(w),
        WORKLOAD,
        w.name,
        (f"{w.namespace}, \u00d7{w.replicas}, {ports}", w.image, volume),
        f"{w.kind} {w.namespace}/{w.name}: {w.replicas} replica(s) of {w.image}; {volume}{route}",
    )


def class_card(sc: StorageClass) -> Card:
    kind = ", ".join([sc.driver.value, *(["default"] if sc.default else [])])
    where = f", {len(sc.volumes)} volume(s)" if sc.volumes else ""
    return Card(
        f"{CLASS}:{sc.name}",
        CLASS,
        sc.name,
        (kind, f"reclaim {sc.reclaim_policy}{where}"),
        f"StorageClass {sc.name}: {kind}, reclaim {sc.reclaim_policy}{where}",
    )


def scene(spec: ClusterSpec, plan: ClusterPlan) -> Scene:
    out_cards, out_links = outside(spec, plan)
    gateway = gateway_card(spec)
    links = list(out_links)
    for w in spec.workloads:
        if w.expose is not None and gateway is not None:
            label = f"{w.expose.hostname}{w.expose.path}"
            links.append(Link(ROUTE, GATEWAY, workload_key(w), label))
        if w.storage is not None:
            links.append(Link(VOLUME, workload_key(w), f"{CLASS}:{w.storage.storage_class}"))
    all_zones = zones(spec, plan)
    return Scene(
        zones=all_zones,
        framed=any(z.name for z in all_zones),
        outside=out_cards,
        gateway=gateway,
        workloads=tuple(workload_card(w) for w in spec.workloads),
        classes=tuple(class_card(sc) for sc in spec.storage.classes),
        links=tuple(links),
    )

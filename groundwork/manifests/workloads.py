"""Declared workloads: StatefulSets with their Services, volumes and routes.

Per workload: the namespace (unless default), a headless Service (the
StatefulSet's governing service, stable pod DNS names), the StatefulSet
with volumeClaimTemplates on the declared class, a PodDisruptionBudget when
it has more than one replica (a drain, in an upgrade or a removal, takes
one pod at a time and waits for it to be back), and when exposed a regular
ClusterIP Service `<name>-<port>` for the exposed port plus an HTTPRoute
parented to the `groundwork` Gateway (or an Ingress when the stack sets
`gateway.ingressClass`).

The objects are templates/addons/workloads/workloads.yaml.j2; this module
gives it one small view per workload.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.manifests.common import Obj
from groundwork.manifests.gateway import GATEWAY_API, GATEWAY_NAME, gateway_namespace
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import (
    ClusterSpec,
    NetworkPolicy,
    PolicyPeer,
    PolicyPort,
    Port,
    Workload,
)

DATA_VOLUME = "data"
# How long a stopping pod keeps serving before it gets SIGTERM: longer than
# endpoint removal takes to reach every node (about a second here).
STOP_DELAY_SECONDS = 5


@dataclass(frozen=True)
class PortView:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class StorageView:
    """Each pod's volume: a claim on `storage_class`, mounted at `mount_path`."""

    size: str
    storage_class: str
    mount_path: str


@dataclass(frozen=True)
class ExposeView:
    """The exposed port's own ClusterIP Service (`service`) and the route to it:
    an Ingress of `ingress_class` when set, else an HTTPRoute on the Gateway."""

    service: str
    port: PortView
    hostname: str
    path: str


@dataclass(frozen=True)
class WorkloadView:
    name: str
    namespace: str
    image: str
    args: list[str]
    replicas: int
    pod_management_policy: str  # OrderedReady or Parallel
    partition: int  # pods with a lower ordinal keep their revision
    ports: list[PortView]
    # The port the readiness probe knocks on (the first); None: no ports, no probe.
    probe_port: str | None
    storage: StorageView | None
    # More than one replica: a PodDisruptionBudget keeps a drain to one pod at a time.
    budget: bool
    expose: ExposeView | None


def workloads(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    # An exposed workload gets an Ingress of this class when the stack sets
    # one, else an HTTPRoute on the Gateway in gateway_ns.
    ingress_class = spec.gateway.ingress_class or None
    gateway_ns = gateway_namespace(spec)
    routable = ingress_class is not None or gateway_ns is not None
    views = [_view(w, routable=routable) for w in spec.workloads]
    namespaces = {w.namespace for w in spec.workloads} | {
        p.namespace for p in spec.network_policies
    }
    objects = render_objects(
        "addons/workloads/workloads.yaml.j2",
        namespaces=sorted(namespaces - {"default"}),
        workloads=views,
        data_volume=DATA_VOLUME,
        stop_delay_seconds=STOP_DELAY_SECONDS,
        ingress_class=ingress_class,
        gateway_api=GATEWAY_API,
        gateway_name=GATEWAY_NAME,
        gateway_namespace=gateway_ns,
    )
    return [*objects, *(network_policy(p) for p in spec.network_policies)]


def _peer(peer: PolicyPeer) -> Obj:
    if peer.ip_block is not None:
        block: Obj = {"cidr": str(peer.ip_block.cidr)}
        if peer.ip_block.except_:
            block["except"] = [str(n) for n in peer.ip_block.except_]
        return {"ipBlock": block}
    out: Obj = {}
    if peer.pod_selector is not None:
        out["podSelector"] = {"matchLabels": dict(peer.pod_selector)}
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = {"matchLabels": dict(peer.namespace_selector)}
    return out


def _ports(ports: list[PolicyPort]) -> list[Obj]:
    return [
        {"protocol": p.protocol, **({"port": p.port} if p.port is not None else {})} for p in ports
    ]


def _rule(peers_key: str, peers: list[PolicyPeer], ports: list[PolicyPort]) -> Obj:
    rule: Obj = {}
    if peers:
        rule[peers_key] = [_peer(p) for p in peers]
    if ports:
        rule["ports"] = _ports(ports)
    return rule


def network_policy(policy: NetworkPolicy) -> Obj:
    """A declared policy as the networking.k8s.io/v1 object (pure): the
    directions it restricts are its policyTypes."""
    spec: Obj = {"podSelector": {"matchLabels": dict(policy.pod_selector)}}
    types = []
    if policy.ingress is not None:
        types.append("Ingress")
        spec["ingress"] = [_rule("from", r.from_, r.ports) for r in policy.ingress]
    if policy.egress is not None:
        types.append("Egress")
        spec["egress"] = [_rule("to", r.to, r.ports) for r in policy.egress]
    spec["policyTypes"] = types
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": policy.name,
            "namespace": policy.namespace,
            "labels": {"app.kubernetes.io/managed-by": "groundwork"},
        },
        "spec": spec,
    }


def _port(p: Port) -> PortView:
    return PortView(name=p.name, port=p.port, protocol=p.protocol)


def _view(w: Workload, *, routable: bool) -> WorkloadView:
    ports = [_port(p) for p in w.ports]
    storage = (
        None
        if w.storage is None
        else StorageView(
            size=w.storage.size,
            storage_class=w.storage.storage_class,
            mount_path=w.storage.mount_path,
        )
    )
    return WorkloadView(
        name=w.name,
        namespace=w.namespace,
        image=w.image,
        args=list(w.args),
        replicas=w.replicas,
        pod_management_policy=w.pod_management_policy,
        partition=w.rolling_update.partition,
        ports=ports,
        probe_port=ports[0].name if ports else None,
        storage=storage,
        budget=w.replicas >= 2,
        expose=_expose(w, ports, routable=routable),
    )


def _expose(w: Workload, ports: list[PortView], *, routable: bool) -> ExposeView | None:
    if w.expose is None:
        return None
    # Both refused by the spec's validation already; kept for a spec built in code.
    port = next((p for p in ports if p.name == w.expose.port), None)
    if port is None:
        raise ValueError(
            f"workload {w.name}: expose.port {w.expose.port!r} is not one of its ports"
        )
    if not routable:
        raise ValueError(f"workload {w.name} is exposed but cluster.gateway.controller is none")
    return ExposeView(
        service=f"{w.name}-{port.name}",
        port=port,
        hostname=w.expose.hostname,
        path=w.expose.path,
    )

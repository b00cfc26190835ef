"""Kubernetes objects for what runs inside the cluster, derived from spec + plan.

Pure functions: `render_addons(spec, plan)` returns every object as a plain
dict, grouped by layer in dependency order (cni, coredns, storage,
load_balancer, gateway, workloads, and netcheck: the pods verify's cluster
checks ask), with the pinned upstream bundles a
layer installs before its own objects: release files (CRDs, operators) as
upstream ships them, and upstream's install files of flannel, the
local-path provisioner and CoreDNS with Groundwork's patches
(groundwork.manifests.patches), read from their pinned modules when a door
installs them (groundwork.build.manifests). The Pulumi layer
(`groundwork.pulumi.addons`) turns each layer into one component.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles
from groundwork.manifests.cni import cni
from groundwork.manifests.cni.flannel import flannel_bundle
from groundwork.manifests.common import Obj
from groundwork.manifests.coredns import coredns, coredns_bundle
from groundwork.manifests.gateway import bundles as gateway_bundles
from groundwork.manifests.gateway import gateway
from groundwork.manifests.loadbalancer import load_balancer
from groundwork.manifests.netcheck import netcheck
from groundwork.manifests.storage import storage, storage_bundles
from groundwork.manifests.workloads import workloads
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, Plugin

__all__ = ["LAYERS", "AddonSet", "Bundle", "Layer", "Obj", "render_addons"]

# Dependency order: each layer needs the ones before it (see groundwork.pulumi.addons).
LAYERS: tuple[str, ...] = (
    "cni",
    "coredns",
    "storage",
    "load_balancer",
    "gateway",
    "workloads",
    "netcheck",
)


@dataclass(frozen=True)
class Layer:
    name: str
    objects: list[Obj] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)  # installed before `objects`


@dataclass(frozen=True)
class AddonSet:
    cni: Layer
    coredns: Layer
    storage: Layer
    load_balancer: Layer
    gateway: Layer
    workloads: Layer
    netcheck: Layer

    def layers(self) -> Iterator[Layer]:
        for name in LAYERS:
            yield getattr(self, name)

    def objects(self) -> Iterator[Obj]:
        for layer in self.layers():
            yield from layer.objects


def _cni_bundles(spec: ClusterSpec, plan: ClusterPlan) -> list[Bundle]:
    if spec.network.plugin is Plugin.FLANNEL:
        return [flannel_bundle(plan)]
    if spec.network.plugin is not Plugin.CALICO:
        return []
    c = versions.CALICO
    return [
        Bundle("calico-crds", c.bundles["crds"], c.version),
        Bundle("tigera-operator", c.bundles["operator"], c.version),
    ]


def _lb_bundles(spec: ClusterSpec) -> list[Bundle]:
    if spec.load_balancer.provider != "metallb":
        return []
    # Read from the module components/metallb pins, whose programs the
    # images run: both doors install it with nothing fetched.
    files = ModuleFiles("metallb", "go.universe.tf/metallb", "config/manifests/metallb-native.yaml")
    return [Bundle("metallb", versions.METALLB.bundles["native"], versions.METALLB.version, files)]


def render_addons(spec: ClusterSpec, plan: ClusterPlan) -> AddonSet:
    return AddonSet(
        cni=Layer("cni", cni(spec, plan), _cni_bundles(spec, plan)),
        coredns=Layer("coredns", coredns(spec, plan), [coredns_bundle(plan)]),
        storage=Layer("storage", storage(spec, plan), storage_bundles(spec)),
        load_balancer=Layer("load_balancer", load_balancer(spec, plan), _lb_bundles(spec)),
        gateway=Layer("gateway", gateway(spec, plan), gateway_bundles(spec)),
        workloads=Layer("workloads", workloads(spec, plan)),
        netcheck=Layer("netcheck", netcheck(spec, plan)),
    )

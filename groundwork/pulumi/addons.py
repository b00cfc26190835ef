"""What runs inside the cluster, as one Pulumi component per addon layer.

`add_addons` turns `groundwork.manifests.render_addons(spec, plan)` into six
components, each owning its pinned upstream bundles
(`kubernetes.yaml.v2.ConfigFile` from the release URL) and one
`kubernetes.yaml.v2.ConfigGroup` of the rendered objects, which depends on
those bundles (CRDs before the custom resources). Every child uses the
`kubernetes.Provider` passed in (the one built from the admin kubeconfig).

Dependencies are explicit `depends_on` edges, the install order:

    cni  <- coredns, storage, load_balancer
    cni, load_balancer  <- gateway
    storage, gateway, coredns  <- workloads

and every layer also depends on `depends_on` (what must exist before
anything runs in the cluster: the nodes, the PKI). That edge is given to
every layer, not only to the CNI, because depending on a component whose
layer renders nothing (the bridge CNI) orders nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes

from groundwork.build.manifests import bundle_objects
from groundwork.manifests import AddonSet, Layer, render_addons
from groundwork.manifests.bundles import Bundle
from groundwork.plan import ClusterPlan
from groundwork.spec import ClusterSpec

CNI_TYPE = "groundwork:addons:Cni"
COREDNS_TYPE = "groundwork:addons:CoreDns"
STORAGE_TYPE = "groundwork:addons:Storage"
LOAD_BALANCER_TYPE = "groundwork:addons:LoadBalancer"
GATEWAY_TYPE = "groundwork:addons:Gateway"
WORKLOADS_TYPE = "groundwork:addons:Workloads"
NETCHECK_TYPE = "groundwork:addons:NetCheck"

LAYER_TYPES: dict[str, str] = {
    "cni": CNI_TYPE,
    "coredns": COREDNS_TYPE,
    "storage": STORAGE_TYPE,
    "load_balancer": LOAD_BALANCER_TYPE,
    "gateway": GATEWAY_TYPE,
    "workloads": WORKLOADS_TYPE,
    "netcheck": NETCHECK_TYPE,
}

# layer -> the layers it waits for (the install order above).
LAYER_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "cni": (),
    "coredns": ("cni",),
    "storage": ("cni",),
    "load_balancer": ("cni",),
    "gateway": ("cni", "load_balancer"),
    "workloads": ("storage", "gateway", "coredns"),
    "netcheck": ("coredns",),
}


class AddonLayer(pulumi.ComponentResource):
    """One layer: its upstream bundles, then its rendered objects."""

    bundles: list[pulumi.Resource]
    objects: kubernetes.yaml.v2.ConfigGroup | None

    def __init__(
        self,
        type_: str,
        name: str,
        layer: Layer,
        provider: kubernetes.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.bundles = [
            _bundle(f"{name}-{bundle.name}", bundle, child, f"{name}-objects")
            for bundle in layer.bundles
        ]
        self.objects = None
        if layer.objects:
            self.objects = kubernetes.yaml.v2.ConfigGroup(
                f"{name}-objects",
                objs=layer.objects,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=list(self.bundles))
                ),
            )
        self.register_outputs(
            {
                "objectCount": len(layer.objects),
                "bundles": [f"{b.name}@{b.version}: {b.url}" for b in layer.bundles],
            }
        )


@dataclass(frozen=True)
class Addons:
    cni: AddonLayer
    coredns: AddonLayer
    storage: AddonLayer
    load_balancer: AddonLayer
    gateway: AddonLayer
    workloads: AddonLayer
    netcheck: AddonLayer


def add_addons(
    parent: pulumi.Resource,
    provider: kubernetes.Provider,
    spec: ClusterSpec,
    plan: ClusterPlan,
    depends_on: Sequence[pulumi.Resource] = (),
) -> Addons:
    """Declare every addon layer as a child of `parent`, in dependency order."""
    rendered: AddonSet = render_addons(spec, plan)
    made: dict[str, AddonLayer] = {}
    for layer in rendered.layers():
        needs = [made[n] for n in LAYER_DEPENDENCIES[layer.name]]
        made[layer.name] = AddonLayer(
            LAYER_TYPES[layer.name],
            f"{spec.name}-{layer.name.replace('_', '-')}",
            layer,
            provider,
            pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, *needs]),
        )
    return Addons(**made)


def _bundle(
    name: str, bundle: Bundle, opts: pulumi.ResourceOptions, objects_name: str
) -> pulumi.Resource:
    """A bundle from its pinned module's files (nothing fetched at install
    time), else from its release URL."""
    if bundle.patches is not None:
        # A patched bundle's objects (flannel, local-path, CoreDNS) were the
        # layer's own objects before: named as the objects group names its
        # children, a stack that has them keeps them in place (a new name
        # would create each anew and delete the old resource, the object too).
        return kubernetes.yaml.v2.ConfigGroup(
            name, objs=bundle_objects(bundle), resource_prefix=objects_name, opts=opts
        )
    if bundle.files is not None:
        return kubernetes.yaml.v2.ConfigGroup(name, objs=bundle_objects(bundle), opts=opts)
    return kubernetes.yaml.v2.ConfigFile(name, file=bundle.url, opts=opts)

"""Upstream manifests installed at a pinned version.

Some addons ship CustomResourceDefinitions or webhook machinery too large
to copy here honestly (the Gateway API CRDs, Calico's operator and CRDs,
MetalLB, Envoy Gateway). Their pinned upstream release manifest is a
`Bundle`, installed before the layer's own objects, which depend on it.

A bundle whose files come from a Go module the lab pins (`files`) is read
from that module at the version its go.sum checks (groundwork.build.manifests):
both front doors install it with nothing fetched at install time. A bundle
known only by its release URL is installed by the Pulumi door
(`pulumi_kubernetes.yaml.v2.ConfigFile(file=<url>)`) and refused by the CLI.

Where upstream ships an addon's own install file in the module (flannel's
DaemonSet, the local-path provisioner, CoreDNS), that file is a bundle
too, with Groundwork's `Patches`: what Groundwork derives from the stack,
rendered here (pure) and applied to upstream's objects when they are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects

# On every object Groundwork applies, upstream's too: whose objects these are.
MANAGED_BY: Mapping[str, str] = {"app.kubernetes.io/managed-by": "groundwork"}


@dataclass(frozen=True)
class ModuleFiles:
    """Upstream's objects in a pinned Go module: the files a kustomization
    lists (a path ending in kustomization.yaml), or one release file."""

    component: str  # components/<component>/go.mod pins the module
    module: str
    path: str  # inside the module


@dataclass(frozen=True)
class Patches:
    """Groundwork's changes to a bundle's objects (groundwork.manifests.patches)."""

    template: str  # the template under templates/ the documents were rendered from
    documents: tuple[Obj, ...]  # strategic-merge patches, each naming its upstream object
    labels: Mapping[str, str] = field(default_factory=dict)  # set on every object
    # Upstream's own placeholders in its file (coredns.yaml.base's
    # __DNS__DOMAIN__), with the values Groundwork derives.
    placeholders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bundle:
    name: str  # unique within the cluster, used as the Pulumi resource name
    url: str  # upstream's release file
    version: str
    files: ModuleFiles | None = None  # the same objects in a pinned module
    patches: Patches | None = None  # Groundwork's changes, applied to `files`' objects

    def __post_init__(self) -> None:
        # Patches apply to the objects Groundwork reads; a URL is applied as it is.
        if self.patches is not None and self.files is None:
            raise ValueError(f"bundle {self.name}: patches need the pinned module's files")


def render_patches(
    template: str, placeholders: Mapping[str, str] | None = None, **values: object
) -> Patches:
    """The patch documents of one template under templates/, with Groundwork's label."""
    documents = tuple(render_objects(template, **values))
    return Patches(template, documents, MANAGED_BY, dict(placeholders or {}))

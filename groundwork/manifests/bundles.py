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
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModuleFiles:
    """Upstream's objects in a pinned Go module: the files a kustomization
    lists (a path ending in kustomization.yaml), or one release file."""

    component: str  # components/<component>/go.mod pins the module
    module: str
    path: str  # inside the module


@dataclass(frozen=True)
class Bundle:
    name: str  # unique within the cluster, used as the Pulumi resource name
    url: str  # upstream's release file
    version: str
    files: ModuleFiles | None = None  # the same objects in a pinned module

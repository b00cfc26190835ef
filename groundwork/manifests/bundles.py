"""Upstream manifests installed by URL, at a pinned version.

Some addons ship CustomResourceDefinitions or webhook machinery too large
to copy here honestly (the Gateway API CRDs, Calico's operator and CRDs,
MetalLB, Envoy Gateway). Their pinned upstream release manifest is a
`Bundle`; the Pulumi layer installs it with
`pulumi_kubernetes.yaml.v2.ConfigFile(file=<url>)` before the layer's own
objects, which depend on it. The URLs carry the version from `versions.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bundle:
    name: str  # unique within the cluster, used as the Pulumi resource name
    url: str
    version: str

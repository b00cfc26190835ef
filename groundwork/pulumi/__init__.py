"""Pulumi front door: ComponentResources and dynamic providers over groundwork's phases.

The names below load the Pulumi SDK (0.15 s) on first use only: the
`groundwork` command imports groundwork.pulumi.workspace for its `pulumi`
verb, and every other verb (`up` among them) needs no SDK at all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundwork.pulumi.cluster import CLUSTER_TYPE, Cluster
    from groundwork.pulumi.pki import PKI_TYPE, Pki, PkiMaterial, PkiProvider
    from groundwork.pulumi.program import build, spec_from_config

# Each exported name and the module that defines it.
_EXPORTS = {
    "CLUSTER_TYPE": "cluster",
    "Cluster": "cluster",
    "PKI_TYPE": "pki",
    "Pki": "pki",
    "PkiMaterial": "pki",
    "PkiProvider": "pki",
    "build": "program",
    "spec_from_config": "program",
}

__all__ = [
    "CLUSTER_TYPE",
    "PKI_TYPE",
    "Cluster",
    "Pki",
    "PkiMaterial",
    "PkiProvider",
    "build",
    "spec_from_config",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

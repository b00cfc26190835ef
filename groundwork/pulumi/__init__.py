"""Pulumi front door: ComponentResources and dynamic providers over groundwork's phases."""

from groundwork.pulumi.cluster import CLUSTER_TYPE, Cluster
from groundwork.pulumi.pki import PKI_TYPE, Pki, PkiMaterial, PkiProvider
from groundwork.pulumi.program import build, spec_from_config

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

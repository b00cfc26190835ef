"""Cluster PKI: CAs, service-account key and leaf certificates (cryptography).

Pure core (`requests`, `standard`, `x509util`, `bundle`) plus the CLI's file
store (`store`). The Pulumi program keeps the same `PkiBundle` as resource
state with the private keys as secrets.
"""

from groundwork.pki.bundle import CA_STEMS, SA_STEM, Ensured, PkiBundle, ensure_bundle
from groundwork.pki.requests import CaName, CertificateRequest, Usage
from groundwork.pki.standard import (
    Member,
    control_plane_requests,
    etcd_requests,
    kubelet_requests,
)
from groundwork.pki.store import ensure_pki, load_bundle, pki_dir
from groundwork.pki.x509util import CA_VALIDITY, LEAF_VALIDITY, PkiError

__all__ = [
    "CA_STEMS",
    "CA_VALIDITY",
    "LEAF_VALIDITY",
    "SA_STEM",
    "CaName",
    "CertificateRequest",
    "Ensured",
    "Member",
    "PkiBundle",
    "PkiError",
    "Usage",
    "control_plane_requests",
    "ensure_bundle",
    "ensure_pki",
    "etcd_requests",
    "kubelet_requests",
    "load_bundle",
    "pki_dir",
]

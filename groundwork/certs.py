"""Every certificate of a stack and its days to expiry: the PKI on the
controller (the CAs and the leaves `up` installs), and what each node's TLS
endpoints actually serve (the apiservers, the kubelets, the etcd members).

The served certificates are read over TLS, not through SSH: a node that
still serves an old certificate (a renewal that did not reach it, a process
not restarted) shows its real expiry, not the file's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from groundwork.plan import ClusterPlan
from groundwork.plan.etcd import CLIENT_PORT, PEER_PORT
from groundwork.spec import ClusterSpec
from groundwork.verify.expect import MIN_CERTIFICATE_DAYS, kube_expectation
from groundwork.verify.kube import KubeError, served_certificate
from groundwork.verify.kube import ServedCertificate as Served

__all__ = ["MIN_CERTIFICATE_DAYS", "CertificateRow", "check", "endpoints", "pki_rows"]


@dataclass(frozen=True)
class CertificateRow:
    where: str  # "controller" or the node's name
    name: str  # the PKI file (relative) or "kube-apiserver :6443"
    not_after: datetime | None  # None: it could not be read
    problem: str = ""  # why it could not be read

    def days_left(self, now: datetime) -> float | None:
        if self.not_after is None:
            return None
        return (self.not_after - now).total_seconds() / 86400

    def ok(self, now: datetime, warn_days: int) -> bool:
        days = self.days_left(now)
        return days is not None and days >= warn_days


@dataclass(frozen=True)
class Endpoint:
    node: str
    name: str  # what serves there
    address: str
    port: int


def pki_rows(directory: Path) -> list[CertificateRow]:
    """Every certificate file of the stack's PKI on the controller."""
    rows = []
    for path in sorted(directory.rglob("*.crt")):
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        rows.append(
            CertificateRow("controller", str(path.relative_to(directory)), cert.not_valid_after_utc)
        )
    return rows


def endpoints(spec: ClusterSpec, plan: ClusterPlan) -> list[Endpoint]:
    """Every TLS endpoint of the cluster's nodes, as planned (pure)."""
    out = [Endpoint(s.node, s.name, s.address, s.port) for s in kube_expectation(spec, plan).served]
    for member in plan.etcd.members:
        address = str(member.address)
        out.append(Endpoint(member.name, "etcd server", address, CLIENT_PORT))
        out.append(Endpoint(member.name, "etcd peer", address, PEER_PORT))
    return sorted(out, key=lambda e: (e.node, e.port, e.name))


def served_rows(
    found: Iterable[Endpoint], fetch: Callable[[str, int], Served] | None = None
) -> list[CertificateRow]:
    """What each endpoint serves, read in parallel; an endpoint that does not
    answer is a row with its reason."""
    read = fetch or served_certificate

    def one(endpoint: Endpoint) -> CertificateRow:
        name = f"{endpoint.name} :{endpoint.port}"
        try:
            served = read(endpoint.address, endpoint.port)
        except (OSError, KubeError) as err:
            return CertificateRow(endpoint.node, name, None, str(err) or type(err).__name__)
        return CertificateRow(endpoint.node, name, served.not_after)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, found))


def check(spec: ClusterSpec, plan: ClusterPlan, pki: Path) -> list[CertificateRow]:
    """The controller's PKI, then every node's served certificates."""
    return [*pki_rows(pki), *served_rows(endpoints(spec, plan))]


def now() -> datetime:
    return datetime.now(UTC)

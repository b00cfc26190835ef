"""A small Kubernetes API client for verify's cluster checks.

The checks read a few objects (nodes, pods, claims) and ask the netcheck
pods, through the apiserver's pod proxy, to dial each other. That needs
HTTPS with the admin client certificate and nothing else, so the standard
library does it: no client library, no kubectl process per request (each
costs about half a CPU second on a small controller).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography import x509


class KubeError(Exception):
    """The apiserver could not be reached or answered with an error status."""


@dataclass(frozen=True)
class Credentials:
    ca: Path
    cert: Path | None  # None: no client certificate (an anonymous request)
    key: Path | None


def client_credentials(pki: Path, identity: str | None) -> Credentials:
    """The cluster CA and one of the PKI's client identities (`admin`,
    `kube-proxy`...), or none at all."""
    if identity is None:
        return Credentials(pki / "ca.crt", None, None)
    return Credentials(pki / "ca.crt", pki / f"{identity}.crt", pki / f"{identity}.key")


def admin_credentials(pki: Path) -> Credentials:
    return client_credentials(pki, "admin")


class KubeApi:
    def __init__(self, server: str, credentials: Credentials, timeout: float = 10) -> None:
        parts = urlsplit(server)
        self.server = server
        self.host = parts.hostname or ""
        self.port = parts.port or 443
        self.timeout = timeout
        context = ssl.create_default_context(cafile=str(credentials.ca))
        if credentials.cert is not None:
            context.load_cert_chain(str(credentials.cert), str(credentials.key))
        self._context = context

    def request(self, path: str, timeout: float | None = None) -> tuple[int, str]:
        """GET `path`: the status and the body."""
        conn = http.client.HTTPSConnection(
            self.host, self.port, context=self._context, timeout=timeout or self.timeout
        )
        try:
            conn.request("GET", path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            return response.status, response.read().decode(errors="replace")
        except TimeoutError:
            raise KubeError(
                f"{self.server}{path}: no answer within {timeout or self.timeout:.0f} s"
            ) from None
        except (OSError, http.client.HTTPException) as err:
            raise KubeError(f"{self.server}{path}: {err}") from err
        finally:
            conn.close()

    def get(self, path: str) -> Any:
        status, body = self.request(path)
        if status != 200:
            raise KubeError(f"{self.server}{path}: HTTP {status}: {body.strip()[:300]}")
        return json.loads(body)

    def items(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(path).get("items") or []
        return items

    def proxy(
        self, namespace: str, pod: str, pod_port: int, path: str, query: dict[str, str]
    ) -> str:
        """GET through the apiserver's proxy to a pod's port: the pod's answer."""
        suffix = f"?{urlencode(query)}" if query else ""
        status, body = self.request(
            f"/api/v1/namespaces/{namespace}/pods/{pod}:{pod_port}/proxy{path}{suffix}",
            timeout=20,
        )
        if status != 200:
            raise KubeError(f"pod {namespace}/{pod}{path}: HTTP {status}: {body.strip()[:300]}")
        return body


@dataclass(frozen=True)
class ServedCertificate:
    dns_sans: tuple[str, ...]
    ip_sans: tuple[str, ...]
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        return (self.not_after - now).total_seconds() / 86400


def describe(cert: x509.Certificate) -> ServedCertificate:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(sans.get_values_for_type(x509.DNSName))
        ips = tuple(str(a) for a in sans.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = (), ()
    return ServedCertificate(dns, ips, cert.not_valid_after_utc)


def served_certificate(host: str, port: int, timeout: float = 5) -> ServedCertificate:
    """The certificate a TLS server presents (not verified: it is what is checked)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise KubeError(f"{host}:{port} presented no certificate")
    return describe(x509.load_der_x509_certificate(der))

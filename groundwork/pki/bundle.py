"""All PKI material of a cluster in memory, and the one function that completes it.

`ensure_bundle` is the single implementation of "create what is missing,
re-issue what no longer matches": the CLI runs it over files (store.py), the
Pulumi program over resource state (groundwork.pulumi.pki). It never replaces
a CA that exists; a CA that is missing is created, and then every leaf it
should have signed fails the issuer check and is re-issued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from groundwork.pki import x509util as xu
from groundwork.pki.requests import CA_NAMES, CaName, CertificateRequest

# The stem (path under the pki directory, no suffix) of each CA.
CA_STEMS: dict[CaName, str] = {"cluster": "ca", "etcd": "etcd/ca", "front-proxy": "front-proxy-ca"}
SA_STEM = "sa"


@dataclass(frozen=True)
class PkiBundle:
    """stem -> PEM. `certificates` has no entry for "sa"; its public half is separate."""

    certificates: Mapping[str, str] = field(default_factory=dict)
    private_keys: Mapping[str, str] = field(default_factory=dict)
    service_account_public_key: str = ""

    def pair(self, stem: str) -> tuple[str, str]:
        """(cert_pem, key_pem) of one CA or leaf."""
        return self.certificates[stem], self.private_keys[stem]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; also the output shape of the Pulumi Pki resource."""
        return {
            "certificates": dict(sorted(self.certificates.items())),
            "privateKeys": dict(sorted(self.private_keys.items())),
            "serviceAccountPublicKey": self.service_account_public_key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PkiBundle:
        return cls(
            certificates={str(k): str(v) for k, v in dict(data.get("certificates", {})).items()},
            private_keys={str(k): str(v) for k, v in dict(data.get("privateKeys", {})).items()},
            service_account_public_key=str(data.get("serviceAccountPublicKey", "")),
        )


@dataclass(frozen=True)
class Ensured:
    bundle: PkiBundle
    changed: tuple[str, ...]  # stems written anew, in issue order ("sa" for the SA key)
    reasons: Mapping[str, str]  # stem -> why it was (re)created


# The reason given for a leaf that still fitted and was renewed on request.
RENEWED = "renewed on request"


def check_requests(requests: Iterable[CertificateRequest]) -> list[CertificateRequest]:
    """Requests as a list, refusing two that would land on one file."""
    out: list[CertificateRequest] = []
    seen: set[str] = set()
    for request in requests:
        if request.stem in seen:
            raise ValueError(f"two certificate requests for {request.stem!r}")
        seen.add(request.stem)
        out.append(request)
    return out


def ensure_bundle(
    existing: PkiBundle,
    requests: Iterable[CertificateRequest],
    now: datetime | None = None,
    renew: bool = False,
) -> Ensured:
    """The bundle for `requests`: existing material kept wherever it still fits.

    Leaves present in `existing` but no longer requested are dropped from the
    result (the store leaves their files alone; Pulumi forgets them). With
    `renew`, every leaf is issued anew with its key kept (`certs renew`); the
    CAs and the service-account key never are.
    """
    wanted = check_requests(requests)
    now = now or xu.utcnow()
    certs: dict[str, str] = {}
    keys: dict[str, str] = {}
    reasons: dict[str, str] = {}

    cas: dict[CaName, tuple[x509.Certificate, xu.PrivateKey]] = {}
    for ca in CA_NAMES:
        stem = CA_STEMS[ca]
        if stem in existing.certificates:
            if stem not in existing.private_keys:
                raise xu.PkiError(
                    f"{stem}: CA certificate exists without its key; refusing to replace it"
                )
            cert, key = (
                xu.load_cert(existing.certificates[stem]),
                xu.load_key(existing.private_keys[stem]),
            )
            problem = xu.ca_mismatch(cert, key)
            if problem:
                raise xu.PkiError(f"{stem}: {problem}; refusing to replace an existing CA")
            certs[stem], keys[stem] = existing.pair(stem)
        else:
            key = xu.new_key()
            cert = xu.new_ca(ca, key, now)
            certs[stem], keys[stem] = xu.cert_pem(cert), xu.key_pem(key)
            reasons[stem] = "missing"
        cas[ca] = (cert, key)

    sa_pub = existing.service_account_public_key
    if SA_STEM in existing.private_keys:
        sa_key = xu.load_key(existing.private_keys[SA_STEM])
        keys[SA_STEM] = existing.private_keys[SA_STEM]
        if sa_pub.strip() != xu.public_key_pem(sa_key).strip():
            sa_pub = xu.public_key_pem(sa_key)
            reasons[SA_STEM] = "public key did not match the private key"
    else:
        sa_key = xu.new_key()
        keys[SA_STEM], sa_pub = xu.key_pem(sa_key), xu.public_key_pem(sa_key)
        reasons[SA_STEM] = "missing"

    for request in wanted:
        stem = request.stem
        ca_cert, ca_key = cas[request.ca]
        reusable = _reusable_key(existing, stem)
        reason = "missing"
        if reusable is not None and stem in existing.certificates:
            try:
                current = xu.load_cert(existing.certificates[stem])
            except xu.PkiError:
                current = None
            found = (
                xu.mismatch(current, reusable, request, ca_cert, now)
                if current is not None
                else "unreadable certificate"
            )
            if found is None and not renew:
                certs[stem], keys[stem] = existing.pair(stem)
                continue
            reason = found or RENEWED
        # Re-issuing keeps a readable existing key: only the certificate changes.
        key = reusable or xu.new_key()
        certs[stem] = xu.cert_pem(xu.issue(request, key, ca_cert, ca_key, now))
        keys[stem] = xu.key_pem(key)
        reasons[stem] = reason

    bundle = PkiBundle(certs, keys, sa_pub)
    return Ensured(bundle, tuple(reasons), reasons)


def _reusable_key(existing: PkiBundle, stem: str) -> xu.PrivateKey | None:
    pem = existing.private_keys.get(stem)
    if pem is None:
        return None
    try:
        return xu.load_key(pem)
    except xu.PkiError:
        return None

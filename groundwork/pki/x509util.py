"""Certificates and keys with the cryptography library: pure functions, no files.

Key algorithm: ECDSA P-256 for every key Groundwork creates (CAs, leaves and
the service-account signing key). Kubernetes, etcd and Go's TLS stack accept
P-256 everywhere (the apiserver signs service-account tokens with ES256), and
a P-256 key is generated in well under a millisecond where RSA 2048 takes tens
of milliseconds, which matters for a 100-node cluster's kubelet certificates.
Existing RSA keys are still loaded and reused, and get the RSA key usages.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from groundwork.pki.requests import CaName, CertificateRequest, Usage

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=365)
# Start validity a little in the past: a node whose clock lags the machine
# that issued the certificate must not reject it as "not yet valid".
BACKDATE = timedelta(minutes=5)
# A leaf this close to expiry is re-issued by the next run.
RENEW_BEFORE = timedelta(days=30)

CA_COMMON_NAMES: dict[CaName, str] = {
    "cluster": "kubernetes",
    "etcd": "etcd-ca",
    "front-proxy": "front-proxy-ca",
}

_EKU: dict[Usage, x509.ObjectIdentifier] = {
    "server": ExtendedKeyUsageOID.SERVER_AUTH,
    "client": ExtendedKeyUsageOID.CLIENT_AUTH,
}


class PkiError(Exception):
    """PKI material is unusable (a CA certificate without its key, a bad PEM ...)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> str:
    # PKCS#8 ("PRIVATE KEY"): read by Go's tls.X509KeyPair, kube's keyutil and openssl.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def load_key(pem: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as err:
        raise PkiError(f"not a readable unencrypted private key: {err}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PkiError(f"unsupported private key type {type(key).__name__}")
    return key


def load_cert(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as err:
        raise PkiError(f"not a readable certificate: {err}") from None


def new_ca(ca: CaName, key: PrivateKey, now: datetime | None = None) -> x509.Certificate:
    """A self-signed CA that may sign leaves only (pathlen 0)."""
    start = (now or utcnow()) - BACKDATE
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAMES[ca])])
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True, rsa_key=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def issue(
    request: CertificateRequest,
    key: PrivateKey,
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    now: datetime | None = None,
) -> x509.Certificate:
    """Sign a leaf for `request` with `key`'s public half, never outliving its CA."""
    start = (now or utcnow()) - BACKDATE
    end = min(start + LEAF_VALIDITY, ca_cert.not_valid_after_utc)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(request))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(ca=False, rsa_key=isinstance(key, rsa.RSAPrivateKey)), critical=True
        )
        .add_extension(
            x509.ExtendedKeyUsage([_EKU[u] for u in sorted(request.usages)]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    sans = _sans(request)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def mismatch(
    cert: x509.Certificate,
    key: PrivateKey,
    request: CertificateRequest,
    ca_cert: x509.Certificate,
    now: datetime | None = None,
) -> str | None:
    """Why an existing leaf no longer serves `request`, or None if it still does."""
    if cert.subject != _subject(request):
        return "subject changed"
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return "certificate does not match its key"
    if set(_present_sans(cert)) != set(_sans(request)):
        return "SANs changed"
    if _present_ekus(cert) != {_EKU[u] for u in request.usages}:
        return "usages changed"
    if cert.issuer != ca_cert.subject:
        return "issued by another CA"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "not signed by the current CA"
    if cert.not_valid_after_utc - (now or utcnow()) < RENEW_BEFORE:
        return "expires soon"
    return None


def ca_mismatch(cert: x509.Certificate, key: PrivateKey) -> str | None:
    """Why a stored CA cannot be used (it is never replaced: the caller must stop)."""
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return "CA certificate does not match its key"
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "CA certificate has no BasicConstraints"
    if not constraints.ca:
        return "CA certificate is not a CA"
    return None


def _subject(request: CertificateRequest) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in request.organization]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, request.common_name))
    return x509.Name(attributes)


def _key_usage(*, ca: bool, rsa_key: bool) -> x509.KeyUsage:
    # keyEncipherment is for RSA key transport (TLS RSA key exchange); an EC
    # key never encrypts, so EC leaves carry digitalSignature only.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key and not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _sans(request: CertificateRequest) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dict.fromkeys(request.dns_sans)]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in dict.fromkeys(request.ip_sans)]
    return names


def _present_sans(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []


def _present_ekus(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def _public_der(public: object) -> bytes:
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return b""
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )

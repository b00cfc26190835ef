"""groundwork.pki: extensions, chains, file modes, idempotence, re-issue."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from groundwork.pki import (
    CA_VALIDITY,
    LEAF_VALIDITY,
    CertificateRequest,
    Member,
    PkiBundle,
    PkiError,
    control_plane_requests,
    ensure_bundle,
    ensure_pki,
    etcd_requests,
    kubelet_requests,
    load_bundle,
)
from groundwork.pki.bundle import RENEWED

MEMBERS = [Member("cp1", "10.77.0.11"), Member("cp2", "10.77.0.12"), Member("cp3", "10.77.0.13")]
NODES = [*MEMBERS, Member("w1", "10.77.0.21")]
T = TypeVar("T", bound=x509.ExtensionType)
API_DNS = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost", "cp1"]
API_IPS = ["10.96.0.1", "127.0.0.1", "10.77.0.10", "10.77.0.11"]


def all_requests() -> list[CertificateRequest]:
    return [
        *etcd_requests(MEMBERS),
        *control_plane_requests(API_DNS, API_IPS),
        *kubelet_requests(NODES),
    ]


@pytest.fixture(scope="module")
def bundle() -> PkiBundle:
    return ensure_bundle(PkiBundle(), all_requests()).bundle


def cert(bundle: PkiBundle, stem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(bundle.certificates[stem].encode())


def ext(c: x509.Certificate, kind: type[T]) -> T:
    return c.extensions.get_extension_for_class(kind).value


def snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.relative_to(directory).as_posix(): (
            p.read_bytes(),
            p.stat().st_mtime_ns,
            p.stat().st_mode,
        )
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# --- the certificates themselves -------------------------------------------


@pytest.mark.parametrize(
    ("stem", "cn"),
    [("ca", "kubernetes"), ("etcd/ca", "etcd-ca"), ("front-proxy-ca", "front-proxy-ca")],
)
def test_cas_are_pathlen0_signing_cas(bundle: PkiBundle, stem: str, cn: str) -> None:
    ca = cert(bundle, stem)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ext(ca, x509.KeyUsage)
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    assert ext(ca, x509.SubjectKeyIdentifier).digest
    ca.verify_directly_issued_by(ca)  # self-signed
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert lifetime == CA_VALIDITY


def test_etcd_server_certificate(bundle: PkiBundle) -> None:
    leaf = cert(bundle, "etcd/cp2-server")
    sans = ext(leaf, x509.SubjectAlternativeName)
    assert set(sans.get_values_for_type(x509.DNSName)) == {"cp2", "localhost"}
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ip_address("10.77.0.12"),
        ip_address("127.0.0.1"),
    }
    assert set(ext(leaf, x509.ExtendedKeyUsage)) == {
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    assert not ext(leaf, x509.BasicConstraints).ca
    leaf.verify_directly_issued_by(cert(bundle, "etcd/ca"))
    with pytest.raises(ValueError):
        leaf.verify_directly_issued_by(cert(bundle, "ca"))


def test_leaf_extensions(bundle: PkiBundle) -> None:
    for stem in bundle.certificates:
        leaf = cert(bundle, stem)
        if ext(leaf, x509.BasicConstraints).ca:
            continue
        usage = ext(leaf, x509.KeyUsage)
        # EC keys: digitalSignature only (keyEncipherment is RSA key transport).
        assert usage.digital_signature and not usage.key_encipherment
        assert not usage.key_cert_sign
        aki = ext(leaf, x509.AuthorityKeyIdentifier).key_identifier
        issuer = next(
            cert(bundle, s)
            for s in ("ca", "etcd/ca", "front-proxy-ca")
            if cert(bundle, s).subject == leaf.issuer
        )
        assert aki == ext(issuer, x509.SubjectKeyIdentifier).digest
        assert ext(leaf, x509.SubjectKeyIdentifier).digest
        assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == LEAF_VALIDITY


@pytest.mark.parametrize(
    ("stem", "ca", "ekus"),
    [
        ("kube-apiserver", "ca", {ExtendedKeyUsageOID.SERVER_AUTH}),
        ("admin", "ca", {ExtendedKeyUsageOID.CLIENT_AUTH}),
        ("front-proxy-client", "front-proxy-ca", {ExtendedKeyUsageOID.CLIENT_AUTH}),
        ("etcd/apiserver-etcd-client", "etcd/ca", {ExtendedKeyUsageOID.CLIENT_AUTH}),
        ("etcd/healthcheck-client", "etcd/ca", {ExtendedKeyUsageOID.CLIENT_AUTH}),
        ("kubelet-w1", "ca", {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}),
    ],
)
def test_usages_and_chain(
    bundle: PkiBundle, stem: str, ca: str, ekus: set[x509.ObjectIdentifier]
) -> None:
    leaf = cert(bundle, stem)
    assert set(ext(leaf, x509.ExtendedKeyUsage)) == ekus
    leaf.verify_directly_issued_by(cert(bundle, ca))


def test_apiserver_sans_and_subjects(bundle: PkiBundle) -> None:
    sans = ext(cert(bundle, "kube-apiserver"), x509.SubjectAlternativeName)
    assert sans.get_values_for_type(x509.DNSName) == API_DNS
    assert [str(a) for a in sans.get_values_for_type(x509.IPAddress)] == API_IPS
    kubelet = cert(bundle, "kubelet-w1").subject
    assert kubelet.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:w1"
    assert kubelet.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    admin = cert(bundle, "admin").subject
    assert admin.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"


def test_keys_match_certificates_and_sa_pair(bundle: PkiBundle) -> None:
    from cryptography.hazmat.primitives import serialization

    for stem, pem in bundle.certificates.items():
        key = serialization.load_pem_private_key(bundle.private_keys[stem].encode(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert cert(bundle, stem).public_key() == key.public_key()
        assert pem.startswith("-----BEGIN CERTIFICATE-----")
    sa = serialization.load_pem_private_key(bundle.private_keys["sa"].encode(), None)
    assert isinstance(sa, ec.EllipticCurvePrivateKey)
    assert (
        serialization.load_pem_public_key(bundle.service_account_public_key.encode())
        == sa.public_key()
    )


def test_bundle_round_trips(bundle: PkiBundle) -> None:
    again = PkiBundle.from_dict(bundle.to_dict())
    assert again == PkiBundle.from_dict(again.to_dict())
    assert dict(again.certificates) == dict(bundle.certificates)
    assert ensure_bundle(again, all_requests()).changed == ()


def test_request_validation() -> None:
    with pytest.raises(ValueError, match="reserved"):
        CertificateRequest(name="ca", common_name="x")
    with pytest.raises(ValueError, match="reserved"):
        CertificateRequest(name="ca", common_name="x", ca="etcd")
    with pytest.raises(ValueError):
        CertificateRequest(name="x", common_name="x", ip_sans=("10.0.0.300",))
    with pytest.raises(ValueError, match="usages"):
        CertificateRequest(name="x", common_name="x", usages=frozenset())
    with pytest.raises(ValueError, match="two certificate requests"):
        ensure_bundle(PkiBundle(), [CertificateRequest("a", "a"), CertificateRequest("a", "b")])
    request = all_requests()[0]
    assert CertificateRequest.from_dict(request.to_dict()) == request


def test_leaf_near_expiry_is_renewed(bundle: PkiBundle) -> None:
    later = cert(bundle, "admin").not_valid_after_utc - timedelta(days=10)
    ensured = ensure_bundle(bundle, all_requests(), now=later)
    assert "admin" in ensured.changed
    assert "ca" not in ensured.changed  # the CA still has years left


def test_renew_issues_every_leaf_anew_with_its_key_and_keeps_the_cas(bundle: PkiBundle) -> None:
    later = cert(bundle, "admin").not_valid_before_utc + timedelta(days=1)
    ensured = ensure_bundle(bundle, all_requests(), now=later, renew=True)
    leaves = [r.stem for r in all_requests()]
    assert ensured.changed == tuple(leaves)
    assert set(ensured.reasons.values()) == {RENEWED}
    for stem in leaves:
        assert (
            cert(ensured.bundle, stem).not_valid_before_utc
            > cert(bundle, stem).not_valid_before_utc
        )
        assert ensured.bundle.private_keys[stem] == bundle.private_keys[stem]
    for stem in ("ca", "etcd/ca", "front-proxy-ca"):
        assert ensured.bundle.certificates[stem] == bundle.certificates[stem]
    assert ensured.bundle.private_keys["sa"] == bundle.private_keys["sa"]


# --- the store ----------------------------------------------------------------


def test_layout_and_modes(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    expected = {
        "ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub",
        "etcd/ca.crt", "etcd/ca.key", "etcd/cp1-server.crt", "etcd/cp1-server.key",
        "etcd/cp1-peer.crt", "etcd/cp1-peer.key", "etcd/healthcheck-client.crt",
        "etcd/healthcheck-client.key", "etcd/apiserver-etcd-client.crt",
        "etcd/apiserver-etcd-client.key", "kube-apiserver.crt", "kube-apiserver.key",
        "front-proxy-client.crt", "kubelet-w1.key",
    }  # fmt: skip
    files = snapshot(pki)
    assert expected <= set(files)
    for name, (_, _, mode) in files.items():
        want = 0o600 if name.endswith(".key") else 0o644
        assert mode & 0o777 == want, name
    for directory in (pki, pki / "etcd"):
        assert directory.stat().st_mode & 0o777 == 0o700
    assert not [n for n in files if n.rsplit("/", 1)[-1].startswith(".")]  # no temp files left


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    before = snapshot(pki)
    assert ensure_pki(pki, all_requests()).changed == ()
    assert snapshot(pki) == before


def test_changed_san_reissues_only_that_leaf(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    before = snapshot(pki)
    requests = [
        replace(r, ip_sans=(*r.ip_sans, "10.77.0.99")) if r.name == "kube-apiserver" else r
        for r in all_requests()
    ]
    ensured = ensure_pki(pki, requests)
    assert ensured.changed == ("kube-apiserver",)
    assert ensured.reasons["kube-apiserver"] == "SANs changed"
    after = snapshot(pki)
    assert {n for n in after if after[n] != before[n]} == {"kube-apiserver.crt"}  # key reused
    new = x509.load_pem_x509_certificate(after["kube-apiserver.crt"][0])
    ips = ext(new, x509.SubjectAlternativeName).get_values_for_type(x509.IPAddress)
    assert ip_address("10.77.0.99") in ips


def test_changed_usage_and_new_member(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    requests = [
        replace(r, usages=frozenset({"server", "client"})) if r.name == "admin" else r
        for r in all_requests()
    ]
    requests += etcd_requests([Member("cp4", "10.77.0.14")])[:2]
    ensured = ensure_pki(pki, requests)
    assert set(ensured.changed) == {"admin", "etcd/cp4-server", "etcd/cp4-peer"}


def test_existing_ca_is_never_replaced(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    ca = (pki / "ca.crt").read_bytes()
    (pki / "ca.key").unlink()
    with pytest.raises(PkiError, match="refusing"):
        ensure_pki(pki, all_requests())
    assert (pki / "ca.crt").read_bytes() == ca


def test_missing_ca_is_created_and_its_leaves_reissued(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    shutil.rmtree(pki / "etcd")
    (pki / "front-proxy-ca.crt").unlink()
    ensured = ensure_pki(pki, all_requests())
    assert "front-proxy-ca" in ensured.changed and "front-proxy-client" in ensured.changed
    assert "ca" not in ensured.changed and "kube-apiserver" not in ensured.changed
    bundle = load_bundle(pki)
    cert(bundle, "front-proxy-client").verify_directly_issued_by(cert(bundle, "front-proxy-ca"))
    assert (pki / "etcd").stat().st_mode & 0o777 == 0o700


def test_modes_are_repaired_without_rewriting(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    key = pki / "admin.key"
    key.chmod(0o644)
    mtime = key.stat().st_mtime_ns
    ensure_pki(pki, all_requests())
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.stat().st_mtime_ns == mtime


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_verifies_leaves(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    ensure_pki(pki, all_requests())
    for ca, leaf, purpose in [
        ("ca.crt", "kube-apiserver.crt", "sslserver"),
        ("ca.crt", "kubelet-w1.crt", "sslclient"),
        ("etcd/ca.crt", "etcd/cp1-peer.crt", "sslserver"),
        ("etcd/ca.crt", "etcd/apiserver-etcd-client.crt", "sslclient"),
        ("front-proxy-ca.crt", "front-proxy-client.crt", "sslclient"),
    ]:
        result = subprocess.run(
            ["openssl", "verify", "-purpose", purpose, "-CAfile", pki / ca, pki / leaf],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
        assert result.returncode == 0, result.stdout + result.stderr
    wrong = subprocess.run(
        ["openssl", "verify", "-CAfile", pki / "ca.crt", pki / "etcd/cp1-server.crt"],
        capture_output=True,
        check=False,
    )
    assert wrong.returncode != 0


def test_bundle_from_pulumi_state_is_what_the_cli_then_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Pulumi path writes its PKI state to the stack's PKI directory before
    the roles run; the CLI's ensure_pki must then find everything and change
    nothing, so both front doors install one and the same CA."""
    from groundwork.pki import pki_dir
    from groundwork.pulumi.nodes import _install_pki
    from groundwork.spec import load_stack

    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    spec = load_stack("lab")
    from groundwork.plan import build_plan

    requests = list(build_plan(spec).certificates)
    held = ensure_bundle(PkiBundle(), requests).bundle  # as the Pki resource holds it
    _install_pki(spec, {"pki": held.to_dict()})
    directory = pki_dir("lab")
    assert (directory / "ca.crt").read_text() == held.certificates["ca"]
    assert (directory / "ca.key").stat().st_mode & 0o777 == 0o600
    before = snapshot(directory)
    assert not ensure_pki(directory, requests).changed
    assert snapshot(directory) == before

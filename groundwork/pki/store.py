"""The CLI's PKI on disk under `state_dir(stack)/pki/`; layout other roles rely on.

    ca.crt ca.key                      front-proxy-ca.crt front-proxy-ca.key
    sa.key sa.pub                      etcd/ca.crt etcd/ca.key
    etcd/<member>-server.crt/.key      etcd/<member>-peer.crt/.key
    etcd/healthcheck-client.crt/.key   etcd/apiserver-etcd-client.crt/.key
    <name>.crt/.key                    every other leaf (request.stem)

Directories 0700, private keys 0600, certificates and sa.pub 0644. A file is
only written when its bytes change, so a re-run leaves every mtime alone and
the Ansible roles that copy these files report changed=0.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from groundwork import paths
from groundwork.pki.bundle import CA_STEMS, SA_STEM, Ensured, PkiBundle, ensure_bundle
from groundwork.pki.requests import CertificateRequest
from groundwork.pki.x509util import PkiError

DIR_MODE = 0o700
KEY_MODE = 0o600
CERT_MODE = 0o644


def pki_dir(stack: str) -> Path:
    return paths.state_dir(stack) / "pki"


def load_bundle(directory: Path) -> PkiBundle:
    """Whatever material exists under `directory` (missing files are simply absent)."""
    certs: dict[str, str] = {}
    keys: dict[str, str] = {}
    if directory.is_dir():
        for path in sorted(directory.rglob("*.crt")):
            certs[_stem(directory, path)] = path.read_text()
        for path in sorted(directory.rglob("*.key")):
            keys[_stem(directory, path)] = path.read_text()
    # A CA key without its certificate: a run died between the two writes
    # (the key is written first). Nothing can trust that CA, so drop the key
    # and let ensure_bundle create the CA anew; a certificate without its
    # key, on the other hand, is refused by ensure_bundle.
    for stem in CA_STEMS.values():
        if stem in keys and stem not in certs:
            del keys[stem]
    sa_pub = directory / f"{SA_STEM}.pub"
    return PkiBundle(certs, keys, sa_pub.read_text() if sa_pub.is_file() else "")


def ensure_pki(
    directory: Path, requests: Iterable[CertificateRequest], renew: bool = False
) -> Ensured:
    """Create what is missing under `directory`, re-issue leaves that no longer
    match (every leaf, with `renew`).

    Returns what changed and why; an empty `changed` means no file was touched.
    Raises PkiError if an existing CA cannot be used (it is never replaced).
    """
    ensured = ensure_bundle(load_bundle(directory), requests, renew=renew)
    write_bundle(directory, ensured.bundle)
    return ensured


def write_bundle(directory: Path, bundle: PkiBundle) -> None:
    """Lay a bundle out as files (the Pulumi path hands its state to the roles
    this way); a file whose bytes are unchanged is not touched."""
    _make_dir(directory)
    # Keys before certificates: a certificate on disk always has its key.
    for stem, pem in bundle.private_keys.items():
        _write(directory, f"{stem}.key", pem, KEY_MODE)
    _write(directory, f"{SA_STEM}.pub", bundle.service_account_public_key, CERT_MODE)
    for stem, pem in bundle.certificates.items():
        _write(directory, f"{stem}.crt", pem, CERT_MODE)


def _stem(directory: Path, path: Path) -> str:
    return path.relative_to(directory).with_suffix("").as_posix()


def _make_dir(path: Path) -> None:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)


def _write(directory: Path, relative: str, content: str, mode: int) -> None:
    path = directory / relative
    _make_dir(path.parent)
    if path.is_file() and path.read_text() == content:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)  # repairs the mode without touching bytes or mtime
        return
    # Write a private temp file (mkstemp creates it 0600, so a key is never
    # readable by others even for a moment), then rename over the target.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["PkiError", "ensure_pki", "load_bundle", "pki_dir"]

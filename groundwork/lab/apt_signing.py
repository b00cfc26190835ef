"""The key that signs the lab mirror's apt repository, and the signing.

apt trusts a repository only through a signed index (InRelease): nodes name
the key that may sign it (`signed-by=`) rather than trusting the source
outright. The lab makes its own key once per host: ed25519, signing only,
with no passphrase, in a root-only GnuPG home under the host cache; it signs
nothing but the lab mirror's index. Its public half is what the nodes get
(KEYRING_ON_NODES), through the lab's machine set-up and the common role.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from groundwork.lab.errors import LabError

KEY_DIR = "apt-signing"
PUBLIC_KEY_FILE = "mirror.asc"
USER_ID = "Groundwork lab mirror <lab-mirror@groundwork.invalid>"
# Where the nodes keep it; an armored key needs the .asc name for apt.
KEYRING_ON_NODES = "/etc/apt/keyrings/groundwork-mirror.asc"
# Beside the signed index: which key signed it (a new key signs it again).
SIGNER_FILE = "InRelease.signer"


@dataclass(frozen=True)
class SigningKey:
    home: Path  # the GnuPG home holding the secret key
    fingerprint: str
    armored: str  # the public key, ASCII-armored


def _gpg(home: Path, *args: str) -> str:
    argv = ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise LabError("gpg is missing: install Debian's gpg (scripts/host-packages.txt)") from None
    if done.returncode != 0:
        raise LabError(f"gpg {' '.join(args[:3])}: {done.stderr.strip()[-500:]}")
    return done.stdout


def secret_fingerprint(colons: str) -> str | None:
    """The first secret key's fingerprint in `gpg --with-colons` output (pure)."""
    seen_secret = False
    for line in colons.splitlines():
        fields = line.split(":")
        if fields[0] == "sec":
            seen_secret = True
        elif fields[0] == "fpr" and seen_secret and len(fields) > 9:
            return fields[9]
    return None


def ensure_key(cache: Path) -> SigningKey:
    """The lab's signing key, made on first use."""
    home = cache / KEY_DIR
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)  # GnuPG refuses a home others can read
    fingerprint = secret_fingerprint(_gpg(home, "--with-colons", "--list-secret-keys"))
    if fingerprint is None:
        _gpg(
            home,
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            USER_ID,
            "ed25519",
            "sign",
            "never",
        )
        fingerprint = secret_fingerprint(_gpg(home, "--with-colons", "--list-secret-keys"))
        if fingerprint is None:
            raise LabError(f"gpg made no key in {home}")
    armored = _gpg(home, "--armor", "--export", fingerprint)
    public = home / PUBLIC_KEY_FILE
    if not public.exists() or public.read_text() != armored:
        public.write_text(armored)
    return SigningKey(home, fingerprint, armored)


def public_key(cache: Path) -> str:
    """The public key the lab's `lab up` made (the inventory reads it)."""
    path = cache / KEY_DIR / PUBLIC_KEY_FILE
    try:
        return path.read_text()
    except OSError:
        raise LabError(
            f"no signing key for the lab's apt repository at {path}: run `groundwork lab up`"
        ) from None


def sign(apt_repo: Path, key: SigningKey) -> bool:
    """Sign the repository's Release into InRelease; False when this key already did."""
    signer = apt_repo / SIGNER_FILE
    signed = apt_repo / "InRelease"
    if signed.exists() and signer.exists() and signer.read_text().strip() == key.fingerprint:
        return False
    partial = apt_repo / "InRelease.partial"
    _gpg(
        key.home,
        "--yes",
        "--local-user",
        key.fingerprint,
        "--digest-algo",
        "SHA512",
        "--clearsign",
        "--output",
        str(partial),
        str(apt_repo / "Release"),
    )
    partial.chmod(0o644)
    partial.replace(signed)
    signer.write_text(key.fingerprint + "\n")
    return True


def source_line(mirror_url: str, apt_dir: str) -> str:
    """The nodes' apt source for the lab mirror: trusted through its key only."""
    return f"deb [signed-by={KEYRING_ON_NODES}] {mirror_url.rstrip('/')}/{apt_dir} ./"

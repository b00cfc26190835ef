"""The lab mirror's apt signing (groundwork/lab/apt_signing.py), with the real
gpg and apt's own verifier (gpgv) on a throwaway key and repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from groundwork.lab import apt_signing

COLONS = """sec:u:255:22:AAAA:1764990000:::u:::scSC:::+:::ed25519:::0:
fpr:::::::::0123456789ABCDEF0123456789ABCDEF01234567:
grp:::::::::FFFF:
uid:u::::1764990000::HASH::Groundwork lab mirror <lab-mirror@groundwork.invalid>::::::::::0:
"""


def test_the_secret_keys_fingerprint_is_read_from_gpgs_colon_listing() -> None:
    assert apt_signing.secret_fingerprint(COLONS) == "0123456789ABCDEF0123456789ABCDEF01234567"
    assert apt_signing.secret_fingerprint("") is None


def test_the_index_is_signed_once_per_key_and_gpgv_accepts_it(tmp_path: Path) -> None:
    cache, repo = tmp_path / "cache", tmp_path / "repo"
    repo.mkdir()
    (repo / "Release").write_text("Origin: groundwork-lab\nSHA256:\n abc 1 Packages\n")
    key = apt_signing.ensure_key(cache)
    assert (cache / apt_signing.KEY_DIR).stat().st_mode & 0o777 == 0o700
    assert key.armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert apt_signing.public_key(cache) == key.armored
    # The same key on the next run: no second key is made.
    assert apt_signing.ensure_key(cache).fingerprint == key.fingerprint
    assert apt_signing.sign(repo, key) is True
    assert apt_signing.sign(repo, key) is False
    # apt verifies InRelease with gpgv against the signed-by keyring.
    keyring = tmp_path / "keyring.gpg"
    subprocess.run(
        ["gpg", "--dearmor", "--output", str(keyring)], input=key.armored.encode(), check=True
    )
    verified = subprocess.run(
        ["gpgv", "--keyring", str(keyring), str(repo / "InRelease")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    # A changed index with the old signature fails, as apt would refuse it.
    tampered = (repo / "InRelease").read_text().replace("abc 1 Packages", "abd 1 Packages")
    (repo / "InRelease").write_text(tampered)
    refused = subprocess.run(
        ["gpgv", "--keyring", str(keyring), str(repo / "InRelease")],
        capture_output=True,
        check=False,
    )
    assert refused.returncode != 0


def test_the_source_line_trusts_the_key_only() -> None:
    line = apt_signing.source_line("http://10.77.0.1:8080/", "debian")
    assert line == (
        "deb [signed-by=/etc/apt/keyrings/groundwork-mirror.asc] http://10.77.0.1:8080/debian ./"
    )

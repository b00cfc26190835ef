"""etcd snapshots as files an operator can keep: encrypted, checksummed, 0600.

A snapshot holds every object of the cluster, Secrets included (encrypted at
rest by the apiserver, but with a key the same machines hold). So the file
Groundwork writes is encrypted with a key of the stack's own, kept beside
its PKI in the state directory (0600), never inside the snapshot file:

    GWETCD1\\n
    <header: one JSON line: stack, member, taken, revision, size and sha256
     of the plain snapshot, chunk size, nonce prefix>\\n
    <chunks: 4-byte big-endian length + AES-256-GCM ciphertext with its tag>

Each chunk's nonce is the header's 8-byte prefix and the chunk's 4-byte
number; its associated data is the header line and whether it is the last
chunk. A reordered, cut or appended chunk, or a changed header, fails to
decrypt: a truncated file is never restored as a smaller cluster. The
sha256 of the plain snapshot is checked again after decryption, and
`etcdutl snapshot status` reads it before any member is touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from groundwork.paths import state_dir

MAGIC = b"GWETCD1\n"
CHUNK = 1 << 20
KEY_FILE = "etcd-snapshot.key"
_LENGTH = struct.Struct(">I")


class SnapshotError(Exception):
    """The snapshot file cannot be used; the message says why."""


@dataclass(frozen=True)
class Header:
    stack: str
    member: str  # the member it was taken from
    taken: str  # UTC, RFC 3339
    revision: int  # etcd's revision at the snapshot
    size: int  # bytes of the plain snapshot
    sha256: str  # of the plain snapshot
    chunk: int
    nonce_prefix: str  # hex, 8 bytes

    def line(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode() + b"\n"


def key_path(stack: str) -> Path:
    return state_dir(stack) / "secrets" / KEY_FILE


def snapshot_key(stack: str, create: bool) -> bytes:
    """The stack's snapshot key (32 bytes), made on the first snapshot."""
    path = key_path(stack)
    if path.exists():
        key = path.read_bytes()
        if len(key) != 32:
            raise SnapshotError(f"{path}: not a snapshot key (32 bytes)")
        return key
    if not create:
        raise SnapshotError(
            f"no snapshot key at {path}: a snapshot is restored with the key of the stack "
            "that took it (copy that stack's key there, 0600)"
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def default_snapshot_path(stack: str) -> Path:
    directory = state_dir(stack) / "etcd-snapshots"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory / f"{stack}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.db.gwenc"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _nonce(prefix: bytes, number: int) -> bytes:
    return prefix + struct.pack(">I", number)


def _aad(header: bytes, last: bool) -> bytes:
    return header + (b"\x01" if last else b"\x00")


def _chunks(f: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """The file's chunks, each with whether it is the last (an empty file is one)."""
    current = f.read(size)
    while True:
        following = f.read(size)
        yield current, not following
        if not following:
            return
        current = following


def encrypt(plain: Path, dest: Path, key: bytes, header: Header) -> str:
    """Write `plain` encrypted to `dest` (0600, atomically); its sha256."""
    aead = AESGCM(key)
    line = header.line()
    prefix = bytes.fromhex(header.nonce_prefix)
    tmp = dest.with_name(f".{dest.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, plain.open("rb") as f:
        out.write(MAGIC + line)
        for number, (chunk, last) in enumerate(_chunks(f, header.chunk)):
            sealed = aead.encrypt(_nonce(prefix, number), chunk, _aad(line, last))
            out.write(_LENGTH.pack(len(sealed)) + sealed)
    tmp.replace(dest)
    return sha256_file(dest)


def new_header(stack: str, member: str, revision: int, plain: Path) -> Header:
    return Header(
        stack=stack,
        member=member,
        taken=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        revision=revision,
        size=plain.stat().st_size,
        sha256=sha256_file(plain),
        chunk=CHUNK,
        nonce_prefix=secrets.token_bytes(8).hex(),
    )


def read_header(path: Path) -> Header:
    with path.open("rb") as f:
        return _read_header(f, path)


def _read_header(f: BinaryIO, path: Path) -> Header:
    if f.read(len(MAGIC)) != MAGIC:
        raise SnapshotError(f"{path}: not a Groundwork etcd snapshot (no {MAGIC!r} header)")
    try:
        return Header(**json.loads(f.readline()))
    except (ValueError, TypeError) as err:
        raise SnapshotError(f"{path}: unreadable header: {err}") from None


def decrypt(path: Path, dest: Path, key: bytes) -> Header:
    """Write the plain snapshot of `path` to `dest` (0600); checks every chunk,
    the end of the file and the plain sha256."""
    aead = AESGCM(key)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        header = _read_header(f, path)
        line = header.line()
        prefix = bytes.fromhex(header.nonce_prefix)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            number, ended = 0, False
            while True:
                length = f.read(_LENGTH.size)
                if not length:
                    break
                if ended:
                    raise SnapshotError(f"{path}: data after the last chunk")
                sealed = f.read(_LENGTH.unpack(length)[0])
                plain = None
                for last in (False, True):
                    try:
                        plain = aead.decrypt(_nonce(prefix, number), sealed, _aad(line, last))
                    except InvalidTag:
                        continue
                    ended = last
                    break
                if plain is None:
                    raise SnapshotError(
                        f"{path}: chunk {number} does not decrypt: a changed or damaged "
                        "file, or another stack's key"
                    )
                digest.update(plain)
                out.write(plain)
                number += 1
    if not ended:
        raise SnapshotError(f"{path}: cut short (its last chunk is missing)")
    if digest.hexdigest() != header.sha256:
        raise SnapshotError(f"{path}: the decrypted snapshot's sha256 differs from its header's")
    return header

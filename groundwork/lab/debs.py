"""Lab mirror only: .deb files whose data is gzip- instead of xz-compressed.

Five to fifteen lab machines install their packages at once on the host's
few cores, and xz decompression was a third of each machine's install CPU
(1.6 CPU-s for containerd alone; gzip takes 0.3). Real hosts have their own
cores and install Debian's files as published. Only the compression of the
`data.tar` member changes: its tar stream, the control member and so every
installed file, mode and maintainer script are byte-for-byte Debian's.
The lab's apt repository is indexed after this (dpkg-scanpackages), so apt
checks the re-compressed files' own checksums.

A .deb is an `ar` archive: debian-binary, control.tar.*, data.tar.*, in
that order (deb(5)); read and written here without binutils.
"""

from __future__ import annotations

import gzip
import lzma
from dataclasses import dataclass
from pathlib import Path

AR_MAGIC = b"!<arch>\n"
HEADER_SIZE = 60


@dataclass(frozen=True)
class Member:
    header: bytes  # the 60-byte ar header as read (name, mtime, owner, mode)
    data: bytes

    @property
    def name(self) -> str:
        return self.header[:16].decode().strip().rstrip("/")


def read_ar(archive: bytes) -> list[Member]:
    if not archive.startswith(AR_MAGIC):
        raise ValueError("not an ar archive")
    members = []
    offset = len(AR_MAGIC)
    while offset < len(archive):
        header = archive[offset : offset + HEADER_SIZE]
        if len(header) < HEADER_SIZE or header[58:60] != b"`\n":
            raise ValueError(f"bad ar member header at byte {offset}")
        size = int(header[48:58].decode().strip())
        start = offset + HEADER_SIZE
        members.append(Member(header, archive[start : start + size]))
        offset = start + size + (size % 2)  # members are 2-byte aligned
    return members


def write_ar(members: list[Member]) -> bytes:
    out = bytearray(AR_MAGIC)
    for member in members:
        out += member.header[:48] + f"{len(member.data):<10d}".encode() + b"`\n"
        out += member.data
        if len(member.data) % 2:
            out += b"\n"
    return bytes(out)


def with_gzip_data(deb: bytes) -> bytes | None:
    """The .deb with its data.tar.xz as data.tar.gz; None when it has none."""
    members = read_ar(deb)
    out = []
    changed = False
    for member in members:
        if member.name == "data.tar.xz":
            tar = lzma.decompress(member.data)
            name = "data.tar.gz".ljust(16).encode()
            member = Member(name + member.header[16:], gzip.compress(tar, 1, mtime=0))
            changed = True
        out.append(member)
    return write_ar(out) if changed else None


def regzip(path: Path) -> bool:
    """Rewrite one .deb in place (atomically); True when it changed."""
    new = with_gzip_data(path.read_bytes())
    if new is None:
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(new)
    tmp.replace(path)
    return True

"""Lab mirror only: .deb files whose data is stored uncompressed instead of xz.

Five to fifteen lab machines install their packages at once on the host's
few cores, and decompression was a third of each machine's install CPU:
unpacking containerd took 1.6 CPU-s from xz, 0.7 from gzip and 0.35 from a
plain `data.tar` (the mirror is on the same host: the extra bytes cost a
copy, not a network). Real hosts have their own cores and install Debian's files as
published. Only the compression of the `data.tar` member changes: its tar
stream, the control member and so every installed file, mode and maintainer
script are byte-for-byte Debian's. The lab's apt repository is indexed
after this (dpkg-scanpackages), so apt checks the rewritten files' own
checksums.

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


# The compressed data members Debian ships (deb(5)) and how to read them.
_DECOMPRESS = {"data.tar.xz": lzma.decompress, "data.tar.gz": gzip.decompress}
PLAIN_DATA = "data.tar"


def with_plain_data(deb: bytes) -> bytes | None:
    """The .deb with its compressed data.tar.* stored as a plain data.tar;
    None when its data is plain already (or in a compression not handled)."""
    members = read_ar(deb)
    out = []
    changed = False
    for member in members:
        decompress = _DECOMPRESS.get(member.name)
        if decompress is not None:
            name = PLAIN_DATA.ljust(16).encode()
            member = Member(name + member.header[16:], decompress(member.data))
            changed = True
        out.append(member)
    return write_ar(out) if changed else None


def store_plain(path: Path) -> bool:
    """Rewrite one .deb in place (atomically); True when it changed."""
    new = with_plain_data(path.read_bytes())
    if new is None:
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(new)
    tmp.replace(path)
    return True

"""The lab mirror's .deb rewriting (groundwork/lab/debs.py): the files a
package installs stay byte-for-byte what Debian published."""

from __future__ import annotations

import gzip
import io
import lzma
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from groundwork.lab.debs import AR_MAGIC, Member, read_ar, store_plain, with_plain_data, write_ar


def header(name: str) -> bytes:
    # name, mtime, uid, gid, mode; size and magic are written by write_ar.
    return f"{name:<16}{1700000000:<12}{0:<6}{0:<6}{'100644':<8}{0:<10}`\n".encode()


def tar_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o4755, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def a_deb(data_tar: bytes, data_member: str = "data.tar.xz") -> bytes:
    control = tar_of({"./control": b"Package: gw-test\nVersion: 1\nArchitecture: all\n"})
    compressors: dict[str, Callable[[bytes], bytes]] = {".xz": lzma.compress, ".gz": gzip.compress}
    compress = compressors.get(Path(data_member).suffix)
    data = compress(data_tar) if compress else data_tar
    return write_ar(
        [
            Member(header("debian-binary"), b"2.0\n"),
            Member(header("control.tar.xz"), lzma.compress(control)),
            Member(header(data_member), data),
        ]
    )


@pytest.mark.parametrize("data_member", ["data.tar.xz", "data.tar.gz"])
def test_data_is_stored_plain_and_its_tar_stream_is_unchanged(data_member: str) -> None:
    # An odd-sized payload checks the ar padding both ways.
    data_tar = tar_of({"./usr/bin/tool": b"\x7fELF" + bytes(range(256)) * 7 + b"x"})
    deb = a_deb(data_tar, data_member)
    new = with_plain_data(deb)
    assert new is not None and new.startswith(AR_MAGIC)
    before, after = read_ar(deb), read_ar(new)
    assert [m.name for m in after] == ["debian-binary", "control.tar.xz", "data.tar"]
    assert after[2].data == data_tar
    # Everything else is the same bytes, headers included (mtime, owner, mode).
    assert [(m.header, m.data) for m in after[:2]] == [(m.header, m.data) for m in before[:2]]
    assert after[2].header[16:48] == before[2].header[16:48]


def test_a_deb_with_plain_data_is_left_alone(tmp_path: Path) -> None:
    deb = tmp_path / "gw-test.deb"
    deb.write_bytes(a_deb(tar_of({"./etc/x": b"1"}), "data.tar"))
    assert with_plain_data(deb.read_bytes()) is None
    assert store_plain(deb) is False


def test_not_an_archive_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ar archive"):
        read_ar(b"PK\x03\x04")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is Debian's own reader")
def test_dpkg_reads_the_rewritten_package(tmp_path: Path) -> None:
    data_tar = tar_of({"./usr/bin/tool": b"#!/bin/sh\necho hi\n"})
    deb = tmp_path / "gw-test.deb"
    deb.write_bytes(a_deb(data_tar))
    assert store_plain(deb) is True
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package"], capture_output=True)
    assert info.stdout.decode().strip() == "gw-test"
    fsys = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True)
    assert fsys.stdout == data_tar

"""etcd snapshot files: encrypted with the stack's key, 0600, and refused
whole when changed, cut, extended, or read with another key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from groundwork.etcd_backup import (
    MAGIC,
    SnapshotError,
    decrypt,
    encrypt,
    key_path,
    new_header,
    read_header,
    snapshot_key,
)
from groundwork.phases import ETCD_RESTORE, ETCD_SNAPSHOT
from groundwork.phases.etcd_restore import restore_token


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path / "state"))


def _snapshot(tmp_path: Path, size: int) -> tuple[Path, Path, bytes]:
    plain = tmp_path / "plain.db"
    data = os.urandom(size)
    plain.write_bytes(data)
    dest = tmp_path / "lab.db.gwenc"
    header = new_header("lab", "cp1", 42, plain)
    encrypt(plain, dest, snapshot_key("lab", create=True), header)
    return plain, dest, data


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (3 << 20) + 5])
def test_a_snapshot_comes_back_byte_for_byte(tmp_path: Path, size: int) -> None:
    _, dest, data = _snapshot(tmp_path, size)
    assert dest.stat().st_mode & 0o777 == 0o600
    out = tmp_path / "out.db"
    header = decrypt(dest, out, snapshot_key("lab", create=False))
    assert out.read_bytes() == data
    assert (header.stack, header.member, header.revision, header.size) == ("lab", "cp1", 42, size)
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_key_is_made_once_0600_and_kept(tmp_path: Path) -> None:
    key = snapshot_key("lab", create=True)
    assert snapshot_key("lab", create=True) == key
    assert key_path("lab").stat().st_mode & 0o777 == 0o600
    with pytest.raises(SnapshotError, match=r"no snapshot key at .*copy that stack's key"):
        snapshot_key("other", create=False)


def test_the_plain_snapshot_is_not_in_the_file(tmp_path: Path) -> None:
    _, dest, data = _snapshot(tmp_path, 4096)
    assert data[:64] not in dest.read_bytes()


def _damaged(dest: Path, change: str) -> None:
    raw = bytearray(dest.read_bytes())
    if change == "flip":
        raw[-100] ^= 1
    elif change == "cut":
        raw = raw[: len(raw) - (1 << 20) // 2]
    elif change == "cut-last-chunk":
        head = raw.index(b"\n", len(MAGIC)) + 1
        first = int.from_bytes(raw[head : head + 4], "big")
        raw = raw[: head + 4 + first]
    elif change == "append":
        raw += raw[-64:]
    elif change == "header":
        raw = raw.replace(b'"revision": 42', b'"revision": 43', 1)
    dest.write_bytes(bytes(raw))


@pytest.mark.parametrize("change", ["flip", "cut", "cut-last-chunk", "append", "header"])
def test_a_changed_file_is_refused(tmp_path: Path, change: str) -> None:
    _, dest, _ = _snapshot(tmp_path, (2 << 20) + 10)
    _damaged(dest, change)
    with pytest.raises(SnapshotError):
        decrypt(dest, tmp_path / "out.db", snapshot_key("lab", create=False))


def test_another_key_is_refused(tmp_path: Path) -> None:
    _, dest, _ = _snapshot(tmp_path, 100)
    with pytest.raises(SnapshotError, match="another stack's key"):
        decrypt(dest, tmp_path / "out.db", b"\x00" * 32)


def test_a_file_that_is_no_snapshot_is_named(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(SnapshotError, match="not a Groundwork etcd snapshot"):
        read_header(other)


def test_a_restore_gets_a_new_cluster_token() -> None:
    token = restore_token("lab-etcd-0123456789ab", "20261205T210252Z")
    assert token != "lab-etcd-0123456789ab" and token.startswith("lab-etcd-0123456789ab")


def test_the_pipelines_render_the_inventory_first_and_a_restore_ends_verified() -> None:
    assert [p.name for p in ETCD_SNAPSHOT.phases] == ["inventory", "etcd-snapshot"]
    assert [p.name for p in ETCD_RESTORE.phases] == ["inventory", "etcd-restore", "verify"]

"""One lab's mirror site: the served tree, its index.json, and the server process.

The served tree lives in the lab's state dir and is made of symlinks into the
host cache (cheap to rebuild on every `up`) plus copies of user-supplied
Kubernetes binaries. index.json is what the roles read to find artifacts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundwork import versions
from groundwork.build.run import sha256_file
from groundwork.lab import apt_signing
from groundwork.lab.artifacts import SERVER_BINARIES, CheckedArtifact
from groundwork.lab.errors import LabError
from groundwork.lab.layout import LabLayout, lab_state_dir
from groundwork.lab.mirror import APT_DIR, RELEASES_INDEX, MirrorContent
from groundwork.lab.nodes import port_open
from groundwork.lab.packages import MIRROR_PACKAGES

INDEX = "index.json"


@dataclass(frozen=True)
class Entry:
    name: str
    version: str
    path: str
    sha256: str


def apt_source_line(mirror_url: str) -> str:
    """The apt source of the mirror's repository: its index is signed by the
    lab's key (groundwork/lab/apt_signing.py), which the nodes hold."""
    return apt_signing.source_line(mirror_url, APT_DIR)


def build_index(mirror_url: str, entries: Iterable[Entry]) -> dict[str, Any]:
    """index.json: where every artifact is and its sha256 (pure)."""
    artifacts = {
        e.name: {
            "version": e.version,
            "path": e.path,
            "url": f"{mirror_url}/{e.path}",
            "sha256": e.sha256,
        }
        for e in sorted(entries, key=lambda e: e.name)
    }
    missing = [b for b in SERVER_BINARIES if b not in artifacts]
    return {
        "mirror": mirror_url,
        "apt": {"source": apt_source_line(mirror_url), "packages": sorted(MIRROR_PACKAGES)},
        "artifacts": artifacts,
        "kubernetes": {"available": not missing, "missing": missing},
    }


def site_root(stack: str) -> Path:
    return lab_state_dir(stack) / "mirror"


def release_entries(releases: Path) -> list[Entry]:
    """The cached release files, as the release tree lists them."""
    listed = json.loads((releases / RELEASES_INDEX).read_text())
    return [Entry(e["name"], e["version"], e["path"], e["sha256"]) for e in listed]


def build_site(
    lab: LabLayout, content: MirrorContent, user: Iterable[CheckedArtifact]
) -> dict[str, Any]:
    """(Re)build the served tree atomically and return its index."""
    root = site_root(lab.stack)
    tmp = root.with_name("mirror.new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o755)
    (tmp / APT_DIR).symlink_to(content.apt_repo)
    entries = {e.name: e for e in release_entries(content.releases)}
    for entry in entries.values():
        link = tmp / entry.path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(content.releases / entry.path)
        (link.parent / f"{link.name}.sha256").symlink_to(content.releases / f"{entry.path}.sha256")
    for art in user:
        dest = tmp / art.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.unlink(missing_ok=True)
        shutil.copyfile(art.source, dest)
        dest.chmod(0o755)
        sha = tmp / f"{art.path}.sha256"
        sha.unlink(missing_ok=True)
        sha.write_text(f"{art.sha256}  {dest.name}\n")
        entries[art.component] = Entry(art.component, art.version, art.path, art.sha256)
    index = build_index(lab.mirror_url, entries.values())
    (tmp / INDEX).write_text(json.dumps(index, indent=2) + "\n")
    old = root.with_name("mirror.old")
    shutil.rmtree(old, ignore_errors=True)
    if root.exists():
        root.replace(old)
    tmp.replace(root)
    shutil.rmtree(old, ignore_errors=True)
    return index


def export_site(dest: Path, mirror_url: str, content: MirrorContent) -> dict[str, Any]:
    """A site's own mirror in `dest`, for any web server at `mirror_url`: the
    apt repository the roles need, the built components as upstream's release
    files with their .sha256, and index.json; copies, not links. Replaces
    what an earlier export left there."""
    if dest.exists() and any(dest.iterdir()) and not (dest / INDEX).exists():
        raise LabError(f"{dest} is not empty and holds no earlier export (no {INDEX}): refusing")
    tmp = dest.with_name(f".{dest.name}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o755, parents=True)
    shutil.copytree(content.apt_repo, tmp / APT_DIR)
    entries = release_entries(content.releases)
    for entry in entries:
        target = tmp / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(content.releases / entry.path, target)
        shutil.copyfile(content.releases / f"{entry.path}.sha256", f"{target}.sha256")
    index = build_index(mirror_url.rstrip("/"), entries)
    (tmp / INDEX).write_text(json.dumps(index, indent=2) + "\n")
    tmp.chmod(0o755)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    return index


def is_current(stack: str, content: MirrorContent) -> bool:
    """Does the served tree point at the current cache (it is rebuilt when not)?"""
    root = site_root(stack)
    try:
        apt_target = (root / APT_DIR).readlink()
    except OSError:
        return False
    links = [p for p in root.rglob("*") if p.is_symlink() and p.name != APT_DIR]
    return (
        apt_target == content.apt_repo
        and (root / INDEX).exists()
        and all(p.readlink().is_relative_to(content.releases) and p.exists() for p in links)
    )


def user_artifacts_in_site(stack: str) -> list[CheckedArtifact]:
    """Kubernetes binaries a previous `up --artifacts` put in the site (kept on re-up)."""
    root = site_root(stack)
    index = read_index(stack)
    kept = []
    for name, item in (index or {}).get("artifacts", {}).items():
        path = root / item["path"]
        if name in versions.KUBE_BINARIES and path.is_file() and not path.is_symlink():
            kept.append(CheckedArtifact(name, item["version"], path, item["path"], item["sha256"]))
    return kept


def read_index(stack: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((site_root(stack) / INDEX).read_text())
    except (OSError, ValueError):
        return None
    return data


# --- the server processes -------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A process `lab up` starts detached (it outlives the command), bound to
    the lab gateway only: reachable from the lab's nodes and this host."""

    name: str  # its pid and log files: <lab state>/<name>.pid, .log
    marker: bytes  # in its command line: a pid reused after a reboot is not it
    port: int
    argv: tuple[str, ...]


def mirror_server(lab: LabLayout) -> Server:
    argv = (
        sys.executable,
        "-m",
        "groundwork.lab.mirror_server",
        "--bind",
        str(lab.gateway),
        "--port",
        str(lab.mirror_port),
        "--root",
        str(site_root(lab.stack)),
    )
    return Server("mirror", b"groundwork.lab.mirror_server", lab.mirror_port, argv)


def pid_file(stack: str, name: str) -> Path:
    return lab_state_dir(stack) / f"{name}.pid"


def server_pid(stack: str, name: str = "mirror", marker: bytes = b"") -> int | None:
    """The running server's pid, or None (a stale pid file is removed)."""
    path = pid_file(stack, name)
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return None
    # The pid may have been reused by another process after a reboot.
    if (marker or b"groundwork.lab.mirror_server") not in cmdline:
        path.unlink(missing_ok=True)
        return None
    return pid


def start_server(lab: LabLayout, server: Server | None = None) -> int:
    """Start the server detached unless running; its pid."""
    server = server or mirror_server(lab)
    pid = server_pid(lab.stack, server.name, server.marker)
    if pid is not None:
        return pid
    wait_for_address(lab)
    log_path = lab_state_dir(lab.stack) / f"{server.name}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            server.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    pid_file(lab.stack, server.name).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pid_file(lab.stack, server.name).unlink(missing_ok=True)
            raise LabError(f"the {server.name} server exited at start: see {log_path}")
        if port_open(str(lab.gateway), server.port):
            return proc.pid
        time.sleep(0.1)
    stop_server(lab.stack, server.name, server.marker)
    raise LabError(f"the {server.name} did not listen on {lab.gateway}:{server.port} within 10 s")


def wait_for_address(lab: LabLayout, timeout: float = 10) -> None:
    """The gateway address appears on the bridge only once a node is attached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket() as s:
                s.bind((str(lab.gateway), 0))
            return
        except OSError:
            time.sleep(0.2)
    raise LabError(
        f"the lab gateway {lab.gateway} is not on this host: run `lab down` then `lab up`"
    )


def stop_server(stack: str, name: str = "mirror", marker: bytes = b"") -> None:
    pid = server_pid(stack, name, marker)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            # The server is our child only in the `up` that started it.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
    pid_file(stack, name).unlink(missing_ok=True)


def mirror_answers(lab: LabLayout) -> bool:
    """True when the mirror serves its index (from the host, which holds the gateway)."""
    try:
        # No proxy: the gateway is on this host, and a proxy would not reach it.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{lab.mirror_url}/{INDEX}", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def file_sha256(path: Path) -> str:
    return sha256_file(path)

"""The lab's SSH identity and pinned host keys, and the ssh command line.

Host keys are read from each node with `podman exec` (a channel that does not
cross the network, so it can be trusted) and pinned in a known_hosts file.
Every consumer (`lab ssh`, Ansible, testinfra) checks host keys strictly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from groundwork.lab.errors import LabError
from groundwork.lab.layout import LabNode, lab_state_dir, layout
from groundwork.lab.proc import run

if TYPE_CHECKING:
    from groundwork.spec import ClusterSpec


def key_paths(stack: str) -> tuple[Path, Path]:
    """(private key, known_hosts) of a stack's lab."""
    base = lab_state_dir(stack) / "ssh"
    return base / "id_ed25519", base / "known_hosts"


def connection_files(spec: ClusterSpec) -> tuple[Path, Path]:
    """(private key, known_hosts) that Ansible and testinfra use for the lab nodes."""
    return key_paths(spec.name)


def host_key_record_path(stack: str) -> Path:
    return lab_state_dir(stack) / "ssh" / "host-keys.json"


def read_host_key_record(stack: str) -> dict[str, dict[str, str]]:
    """container -> {id, key}: each node's host key as read when its container was made."""
    try:
        data = json.loads(host_key_record_path(stack).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_host_key_record(stack: str, record: dict[str, dict[str, str]]) -> None:
    path = host_key_record_path(stack)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def ensure_key(private_key: Path, comment: str) -> tuple[Path, bool]:
    """Create the lab's ed25519 key pair once (0600); (public key path, created now)."""
    private_key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    public = private_key.with_suffix(".pub")
    created = False
    if not (private_key.exists() and public.exists()):
        private_key.unlink(missing_ok=True)
        public.unlink(missing_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private_key)])
        created = True
    os.chmod(private_key, 0o600)
    return public, created


def host_pattern(address: IPv4Address, port: int) -> str:
    """How known_hosts names a host: bare address on 22, [address]:port otherwise."""
    return str(address) if port == 22 else f"[{address}]:{port}"


def parse_public_key(line: str) -> tuple[str, str]:
    """(type, base64) of an OpenSSH public key line; the comment is dropped."""
    parts = line.split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise LabError(f"not an SSH public key: {line.strip()[:60]!r}")
    return parts[0], parts[1]


def format_known_hosts(entries: Iterable[tuple[LabNode, str]]) -> str:
    """known_hosts text pinning each node's host key under its address and name."""
    lines = []
    for node, public_key in sorted(entries, key=lambda e: e[0].address):
        key_type, key_data = parse_public_key(public_key)
        names = f"{host_pattern(node.address, node.port)},{host_pattern_name(node)}"
        lines.append(f"{names} {key_type} {key_data}")
    return "\n".join(lines) + "\n" if lines else ""


def host_pattern_name(node: LabNode) -> str:
    return node.name if node.port == 22 else f"[{node.name}]:{node.port}"


def write_known_hosts(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def ssh_options(private_key: Path, known_hosts: Path) -> list[str]:
    """Options shared by every ssh to a lab node: our key, our pins, strict checks."""
    return [
        "-i",
        str(private_key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=5",
    ]


@dataclass(frozen=True)
class SshTarget:
    """Everything needed to reach one lab node over SSH."""

    host: IPv4Address
    port: int
    user: str
    private_key: Path
    known_hosts: Path

    def argv(self, command: Sequence[str] = (), *, batch: bool = True) -> list[str]:
        argv = ["ssh", *ssh_options(self.private_key, self.known_hosts)]
        if batch:
            argv += ["-o", "BatchMode=yes"]
        argv += ["-p", str(self.port), "-l", self.user, str(self.host)]
        if command:
            argv += ["--", *command]
        return argv


def target(spec: ClusterSpec, node_name: str) -> SshTarget:
    lab = layout(spec)
    node = lab.node(node_name)
    key, known_hosts = key_paths(lab.stack)
    return SshTarget(node.address, node.port, node.user, key, known_hosts)

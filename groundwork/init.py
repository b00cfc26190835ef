"""`groundwork init`: a new stack from a few answers (pure, but for the scan).

The answers (nodes, endpoint, network, mirror) become a stack document with
the versions this checkout builds (components/*/go.mod), validated like any
stack before it is written. The nodes' host keys are scanned with
ssh-keyscan and shown as the SHA256 fingerprints `ssh-keygen -lf` prints, to
be compared with each node's console before they are pinned in the stack's
known_hosts: a scan crosses the network, so it is trusted only once a
person has said the fingerprints match.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import subprocess
from dataclasses import dataclass
from typing import Any

import yaml

from groundwork.build.recipes import BY_COMPONENT, pinned_version

ROLE_WORDS = {
    "cp": "control-plane",
    "control-plane": "control-plane",
    "etcd": "etcd",
    "worker": "worker",
}


class InitError(Exception):
    """An answer init cannot use: the message names the flag."""


@dataclass(frozen=True)
class NodeAnswer:
    name: str
    address: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Answers:
    name: str
    nodes: tuple[NodeAnswer, ...]
    mirror: str
    endpoint_vip: str | None = None
    endpoint_dns: str | None = None
    plugin: str = "flannel"
    backend: str = "vxlan"
    node_cidr: str | None = None
    ssh_user: str = "root"
    ssh_key: str | None = None
    ssh_port: int = 22


def parse_node(text: str) -> NodeAnswer:
    """`NAME=ADDRESS[:ROLE,ROLE...]`; roles default to worker, `cp` means
    control-plane (which is also an etcd member, stacked)."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise InitError(f"--node {text!r}: expected NAME=ADDRESS[:ROLES], e.g. cp1=10.20.0.11:cp")
    address, _, role_text = rest.partition(":")
    try:
        ipaddress.IPv4Address(address)
    except ValueError as err:
        raise InitError(f"--node {text!r}: {address!r} is not an IPv4 address") from err
    roles: list[str] = []
    for word in (role_text or "worker").split(","):
        if word not in ROLE_WORDS:
            raise InitError(
                f"--node {text!r}: unknown role {word!r} (cp, control-plane, etcd, worker)"
            )
        roles.append(ROLE_WORDS[word])
        if word == "cp":
            roles.append("etcd")
    return NodeAnswer(name, address, tuple(dict.fromkeys(roles)))


def node_cidr(nodes: tuple[NodeAnswer, ...]) -> str:
    """The /24 the nodes share, else an error asking for --node-cidr."""
    nets = {ipaddress.IPv4Network(f"{n.address}/24", strict=False) for n in nodes}
    if len(nets) != 1:
        raise InitError("the nodes are not in one /24: give their network with --node-cidr")
    return str(nets.pop())


def built_versions() -> dict[str, str]:
    """The versions `groundwork build` makes for a mirror (components/*/go.mod)."""
    return {
        c: pinned_version(BY_COMPONENT[c]).removeprefix("v")
        for c in ("kubernetes", "etcd", "containerd")
    }


def stack_document(answers: Answers, versions: dict[str, str]) -> dict[str, Any]:
    """The `groundwork:cluster` value of the new stack (pure)."""
    ssh: dict[str, Any] = {"user": answers.ssh_user}
    if answers.ssh_key:
        ssh["key"] = answers.ssh_key
    if answers.ssh_port != 22:
        ssh["port"] = answers.ssh_port
    if (answers.endpoint_vip is None) == (answers.endpoint_dns is None):
        raise InitError("give the control plane endpoint: --endpoint-vip IP or --endpoint-dns NAME")
    endpoint = (
        {"vip": answers.endpoint_vip, "port": 6443}
        if answers.endpoint_vip
        else {"dns": answers.endpoint_dns, "port": 6443}
    )
    return {
        "name": answers.name,
        "kubernetes": {"version": versions["kubernetes"]},
        "nodes": [
            {"name": n.name, "address": n.address, "roles": list(n.roles), "ssh": dict(ssh)}
            for n in answers.nodes
        ],
        "etcd": {"topology": "stacked", "version": versions["etcd"]},
        "containerRuntime": {"version": versions["containerd"]},
        "controlPlane": {"endpoint": endpoint},
        "network": {
            "plugin": answers.plugin,
            "backend": answers.backend,
            "nodeCidr": answers.node_cidr or node_cidr(answers.nodes),
        },
        "storage": {"classes": [{"name": "local-path", "driver": "local-path", "default": True}]},
        "artifacts": {"source": "mirror", "mirror": answers.mirror},
    }


def stack_text(document: dict[str, Any], day: str) -> str:
    header = (
        f"# {document['name']}: written by `groundwork init` on {day}.\n"
        "# Every field: docs/stack-reference.md. Versions: what `groundwork build\n"
        "# --mirror-dir DIR --mirror-url URL` lays out for the mirror below.\n"
    )
    body = yaml.safe_dump(
        {"config": {"groundwork:cluster": document}}, sort_keys=False, default_flow_style=False
    )
    return header + body


@dataclass(frozen=True)
class HostKey:
    host: str  # as known_hosts names it: address, or [address]:port
    kind: str  # ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa
    blob: str  # base64

    @property
    def line(self) -> str:
        return f"{self.host} {self.kind} {self.blob}"

    @property
    def fingerprint(self) -> str:
        """As `ssh-keygen -lf` prints it: SHA256:<base64 of the key's digest, unpadded>."""
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_keyscan(output: str) -> list[HostKey]:
    """ssh-keyscan's lines (comments skipped)."""
    keys = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            keys.append(HostKey(parts[0], parts[1], parts[2]))
    return keys


def scan_host_keys(address: str, port: int = 22, timeout: int = 5) -> list[HostKey]:
    """The node's ed25519 key (its ECDSA and RSA ones when it has none)."""
    argv = ["ssh-keyscan", "-T", str(timeout), "-p", str(port), "-t", "ed25519,ecdsa,rsa", address]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, check=False)
    keys = parse_keyscan(result.stdout)
    best = [k for k in keys if k.kind == "ssh-ed25519"] or keys
    if not best:
        reason = result.stderr.strip().splitlines()[-1:] or ["no answer"]
        raise InitError(f"{address}: no host key scanned ({reason[0]})")
    return best[:1]

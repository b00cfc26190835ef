"""Secret hygiene after a lab run: no private key or encryption key in plain
text where it does not belong, and the key files where they belong are private.

Scanned after `up` and `verify` ran: the git-tracked files of the repository,
the stack's inventory, everything under the stack's state directory except
the key stores (pki/, the lab's SSH key, secrets/), and the process arguments
on every node. A leak is found by the PEM marker and by the key material
itself (the start of each key's body, and of its base64 form, which is how a
kubeconfig embeds a key).

The stack defaults to the lab stack; GROUNDWORK_SECRETS_LAB_STACK (or else
GROUNDWORK_FAULTS_LAB_STACK) names another stack file.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _lab import converge_and_verify, must

from groundwork.inventory import inventory_dir
from groundwork.lab import ssh
from groundwork.paths import PROJECT_ROOT, state_dir
from groundwork.pki import pki_dir
from groundwork.plan.kube_config_vars import encryption_key_file
from groundwork.spec import ClusterSpec, Role, load_stack

pytestmark = pytest.mark.lab

STACK = os.environ.get(
    "GROUNDWORK_SECRETS_LAB_STACK", os.environ.get("GROUNDWORK_FAULTS_LAB_STACK", "lab")
)
# Built in two parts so this file does not itself carry the marker.
MARKER = "PRIVATE KEY" + "-----"
# Where Groundwork puts private keys on a node, and who must own them there.
NODE_KEY_DIRS = {
    "/etc/etcd": "etcd",
    "/etc/kubernetes": "root",
    "/var/lib/kubelet": "root",
    "/var/lib/kube-proxy": "root",
    "/etc/containerd": "root",
    "/etc/groundwork": "root",
    "/etc/haproxy": "root",
    "/etc/keepalived": "root",
}
ETCD_KEYS = ("server.key", "peer.key", "healthcheck-client.key")


@dataclass(frozen=True)
class Needle:
    what: str  # which secret, for the message (never the secret itself)
    pattern: re.Pattern[bytes]

    @classmethod
    def exact(cls, what: str, text: bytes) -> Needle:
        return cls(what, re.compile(re.escape(text)))

    def found_in(self, data: bytes) -> bool:
        return self.pattern.search(data) is not None


# A PEM private key with its body: the marker, then base64 (after real or
# JSON-escaped line breaks). A mention of the marker alone (a test's fake
# key, a comment) is not key material.
PEM_KEY = Needle(
    "a PEM private key",
    re.compile(re.escape(MARKER.encode()) + rb"(?:\\[rn]|\s)*[A-Za-z0-9+/]{40}"),
)


def _body(pem: str) -> str:
    """The base64 body of a PEM or OpenSSH key, as one string."""
    return "".join(line.strip() for line in pem.splitlines() if line and "-----" not in line)


def needles_for(path: Path, what: str) -> list[Needle]:
    raw = path.read_bytes()
    text = raw.decode()
    found = [Needle.exact(f"{what} (body)", _body(text)[:48].encode())]
    # A kubeconfig's client-key-data is the whole PEM in base64.
    found.append(Needle.exact(f"{what} (base64)", base64.b64encode(raw)[:48]))
    return found


@dataclass(frozen=True)
class Stores:
    """The stack's own key stores on the controller: where secrets belong."""

    pki: Path
    lab_key: Path | None
    secrets: Path

    def key_files(self) -> Iterator[tuple[Path, str]]:
        for path in sorted(self.pki.rglob("*.key")):
            yield path, f"pki/{path.relative_to(self.pki)}"
        if self.lab_key is not None and self.lab_key.exists():
            yield self.lab_key, "the lab SSH key"
        encryption = self.secrets / "encryption-key"
        if encryption.exists():
            yield encryption, "the Secrets encryption key"

    def excluded(self, path: Path) -> bool:
        inside = (self.pki, self.secrets)
        return path == self.lab_key or any(path.is_relative_to(d) for d in inside)


def needles(stores: Stores) -> list[Needle]:
    found = [PEM_KEY]
    for path, what in stores.key_files():
        if path.name == "encryption-key":
            secret = path.read_bytes().strip()
            found += [
                Needle.exact(what, secret),
                Needle.exact(f"{what} (base64)", base64.b64encode(secret)),
            ]
        else:
            found += needles_for(path, what)
    return found


def leaks_in(path: Path, found: list[Needle]) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError:
        return []
    return [f"{path}: {n.what}" for n in found if n.found_in(data)]


def files_under(root: Path) -> Iterator[Path]:
    """Regular files under root; symlinks are not followed (the lab's mirror links
    to the shared package cache, public content that is not ours to scan)."""
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def after_a_run(spec: ClusterSpec) -> ClusterSpec:
    """A lab run: up (roles) and verify, so that their logs and artifacts exist."""
    converge_and_verify(spec)
    return spec


@pytest.fixture(scope="module")
def stores(after_a_run: ClusterSpec) -> Stores:
    spec = after_a_run
    lab_key = ssh.connection_files(spec)[0] if spec.lab is not None else None
    pki = pki_dir(spec.name)
    return Stores(pki, lab_key, encryption_key_file(pki).parent)


@pytest.fixture(scope="module")
def secret_needles(stores: Stores) -> list[Needle]:
    found = needles(stores)
    # Every key of the PKI is searched for: the scan is only as good as this.
    assert len([n for n in found if n.what.startswith("pki/")]) >= 2 * 20, found
    return found


# --- the controller -----------------------------------------------------------


def test_the_scan_finds_a_key_in_every_form_it_could_leak_in(
    stores: Stores, secret_needles: list[Needle]
) -> None:
    path, what = next(stores.key_files())
    raw = path.read_bytes()
    forms = {
        "as written": raw,
        "in a JSON event": json.dumps({"content": raw.decode()}).encode(),
        "in a kubeconfig": b"client-key-data: " + base64.b64encode(raw),
    }
    for form, data in forms.items():
        hits = [n.what for n in secret_needles if n.found_in(b"log line\n" + data)]
        assert any(h.startswith(what) for h in hits), f"{what} {form} not found: {hits}"
    # A mention of the marker is not a key (tests and comments name it).
    assert not PEM_KEY.found_in(b"-----BEGIN EC " + MARKER.encode() + b"\nnot-for-logs\n")


def test_no_secret_in_the_repository(secret_needles: list[Needle]) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    paths = [PROJECT_ROOT / p.decode() for p in tracked if p]
    assert len(paths) > 50, "git ls-files found (almost) nothing to scan"
    leaks = [leak for p in paths if p.is_file() for leak in leaks_in(p, secret_needles)]
    assert leaks == []


def test_no_secret_in_the_inventory(spec: ClusterSpec, secret_needles: list[Needle]) -> None:
    files = list(files_under(inventory_dir(spec.name)))
    assert any(p.name == "hosts.yml" for p in files), files
    leaks = [leak for p in files for leak in leaks_in(p, secret_needles)]
    assert leaks == []


def test_no_secret_in_the_run_logs_and_state(
    spec: ClusterSpec, stores: Stores, secret_needles: list[Needle]
) -> None:
    state = state_dir(spec.name)
    files = [p for p in files_under(state) if not stores.excluded(p)]
    # The scan covers the runner's event logs and verify's files, not just a few.
    assert any("job_events" in p.parts for p in files), "no runner event log to scan"
    assert any(p.parent.name == "verify" for p in files), "no verify files to scan"
    leaks = [leak for p in files for leak in leaks_in(p, secret_needles)]
    assert leaks == []


def test_the_key_stores_are_private(spec: ClusterSpec, stores: Stores) -> None:
    state = state_dir(spec.name)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700, state
    keys = list(stores.key_files())
    assert len(keys) >= 20, keys
    for path, _what in keys:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # The admin kubeconfig embeds the admin key: it lives with the secrets.
    kubeconfig = stores.secrets / "admin.kubeconfig"
    if kubeconfig.exists():
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600, kubeconfig
    for directory in [stores.pki, *(d for d in stores.pki.rglob("*") if d.is_dir())]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    # In the key store, only key files hold key material (certificates are public).
    for path in files_under(stores.pki):
        if path.suffix != ".key":
            assert MARKER.encode() not in path.read_bytes(), path


# --- the nodes ----------------------------------------------------------------


def test_no_secret_in_process_arguments_on_the_nodes(
    after_a_run: ClusterSpec, secret_needles: list[Needle]
) -> None:
    spec = after_a_run
    for node in spec.nodes:
        args = must(spec, node.name, "ps -eo args").encode()
        assert len(args.splitlines()) > 5, f"{node.name}: ps listed almost nothing"
        leaks = [n.what for n in secret_needles if n.found_in(args)]
        assert leaks == [], f"{node.name}: process arguments hold {leaks}"


def test_private_keys_on_the_nodes_are_0600_and_owned_by_their_service(
    after_a_run: ClusterSpec,
) -> None:
    spec = after_a_run
    dirs = " ".join(NODE_KEY_DIRS)
    # grep -l prints file names only, never the keys.
    script = (
        f"for d in {dirs}; do [ -d $d ] && grep -rlZ -e '{MARKER}' $d; done "
        "| xargs -0r stat -c '%a %U %n'"
    )
    for node in spec.nodes:
        found = {}
        for line in must(spec, node.name, script).splitlines():
            mode, owner, path = line.split(" ", 2)
            found[path] = (mode, owner)
        expected_owner = {
            path: next(o for d, o in NODE_KEY_DIRS.items() if path.startswith(d + "/"))
            for path in found
        }
        wrong = {p: v for p, v in found.items() if v != ("600", expected_owner[p])}
        assert wrong == {}, f"{node.name}: keys not 0600 or not owned by their service: {wrong}"
        if node.has(Role.ETCD):
            for key in ETCD_KEYS:
                assert f"/etc/etcd/pki/{key}" in found, f"{node.name}: {key} not found by the scan"

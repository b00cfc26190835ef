"""A content hash of everything node provisioning applies (pure: no host contacted).

`provisioning_hash(spec)` covers the rendered inventory (hosts.yml and the
generated group_vars, rendered in memory by `render_inventory`) and the bytes
of every file under playbooks/, roles/ and plugins/. The same spec and the same code
give the same hash on any machine, so the Pulumi diff of `NodeProvisioning`
re-runs Ansible exactly when something it would apply changed.

Machine-local paths (state directory, lab key) are rendered under a fixed
placeholder root: they are where the controller keeps its files, not what
the nodes receive. The etcd sha256 is the pinned one ("" when a mirror
publishes it: reading it would contact the mirror); the mirror URL itself is
part of the spec, hence of the hash.

The playbooks/roles part is computed once per process per tree (the program
runs once per `pulumi up`), which keeps the Pulumi program fast.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

from groundwork.inventory.artifacts import substrate_artifacts
from groundwork.inventory.render import Connection, render_inventory
from groundwork.paths import data_dir
from groundwork.plan import ClusterPlan, build_plan
from groundwork.spec import ClusterSpec

# The trees whose files Ansible runs; a change in any of them re-provisions.
CODE_ROOTS: tuple[Path, ...] = (
    data_dir() / "playbooks",
    data_dir() / "roles",
    data_dir() / "plugins",  # groundwork_files, groundwork_probe, groundwork_preflight
)
# Stand-in for the controller's per-stack state directory in the rendered inventory.
PLACEHOLDER_STATE = Path("/groundwork-state")


def _update(digest: hashlib._Hash, label: str, data: bytes) -> None:
    """Length-prefixed, so no two different sequences of parts hash alike."""
    for part in (label.encode(), data):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def content_hash(root: Path) -> str:
    """sha256 over every file under `root` (relative paths and bytes, sorted),
    or over the file `root` itself; of nothing when it does not exist."""
    digest = hashlib.sha256()
    if root.is_file():
        _update(digest, root.name, root.read_bytes())
    elif root.is_dir():
        # Bytecode caches differ per interpreter and run: not what Ansible applies.
        files = (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in sorted(files):
            _update(digest, path.relative_to(root).as_posix(), path.read_bytes())
    return digest.hexdigest()


# The code trees do not change while a process runs: hashed once each.
tree_hash = functools.cache(content_hash)


def inventory_files(spec: ClusterSpec, plan: ClusterPlan | None = None) -> dict[str, str]:
    """The inventory's files as `up` writes them, with placeholder local paths."""
    plan = plan or build_plan(spec)
    state = PLACEHOLDER_STATE / spec.name
    connection = Connection(
        known_hosts=state / "ssh" / "known_hosts",
        lab_key=state / "ssh" / "id_ed25519" if spec.lab is not None else None,
    )
    pinned = {
        a.component: (a.sha256 or "").lower() for a in substrate_artifacts(spec, plan.etcd.version)
    }
    rendered = render_inventory(
        spec, plan, connection, pki_dir=state / "pki", release_sha256=pinned
    )
    return rendered.files()


def provisioning_hash(
    spec: ClusterSpec, roots: Iterable[Path] = CODE_ROOTS, plan: ClusterPlan | None = None
) -> str:
    """sha256 hex of the rendered inventory and the playbooks/roles/plugins trees
    (`plan`: the spec's, when the caller has built it already)."""
    digest = hashlib.sha256()
    for relative, text in sorted(inventory_files(spec, plan).items()):
        _update(digest, f"inventory/{relative}", text.encode())
    for root in roots:
        _update(digest, f"tree/{root.name}", tree_hash(root).encode())
    return digest.hexdigest()

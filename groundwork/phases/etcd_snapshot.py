"""Take an etcd snapshot from a healthy member (playbooks/etcd_snapshot.yml)
and keep it encrypted on the controller (groundwork.etcd_backup)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from groundwork.etcd_backup import (
    SnapshotError,
    default_snapshot_path,
    encrypt,
    key_path,
    new_header,
    snapshot_key,
)
from groundwork.paths import state_dir
from groundwork.phases.base import Context, Outcome, Phase
from groundwork.phases.site import run_and_record

SNAPSHOT_PLAYBOOK = "etcd_snapshot.yml"
REMOTE_NAME = "groundwork-snapshot.db"


class EtcdSnapshot(Phase):
    name = "etcd-snapshot"

    def run(self, context: Context) -> Outcome:
        spec = context.spec
        dest = context.options.snapshot_file or default_snapshot_path(spec.name)
        key = snapshot_key(spec.name, create=True)
        # The plain snapshot never leaves the stack's private state directory.
        with tempfile.TemporaryDirectory(prefix=".snapshot-", dir=state_dir(spec.name)) as work:
            ran = run_and_record(context, SNAPSHOT_PLAYBOOK, {"gw_snapshot_dir": work})
            if not ran.ok:
                return ran
            plain = Path(work) / REMOTE_NAME
            status = json.loads((Path(work) / f"{REMOTE_NAME}.status").read_text())
            member = (Path(work) / "member").read_text().strip()
            header = new_header(spec.name, member, int(status["revision"]), plain)
            try:
                sha256 = encrypt(plain, dest, key, header)
            except OSError as err:
                raise SnapshotError(f"{dest}: {err.strerror}") from None
        dest.with_name(dest.name + ".sha256").write_text(f"{sha256}  {dest.name}\n")
        return Outcome(
            True,
            f"{dest} (revision {header.revision}, {status['totalKey']} keys, from {member})",
            f"sha256 {sha256}\n"
            f"encrypted with the key in {key_path(spec.name)}: keep a copy of it apart "
            "from the snapshots",
        )

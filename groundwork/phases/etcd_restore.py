"""Restore every etcd member from an encrypted snapshot
(playbooks/etcd_restore.yml): decrypted and checked on the controller,
then checked again on every member before anything is stopped."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from groundwork.etcd_backup import SnapshotError, decrypt, read_header, snapshot_key
from groundwork.paths import state_dir
from groundwork.phases.base import Context, Outcome, Phase
from groundwork.phases.site import run_and_record

RESTORE_PLAYBOOK = "etcd_restore.yml"


def restore_token(base: str, stamp: str) -> str:
    """A new --initial-cluster-token, hence a new cluster ID (pure)."""
    return f"{base}-restored-{stamp}"


class EtcdRestore(Phase):
    name = "etcd-restore"

    def run(self, context: Context) -> Outcome:
        spec, plan = context.spec, context.plan
        source = context.options.snapshot_file
        if source is None:
            raise SnapshotError("no snapshot file given")
        header = read_header(source)
        if header.stack != spec.name:
            raise SnapshotError(
                f"{source} is a snapshot of stack {header.stack!r}, not {spec.name!r}"
            )
        key = snapshot_key(spec.name, create=False)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=state_dir(spec.name)) as work:
            plain = Path(work) / "snapshot.db"
            decrypt(source, plain, key)
            extra = {
                "gw_restore_snapshot": str(plain),
                "gw_restore_cluster": plan.etcd.initial_cluster,
                "gw_restore_peers": {m.name: m.peer_url for m in plan.etcd.members},
                "gw_restore_token": restore_token(plan.etcd.initial_cluster_token, stamp),
                "gw_restore_stamp": stamp,
                "gw_restore_kubelets": [n.name for n in plan.nodes if n.runs_kubelet],
            }
            ran = run_and_record(context, RESTORE_PLAYBOOK, extra)
        if not ran.ok:
            return ran
        return Outcome(
            True,
            f"every member restored to revision {header.revision} "
            f"(taken {header.taken} from {header.member})",
            f"the data from before is kept on each member in /var/lib/etcd.before-restore-{stamp}",
        )

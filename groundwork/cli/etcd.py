"""`groundwork etcd snapshot|restore`: back up etcd and bring it back."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from groundwork.cli.common import (
    Subparsers,
    add_verb,
    console,
    fail,
    is_tty,
    load_spec_from_args,
    timed_progress,
    verbosity,
)
from groundwork.cli.pipeline import confirmed, phases_table, report_failure


def _run(args: argparse.Namespace, restore: bool) -> int:
    from groundwork.phases import ETCD_RESTORE, ETCD_SNAPSHOT, Context, Options, run

    start = time.monotonic()
    spec = load_spec_from_args(args)
    if restore and not confirmed(spec, args.yes):
        return fail(
            f"not restoring stack {spec.name}: its machines are not a lab",
            "pass --yes to restore without a question",
        )
    options = Options(live=is_tty(), verbosity=verbosity(args), snapshot_file=args.file)
    context = Context(spec, options, console, timed_progress())
    result = run(ETCD_RESTORE if restore else ETCD_SNAPSHOT, context)
    seconds = time.monotonic() - start
    if not result.ok:
        console.print(phases_table(result))
        return report_failure(result, context.summary, seconds)
    phase = result.phases[1]
    console.print(f"[green]{result.verb}[/green] {spec.name}: {phase.message} ({seconds:.1f} s)")
    for line in phase.output.splitlines():
        console.print(f"  {line}")
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "etcd",
        summary="take an etcd snapshot, or restore the cluster from one",
        description="Back up the cluster's store and bring it back.",
        epilog=(
            "Examples:\n"
            "  groundwork etcd snapshot --stack prod -o prod.db.gwenc\n"
            "  groundwork etcd restore --stack prod prod.db.gwenc --yes\n"
            "\nEach subverb has its own --help."
        ),
        stack=False,
    )
    verbs = parser.add_subparsers(dest="etcd_verb", metavar="SUBVERB", required=True)
    snapshot = add_verb(
        verbs,
        "snapshot",
        summary="a consistent snapshot from a healthy member, encrypted, 0600",
        description=(
            "Ask every etcd member for its health, take a snapshot through the first "
            "healthy one's client API (consistent: one read transaction), bring it to "
            "this machine and write it encrypted (AES-256-GCM) with the stack's snapshot "
            "key (made on the first snapshot, in the stack's state directory: keep a copy "
            "of it apart from the snapshots), mode 0600, with its sha256 beside it in "
            "FILE.sha256. The plain snapshot never stays on a member or on this machine."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork etcd snapshot --stack lab\n"
            "  groundwork etcd snapshot --stack prod -o /backup/prod-2026-12-05.db.gwenc\n"
            "\nExit codes: 0 written, 1 no healthy member or the snapshot failed, "
            "2 invalid stack."
        ),
        run=lambda args: _run(args, restore=False),
    )
    snapshot.add_argument(
        "-o",
        "--file",
        type=Path,
        default=None,
        metavar="FILE",
        help="where to write it (default: <state dir>/<stack>/etcd-snapshots/<stack>-<time>.db.gwenc)",
    )
    restore = add_verb(
        verbs,
        "restore",
        summary="restore every member from a snapshot (new cluster ID), then verify",
        description=(
            "Decrypt and check FILE here, copy it to every etcd member and check it there "
            "with etcdutl, all before anything stops. Then stop the API servers and "
            "controllers, restore every member into a new data directory under a new "
            "cluster ID (the data from before is kept beside it), start the members "
            "together, start the control plane one node at a time, restart every kubelet "
            "and run the stack's checks. Objects written after the snapshot are gone."
        ),
        epilog=(
            "Example:\n  groundwork etcd restore --stack lab ~/lab.db.gwenc\n"
            "\nExit codes: 0 restored and verified, 1 otherwise, 2 invalid stack."
        ),
        yes=True,
        run=lambda args: _run(args, restore=True),
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a snapshot `etcd snapshot` wrote")

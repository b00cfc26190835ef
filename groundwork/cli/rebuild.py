"""`groundwork rebuild`: destroy -> up (with verify), one JUnit report."""

from __future__ import annotations

import argparse
import time

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
from groundwork.cli.pipeline import (
    add_run_options,
    confirmed,
    phases_table,
    report_dry_run,
    report_failure,
)


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "rebuild",
        summary="destroy, up and verify the stack's nodes; one JUnit report",
        description=(
            "Rebuild the stack's nodes from a clean state: `destroy` (playbooks/reset.yml, "
            "SSH checked afterwards), then every phase of `up` (lab up for a lab stack, PKI, "
            "inventory, roles, the node checks). Stops at the first failed phase; the phases "
            "after it are reported as not run. --junit writes one report: each phase as a "
            "test case of the suite `rebuild`, then every node check of the verify phase. A "
            "stack without a lab is real machines: it needs --yes, or an answer on a terminal."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork rebuild --stack lab --junit reports/rebuild.xml\n"
            "  groundwork rebuild --stack dev --yes --junit reports/rebuild-dev.xml\n"
            "  groundwork rebuild --stack dev --dry-run\n"
            "\nExit codes: 0 every phase passed, 1 a phase failed, 2 invalid stack."
        ),
        yes=True,
        run=cmd_rebuild,
    )
    add_run_options(parser, "write JUnit XML")


def cmd_rebuild(args: argparse.Namespace) -> int:
    start = time.monotonic()
    spec = load_spec_from_args(args)
    if not args.dry_run and not confirmed(spec, args.yes):
        return fail(
            f"not rebuilding stack {spec.name}: its machines are not a lab",
            "pass --yes to rebuild without a question",
        )
    from groundwork.phases import REBUILD, Context, Options, run

    options = Options(
        live=is_tty(), junit=args.junit, dry_run=args.dry_run, verbosity=verbosity(args)
    )
    context = Context(spec, options, console, timed_progress())
    result = run(REBUILD, context)
    if args.dry_run:
        return report_dry_run(result)
    console.print(phases_table(result))
    if args.junit is not None:
        console.print(f"JUnit: {args.junit}")
    total = time.monotonic() - start
    if not result.ok:
        return report_failure(result, context.summary, total)
    console.print(f"[green]rebuilt[/green] {spec.name}: destroyed, up and verified ({total:.1f} s)")
    return 0

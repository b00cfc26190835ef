"""`groundwork destroy`: reset every node of the stack, keeping SSH working."""

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
from groundwork.cli.pipeline import add_run_options, confirmed, report_dry_run, report_failure


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "destroy",
        summary="reset every node: services, data, configs, certificates removed; SSH kept",
        description=(
            "Run playbooks/reset.yml on every node of the stack: stop and disable the "
            "services, remove the containers they ran, their data, configuration, "
            "certificates and binaries, the CNI interfaces and pod routes. The firewall and "
            "sshd are not touched; a new SSH session to every node is opened afterwards to "
            "prove it. Packages stay installed; the stack's PKI on this machine stays (a later "
            "`up` reuses it); lab machines stay (`groundwork lab down` removes them). A stack "
            "without a lab is real machines: it needs --yes, or an answer on a terminal."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork destroy --stack lab\n"
            "  groundwork destroy --stack prod --yes\n"
            "  groundwork destroy --stack prod --dry-run\n"
            "\nExit codes: 0 every node reset and reachable over SSH, 1 otherwise, "
            "2 invalid stack."
        ),
        yes=True,
        run=cmd_destroy,
    )
    add_run_options(parser, "write the run as JUnit XML (one test case per phase)")


def cmd_destroy(args: argparse.Namespace) -> int:
    start = time.monotonic()
    spec = load_spec_from_args(args)
    if not args.dry_run and not confirmed(spec, args.yes):
        return fail(
            f"not destroying stack {spec.name}: its machines are not a lab",
            "pass --yes to destroy without a question",
        )
    from groundwork.phases import DESTROY, Context, Options, run

    options = Options(
        live=is_tty(), junit=args.junit, dry_run=args.dry_run, verbosity=verbosity(args)
    )
    context = Context(spec, options, console, timed_progress())
    result = run(DESTROY, context)
    if args.dry_run:
        return report_dry_run(result)
    seconds = time.monotonic() - start
    if not result.ok:
        return report_failure(result, context.summary, seconds)
    if context.summary is None:  # nothing to reset: the outcome says why
        console.print(result.phases[-1].message)
        return 0
    done = result.phases[-1].message
    console.print(f"[green]destroyed[/green] {spec.name}: {done} ({seconds:.1f} s)")
    return 0

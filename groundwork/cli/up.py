"""`groundwork up`: lab (if any) -> PKI -> inventory -> release -> membership -> roles -> verify."""

from __future__ import annotations

import argparse
import time

from groundwork.cli.common import (
    Subparsers,
    add_limit_option,
    add_verb,
    console,
    is_tty,
    limit_of,
    load_spec_from_args,
    timed_progress,
    verbosity,
)
from groundwork.cli.pipeline import add_run_options, report_dry_run, report_failure


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "up",
        summary="make the nodes match the stack (roles over SSH), then verify them",
        description=(
            "Bring the stack's nodes to the declared state: boot the lab if the stack has "
            "one, validate the stack, create the PKI, render the Ansible inventory "
            "(inventories/<stack>/), run playbooks/site.yml with ansible-runner (live "
            "progress per host, summary per host), then run the node checks. A second "
            "`up` with no change reports changed=0 on every host; after such a run, "
            "`up` reads every node in one SSH call and runs no role where each node reads "
            "as that run saw it (--full runs every role regardless). Nodes added to or "
            "removed from a stack already applied are named first; removed nodes are "
            "drained, leave etcd and are reset; new etcd members join one at a time; a "
            "removal that would lose etcd quorum is refused before any change, and so is "
            "a pod network (plugin, backend, podCidr, serviceCidr, nodeSubnetSize) other "
            "than the running cluster's: that takes `groundwork rebuild`. A "
            "kubernetes.version other than the running cluster's is an upgrade: the skew "
            "rules are checked first (one minor at a time, no downgrade), then "
            "playbooks/upgrade.yml moves the control plane one node at a time and drains, "
            "upgrades and uncordons each node in turn."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork up --stack lab\n"
            "  groundwork up --stack prod --junit reports/up-prod.xml\n"
            "  groundwork up --stack lab --no-lab --no-verify\n"
            "  groundwork up --stack prod --replace-member cp3\n"
            "  groundwork up --stack-file next/Pulumi.prod.yaml   # kubernetes.version 1.37.2: "
            "an upgrade\n"
            "  groundwork up --stack prod --dry-run\n"
            "  groundwork up --stack prod --limit w3   # that node only (no membership change)\n"
            "\nExit codes: 0 roles and verification passed, 1 a step failed (or, outside a lab, "
            "Kubernetes could not be installed: NOT INSTALLED), 2 invalid stack or a refused "
            "membership or pod network change (e.g. one that would lose etcd quorum); a "
            "refused upgrade exits 1."
        ),
        run=cmd_up,
    )
    parser.add_argument(
        "--no-lab", action="store_true", help="do not run `lab up` first (the lab is up)"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="skip verification (exit reflects roles only)"
    )
    parser.add_argument(
        "--substrate-only",
        action="store_true",
        help="converge the substrate only (site.yml: base, load balancer, etcd, container "
        "runtime, pod network): no Kubernetes layer and no addons",
    )
    add_run_options(
        parser, "write the run as JUnit XML: one test case per phase, then every node check"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=(
            "run every role on every node, even when each node is as the last run that "
            "changed nothing saw it (by default such a run reads every node in one SSH call "
            "and runs no role)"
        ),
    )
    add_limit_option(parser, "converge and check")
    parser.add_argument(
        "--replace-member",
        dest="replace_members",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "the etcd member NAME's machine lost its etcd data (a new disk or machine at the "
            "same address): remove the old member, add it back empty, it syncs from the "
            "others. Refused if the remaining members are unhealthy or too few. Repeatable; "
            "no other membership change in the same run"
        ),
    )


def cmd_up(args: argparse.Namespace) -> int:
    start = time.monotonic()
    progress = timed_progress()
    spec = load_spec_from_args(args)  # invalid stack: SpecError -> exit 2, no host touched
    from groundwork.phases import UP, Context, Options, run

    options = Options(
        live=is_tty(),
        lab=not args.no_lab,
        kubernetes=not args.substrate_only,
        verify=not args.no_verify,
        replace_members=tuple(args.replace_members),
        junit=args.junit,
        dry_run=args.dry_run,
        verbosity=verbosity(args),
        limit=limit_of(args, spec),
        renew_certificates=getattr(args, "renew_certificates", False),
        full=getattr(args, "full", False),
    )
    context = Context(spec, options, console, progress)
    # A membership change that would risk etcd raises ScaleRefused before any
    # phase touches anything: main() reports it and exits 2.
    result = run(UP, context)
    if args.dry_run:
        return report_dry_run(result)
    if context.report is not None:
        # One line per node that is right; a table only where something
        # drifted (`groundwork verify` lists every check).
        context.report.print_table(all_checks=False)
    summary = context.summary
    if not result.ok:
        return report_failure(result, summary, time.monotonic() - start)
    if options.renew_certificates:
        issued = next(p.message for p in result.phases if p.name == "pki")
        console.print(f"certificates renewed: {issued}, rolled out one restart at a time")
    changed, seconds = (summary.changed, summary.seconds) if summary else (0, 0.0)
    roles_line = f"roles: {changed} change(s) in {seconds:.1f} s"
    if summary is not None and summary.note:
        roles_line += f" ({summary.note})"
    if context.report is None:
        console.print(f"{roles_line}; verification skipped")
    else:
        total = time.monotonic() - start
        console.print(
            f"[green]up[/green] {spec.name}: {roles_line}; verified ({total:.1f} s in all)"
        )
    if context.not_installed:
        # Loud, last, and on stdout: the substrate is verified, but this is
        # not a Kubernetes cluster yet, and the user must not think it is.
        console.print(f"[bold yellow]NOT INSTALLED[/bold yellow] {context.not_installed}")
        # A deploy that gave no cluster fails (a workflow must not go green);
        # a lab may stop at the substrate on purpose.
        return 0 if spec.lab is not None else 1
    return 0

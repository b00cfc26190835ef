"""`groundwork certs check`: every certificate's days to expiry, on the
controller and as each node serves it."""

from __future__ import annotations

import argparse

from rich.table import Table

from groundwork.cli.common import (
    Subparsers,
    add_verb,
    console,
    load_spec_from_args,
    print_json,
)
from groundwork.cli.pipeline import add_run_options

# verify's floor (groundwork.verify.expect.MIN_CERTIFICATE_DAYS; a test holds
# them equal), not imported: `groundwork --help` loads every verb's module.
MIN_CERTIFICATE_DAYS = 30


def _check(args: argparse.Namespace) -> int:
    from groundwork import certs
    from groundwork.pki import pki_dir
    from groundwork.plan import build_plan

    spec = load_spec_from_args(args, show_warnings=args.output != "json")
    directory = pki_dir(spec.name)
    rows = certs.check(spec, build_plan(spec), directory)
    now = certs.now()
    short = [r for r in rows if not r.ok(now, args.warn_days)]
    if args.output == "json":
        print_json(
            {
                "stack": spec.name,
                "warnDays": args.warn_days,
                "certificates": [
                    {
                        "where": r.where,
                        "name": r.name,
                        "notAfter": r.not_after.isoformat() if r.not_after else None,
                        "daysLeft": round(d, 1) if (d := r.days_left(now)) is not None else None,
                        "ok": r.ok(now, args.warn_days),
                        "problem": r.problem,
                    }
                    for r in rows
                ],
            }
        )
        return 1 if short else 0
    table = Table(title=f"certificates of {spec.name} (PKI in {directory})")
    for column in ("where", "certificate", "not after", "days left"):
        table.add_column(column)
    for r in rows:
        days = r.days_left(now)
        shown = "[red]unreadable[/red]" if days is None else f"{days:.0f}"
        if days is not None and days < args.warn_days:
            shown = f"[red]{days:.0f}[/red]"
        expiry = r.not_after.strftime("%Y-%m-%d %H:%M UTC") if r.not_after else r.problem
        table.add_row(r.where, r.name, expiry, shown)
    console.print(table)
    if short:
        console.print(
            f"[red]{len(short)} certificate(s)[/red] with less than {args.warn_days} days "
            "left or not readable: renew the PKI (`groundwork up` reissues a leaf that is "
            "near expiry) or bring the node back"
        )
        return 1
    console.print(f"every certificate has {args.warn_days} days or more left")
    return 0


def _renew(args: argparse.Namespace) -> int:
    from groundwork.cli.up import cmd_up

    return cmd_up(args)


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "certs",
        summary="show every certificate's days to expiry, or renew them all",
        description="The stack's certificates: the PKI and what the nodes serve.",
        epilog=(
            "Examples:\n  groundwork certs check --stack lab\n  groundwork certs renew --stack lab\n"
            "\nEach subverb has its own --help."
        ),
        stack=False,
    )
    verbs = parser.add_subparsers(dest="certs_verb", metavar="SUBVERB", required=True)
    check = add_verb(
        verbs,
        "check",
        summary="days to expiry of the PKI and of every certificate the nodes serve",
        description=(
            "List every certificate of the stack's PKI on this machine (the CAs and the "
            "leaves `up` installs), then what each node's TLS endpoints serve right now: "
            "every kube-apiserver (:6443), every kubelet (:10250), every etcd member's "
            "client and peer ports (:2379, :2380), read over TLS, so a node still serving "
            "an old certificate shows its real expiry. `verify` fails the same way under "
            f"{MIN_CERTIFICATE_DAYS} days."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork certs check --stack lab\n"
            "  groundwork certs check --stack prod --warn-days 60 -o json\n"
            "\nExit codes: 0 every certificate has --warn-days or more left, 1 one has "
            "fewer or could not be read, 2 invalid stack."
        ),
        output="every certificate with its expiry and days left",
        run=_check,
    )
    check.add_argument(
        "--warn-days",
        type=int,
        default=MIN_CERTIFICATE_DAYS,
        metavar="DAYS",
        help=f"the fewest days left that pass (default: {MIN_CERTIFICATE_DAYS}, as verify)",
    )
    renew = add_verb(
        verbs,
        "renew",
        summary="issue every leaf certificate anew and roll it out with no API downtime",
        description=(
            "Issue every leaf certificate of the stack's PKI anew, keeping its key (the CAs "
            "and the service-account key stay), then run `up`: the new files reach the "
            "nodes and each component that reads one restarts, one node at a time: etcd "
            "members one by one, each waited for until healthy; each control-plane node's "
            "kube-apiserver, controller-manager and scheduler, the next node only once "
            "this node's apiserver answers /readyz, while the endpoint's load balancer "
            "sends clients to the others; then the kubelets and kube-proxies. A client of "
            "the API through the control plane endpoint sees no failed request (measured "
            "in tests/lab/test_kubernetes.py). CA rotation is manual: docs/operations.md."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork certs renew --stack lab\n"
            "  groundwork certs renew --stack prod --dry-run   # which certificates, which nodes\n"
            "\nExit codes: as `groundwork up`."
        ),
        run=_renew,
    )
    add_run_options(renew, "write the run as JUnit XML: one test case per phase, then every check")
    renew.set_defaults(
        renew_certificates=True,
        no_lab=False,
        no_verify=False,
        substrate_only=False,
        replace_members=[],
        limit="",
    )

"""`groundwork kubeconfig`: write the stack's admin kubeconfig."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from groundwork.cli.common import Subparsers, add_verb, fail, load_spec_from_args
from groundwork.kubeconfig import KubeconfigError, admin_text, write_admin
from groundwork.plan import build_plan


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "kubeconfig",
        summary="write the stack's admin kubeconfig (0600) for kubectl through the endpoint",
        description=(
            "Write an admin kubeconfig for the stack: the cluster CA, the `admin` client "
            "certificate (system:masters) and the control plane endpoint (the VIP, load "
            "balancer or DNS name the stack declares), from the stack's PKI on this "
            "machine. The file holds a private key: it is written with mode 0600."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork kubeconfig --stack lab                 # <state dir>/lab/secrets/admin.kubeconfig\n"
            "  groundwork kubeconfig --stack lab -o ~/.kube/lab  # where you want it\n"
            "  KUBECONFIG=$(groundwork kubeconfig --stack lab) kubectl get nodes\n"
            "\nExit codes: 0 written (its path on stdout), 1 no PKI yet (run up first), "
            "2 invalid stack."
        ),
        run=run_kubeconfig,
    )
    parser.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="FILE",
        help="where to write it (default: <state dir>/<stack>/secrets/admin.kubeconfig; "
        "`-` prints it to stdout)",
    )


def run_kubeconfig(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args, show_warnings=False)
    plan = build_plan(spec)
    try:
        if args.output == "-":
            sys.stdout.write(admin_text(spec, plan))
            return 0
        path = write_admin(spec, plan, Path(args.output).expanduser() if args.output else None)
    except KubeconfigError as err:
        return fail(str(err))
    print(path)  # plain: scripts read it (KUBECONFIG=$(groundwork kubeconfig))
    return 0

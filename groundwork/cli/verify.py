"""`groundwork verify`: check every node against the stack's plan, report drift."""

from __future__ import annotations

import argparse
from pathlib import Path

from groundwork.cli.common import (
    Subparsers,
    add_limit_option,
    add_verb,
    console,
    err_console,
    limit_of,
    load_spec_from_args,
    print_json,
)
from groundwork.verify import verify


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "verify",
        summary="check every node against the stack's plan; report drift per node",
        description=(
            "Run the testinfra checks of tests/infra against every node of the stack, over "
            "SSH with pinned host keys, every node in parallel. The expected "
            "values come from the stack's plan, never from the Ansible inventory: services "
            "active and enabled (containerd, etcd, haproxy, keepalived), ports listening, "
            "etcd healthy with every declared member and refusing clients without a "
            "certificate, key files 0600 and the etcd data dir 0700, containerd's version "
            "and cgroup driver, sysctls and kernel modules, the CNI config, pod routes, "
            "exactly one control-plane node holding the VIP and the endpoint answering "
            "through it, and a real container on each node reaching one on every other "
            "node over the pod network. Then the Kubernetes layer: kubelet, kube-proxy and "
            "the control plane's units, /readyz through the endpoint and on each apiserver, "
            "every node Ready at the declared version, every pod ready (a pull failure named "
            "with its image and node), pod-to-pod across every pair of nodes, the netcheck "
            "Service by ClusterIP and DNS name from each node, claims Bound, and each "
            "serving certificate's SANs and every certificate's days to expiry. Prints one "
            "table per node (and one for the cluster): each check, its result, and for "
            "failures what differs (declared vs live)."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork verify --stack lab\n"
            "  groundwork verify --stack prod --failures-only --junit reports/verify.xml\n"
            "  groundwork verify --stack prod --output json | jq '.failed'\n"
            "  groundwork verify --stack prod --limit w3,w4   # those nodes, and the cluster\n"
            "\nExit codes: 0 every check passed, 1 a check failed or could not run, "
            "2 invalid stack. `groundwork up` repairs drift."
        ),
        output="one table per node",
        run=run_verify,
    )
    parser.add_argument(
        "--junit",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the results as JUnit XML to FILE (for CI)",
    )
    parser.add_argument(
        "--workers",
        "-n",
        type=int,
        default=0,
        metavar="N",
        help="0 (default): one process, every node checked in parallel threads; "
        "N: N pytest-xdist processes, each checking whole nodes (for large clusters)",
    )
    parser.add_argument(
        "--substrate-only",
        action="store_true",
        help="check the nodes' substrate only (after `up --substrate-only`), not Kubernetes",
    )
    add_limit_option(parser, "check")
    parser.add_argument(
        "--failures-only",
        action="store_true",
        help="in the table, list only the checks that failed",
    )


def run_verify(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args, show_warnings=args.output != "json")
    limit = limit_of(args, spec)
    if args.output != "json":
        count = len(limit or spec.nodes)
        err_console.print(f"verifying {count} node(s) of stack {spec.name} ...")
    report = verify(
        spec,
        junit=args.junit,
        workers=args.workers,
        kubernetes=not args.substrate_only,
        limit=limit,
    )
    if args.output == "json":
        print_json(report.to_dict())
    else:
        if report.results:
            # Piped output (CI logs) is full width: see configure_output.
            report.print_table(console, all_checks=not args.failures_only)
        if report.error:
            err_console.print(f"[red]error[/red] {report.error}")
            err_console.print(
                "  next: check SSH to the nodes (`groundwork lab status`) and the log"
            )
    return 0 if report.ok else 1

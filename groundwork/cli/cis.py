"""`groundwork cis`: the CIS Kubernetes Benchmark (kube-bench) on every node."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from groundwork.cli.common import (
    Subparsers,
    add_limit_option,
    add_verb,
    console,
    fail,
    limit_of,
    load_spec_from_args,
    print_json,
    timed_progress,
)

if TYPE_CHECKING:
    from groundwork.cis.report import CisReport

STYLE = {"FAIL": "red", "WARN": "yellow", "INFO": "blue", "PASS": "green"}


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "cis",
        summary="run the CIS Kubernetes Benchmark (kube-bench) on every node",
        description=(
            "Copy kube-bench, built from its pinned Go module, and its benchmark definitions "
            "(read from the same module) to every node over the stack's SSH, with Groundwork's "
            "override config saying where this install keeps each component's unit, "
            "configuration, kubeconfig and certificates; run the targets each node's roles "
            "call for (master, controlplane and etcd on control-plane and etcd nodes, node "
            "wherever a kubelet runs, policies once, on the first control-plane node) with "
            "the benchmark kube-bench maps to the cluster's Kubernetes minor (the newest it "
            "has). Prints, per node, the PASS/FAIL/WARN/INFO counts and every FAIL, WARN and "
            "skipped check with its id, text and reason (docs/security.md lists the reasons)."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork cis --stack lab\n"
            "  groundwork cis --stack lab --limit w1 -o json\n"
            "\nExit codes: 0 no check FAILed, 1 a check FAILed or kube-bench could not run "
            "on a node, 2 invalid stack."
        ),
        run=run_cis,
        output="counts per node, then every FAIL and WARN",
    )
    add_limit_option(parser, "benchmark")


def run_cis(args: argparse.Namespace) -> int:
    from groundwork.build import BuildError
    from groundwork.cis.benchmark import BenchmarkError
    from groundwork.cis.report import problems
    from groundwork.cis.run import run

    spec = load_spec_from_args(args, show_warnings=False)
    limit = limit_of(args, spec)
    try:
        report = run(spec, limit, progress=timed_progress())
    except (BuildError, BenchmarkError) as err:
        return fail(str(err))
    if args.output == "json":
        print_json(report.to_dict())
        return 0 if report.ok else 1
    print_report(report)
    for line in problems(report.nodes):
        console.print(f"[red]failed[/red] {escape(line)}")
    return 0 if report.ok else 1


def print_report(report: CisReport) -> None:
    from groundwork.cis.benchmark import NOT_APPLICABLE, WARN_REASONS, check_sort_key
    from groundwork.cis.report import STATUSES

    counts = Table(
        title=f"CIS {report.benchmark} on {report.stack} (kube-bench {report.kube_bench}; "
        f"benchmark for Kubernetes {report.kubernetes})"
    )
    for column in ("node", "targets", *STATUSES, "seconds"):
        counts.add_column(column)
    for node in report.nodes:
        row = [f"[{STYLE[s]}]{node.count(s)}[/{STYLE[s]}]" for s in STATUSES]
        if node.error:
            row = ["-"] * len(STATUSES)
        counts.add_row(node.node, ",".join(node.targets), *row, f"{node.seconds:.1f}")
    console.print(counts)
    for node in report.nodes:
        if node.error:
            console.print(f"[red]{escape(node.node)}: {escape(node.error)}[/red]")
            continue
        shown = sorted(node.with_status("FAIL", "WARN", "INFO"), key=lambda f: check_sort_key(f.id))
        if not shown:
            continue
        table = Table(title=f"{node.node}: FAIL, WARN and skipped checks")
        for column in ("id", "status", "check", "why"):
            table.add_column(column, overflow="fold")
        for f in shown:
            why = NOT_APPLICABLE.get(f.id) or WARN_REASONS.get(f.id) or f.actual or f.reason
            table.add_row(
                f.id,
                f"[{STYLE[f.status]}]{f.status}[/{STYLE[f.status]}]",
                escape(f.text),
                escape(why.splitlines()[0] if why else ""),
            )
        console.print(table)
    totals = report.totals()
    console.print(
        f"cis {report.stack}: "
        + ", ".join(f"{totals[s]} {s}" for s in STATUSES)
        + f" on {len(report.nodes)} node(s) in {report.seconds:.0f} s"
    )

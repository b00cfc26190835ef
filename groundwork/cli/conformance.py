"""`groundwork conformance`: upstream's conformance suite against the stack's cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

from groundwork.build import BuildError
from groundwork.cli.common import (
    Subparsers,
    add_verb,
    console,
    fail,
    load_spec_from_args,
    print_json,
    timed_progress,
)
from groundwork.conformance import (
    DEFAULT_PROCESSES,
    FOCUSED,
    FOCUSED_LABEL_FILTER,
    FOCUSED_PROCESSES,
    LABEL_FILTER,
    ConformanceError,
    focused_skip,
    run,
)
from groundwork.kubeconfig import KubeconfigError


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "conformance",
        summary="run upstream's Kubernetes conformance specs (e2e.test) against the cluster",
        description=(
            "Run the [Conformance] specs of upstream's e2e.test, built with ginkgo from the "
            "same pinned kubernetes module as the cluster, in parallel processes through the "
            "admin kubeconfig and the stack's endpoint. By default the focused set the test "
            "command runs (API machinery, ReplicaSets, ReplicationControllers, Jobs, "
            "StatefulSets, Pods, ConfigMaps, Secrets, Services, DNS); --all runs every "
            "conformance spec (about 450; 52 minutes on the lab's two cores). Specs that "
            "need what the lab's images lack are left out of the focused set by name, each "
            "with its reason, in groundwork/conformance.py (CANNOT_RUN_HERE)."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork conformance --stack lab\n"
            "  groundwork conformance --stack lab --all --report-dir reports/conformance\n"
            "  groundwork conformance --stack lab --focus '\\[sig-network\\] DNS ' -o json\n"
            "\nExit codes: 0 every selected spec passed and its namespaces were deleted, 1 a spec "
            "failed, a namespace of the run was left, or the suite could "
            "not run, 2 invalid stack."
        ),
        run=run_conformance,
        output="passed, failed (with messages), skipped, and the namespaces the run left",
    )
    parser.add_argument("--all", action="store_true", help="every conformance spec")
    parser.add_argument(
        "--focus", action="append", default=[], metavar="REGEX", help="only specs matching"
    )
    parser.add_argument(
        "--skip", action="append", default=[], metavar="REGEX", help="leave out specs matching"
    )
    parser.add_argument(
        "--procs",
        type=int,
        default=None,
        metavar="N",
        help=f"parallel processes (default: {FOCUSED_PROCESSES} for the focused set, "
        f"{DEFAULT_PROCESSES} with --all)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where ginkgo's JSON report, JUnit files and log go (default: a temporary dir)",
    )


def run_conformance(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args, show_warnings=False)
    if args.all:
        focus, skip, labels = list(args.focus), list(args.skip), LABEL_FILTER
        processes = args.procs or DEFAULT_PROCESSES
    else:
        focus = list(args.focus) or list(FOCUSED)
        skip = [*focused_skip(), *args.skip]
        labels = FOCUSED_LABEL_FILTER
        processes = args.procs or FOCUSED_PROCESSES
    try:
        result = run(
            spec,
            focus=focus,
            skip=skip,
            processes=processes,
            report_dir=args.report_dir,
            progress=timed_progress(),
            label_filter=labels,
        )
    except (ConformanceError, BuildError, KubeconfigError) as err:
        return fail(str(err))
    if args.output == "json":
        print_json(result.to_dict())
    else:
        for failed in result.failed:
            console.print(f"[red]{failed.state}[/red] {failed.name}")
            for line in failed.message.splitlines()[:6]:
                console.print(f"    {line}", markup=False, highlight=False)
            if failed.log_tail:
                console.print("    its last log lines:")
                for line in failed.log_tail.splitlines()[-10:]:
                    console.print(f"      {line}", markup=False, highlight=False)
        for left in result.leftovers:
            console.print("[red]not deleted[/red]", end=" ")
            console.print(left, markup=False, highlight=False)
        console.print(f"conformance {spec.name}: {result.summary()} (report: {result.report})")
    return 0 if result.ok else 1

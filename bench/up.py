"""Benchmark `up` on a booted lab: cold runs (fresh nodes) and no-change runs.

    python bench/up.py [--stack-file FILE | --stack NAME] [--cold N] [--warm N] [--cli N]

A cold run recreates the lab's machines first (`lab down` + `lab up`, not
timed; the image and mirror stay cached), then times provisioning: PKI,
inventory and every role, the way `groundwork up --no-verify` does. The
no-change runs come in two kinds, each must report changed=0 on every host:
as `up` runs by default, where every node reads as in the last run that
changed nothing and no role runs (groundwork/converged.py), and with
`--full`, where every role runs on every node (the roles' own idempotence).
Before them one untimed `--full` run records the nodes' reads. Prints each
run, then median and spread (min-max), and writes them as JSON to
<state dir>/<stack>/bench/up.json. The host's load average is recorded too:
on a shared machine it dominates the figures.

`--cli N` also times N runs of each kind of the command a user types,
`groundwork up --no-verify [--full]` in a new process: interpreter start,
the lab check and the inventory included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from groundwork import lab  # noqa: E402
from groundwork.paths import state_dir  # noqa: E402
from groundwork.phases import UP, Context, Options, run  # noqa: E402
from groundwork.spec import load_stack  # noqa: E402

# The targets on the 2-core host, for the whole stack with Kubernetes: five
# fresh nodes to a cluster with its workloads in 150 s, a no-change run in 10 s.
KINDS = ("no-change", "no-change-cli", "no-change-full", "no-change-full-cli")
TARGETS = {"cold": 150.0, **dict.fromkeys(KINDS, 10.0)}
CHANGES = re.compile(r"roles: (\d+) change\(s\)")
LEFT_ALONE = "no role run"


def timed_up(spec: Any, quiet: Console, full: bool = False) -> tuple[float, int, bool, bool]:
    """(seconds, changes, passed, whether no role ran) of one `up --no-verify`."""
    start = time.monotonic()
    context = Context(spec, Options(live=False, lab=False, verify=False, full=full), quiet)
    result = run(UP, context)
    summary = context.summary
    changed = summary.changed if summary is not None else -1
    alone = summary is not None and LEFT_ALONE in summary.note
    return time.monotonic() - start, changed, result.ok, alone


def timed_cli(stack_args: list[str], full: bool = False) -> tuple[float, int, bool, bool]:
    """One `groundwork up --no-verify [--full]` in a new process, as a user runs it."""
    argv = [str(Path(sys.executable).parent / "groundwork"), "up", *stack_args, "--no-verify"]
    start = time.monotonic()
    out = subprocess.run(argv + (["--full"] if full else []), capture_output=True, text=True)
    seconds = time.monotonic() - start
    found = CHANGES.search(out.stdout)
    changed = int(found[1]) if found else -1
    return seconds, changed, out.returncode == 0, LEFT_ALONE in out.stdout


def reference_seconds() -> float:
    """A fixed pure-Python loop, timed: how fast the host's CPU is right now.

    On a shared or virtual host the same loop took 0.64 s in one hour and
    1.15 s in the next; every figure moves with it, so each run records it.
    """
    started = time.perf_counter()
    sum(range(30_000_000))
    return round(time.perf_counter() - started, 2)


def stats(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--stack", default="lab")
    group.add_argument("--stack-file")
    parser.add_argument("--cold", type=int, default=3, help="cold runs (default 3)")
    parser.add_argument("--warm", type=int, default=5, help="no-change runs (default 5)")
    parser.add_argument(
        "--cli", type=int, default=3, help="no-change runs of the CLI command (default 3)"
    )
    args = parser.parse_args()
    spec = load_stack(args.stack_file or args.stack)
    console = Console(highlight=False)
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    results: dict[str, list[dict[str, Any]]] = {"cold": [], **{kind: [] for kind in KINDS}}
    stack_args = ["--stack-file", args.stack_file] if args.stack_file else ["--stack", args.stack]

    def record(kind: str, label: str, run: tuple[float, int, bool, bool], speed: float) -> None:
        seconds, changed, ok, alone = run
        load = os.getloadavg()[0]
        results[kind].append(
            {
                "seconds": seconds,
                "changed": changed,
                "ok": ok,
                "no_role_run": alone,
                "load": load,
                "reference_s": speed,
            }
        )
        console.print(
            f"{label}: {seconds:.1f} s, changed={changed}, ok={ok}, no role run={alone}, "
            f"load {load:.1f}, reference loop {speed:.2f} s"
        )

    for i in range(args.cold):
        lab.down(spec)
        state = lab.up(spec)
        if not state.up:
            console.print("[red]lab did not come up[/red]")
            return 1
        speed = reference_seconds()
        cold = timed_up(spec, quiet)
        record("cold", f"cold {i + 1}", cold, speed)
        if not cold[2]:
            return 1
    # Converged, then a run of every role that changes nothing: its reads
    # are what the default no-change runs compare with.
    for _ in range(2):
        _, changed, ok, _ = timed_up(spec, quiet, full=True)
        if not ok:
            console.print("[red]up failed[/red]")
            return 1
        if changed == 0:
            break
    for i in range(args.warm):
        record("no-change", f"no-change {i + 1}", timed_up(spec, quiet), reference_seconds())
    for i in range(args.cli):
        record(
            "no-change-cli", f"no-change CLI {i + 1}", timed_cli(stack_args), reference_seconds()
        )
    for i in range(args.warm):
        run_full = timed_up(spec, quiet, full=True)
        record("no-change-full", f"no-change --full {i + 1}", run_full, reference_seconds())
    for i in range(args.cli):
        run_full = timed_cli(stack_args, full=True)
        record("no-change-full-cli", f"no-change CLI --full {i + 1}", run_full, reference_seconds())

    report: dict[str, Any] = {"stack": spec.name, "nodes": len(spec.nodes), "runs": results}
    for kind, runs in results.items():
        if not runs:
            continue
        figures = stats([r["seconds"] for r in runs])
        report[kind] = {**figures, "target": TARGETS[kind], "runs": len(runs)}
        verdict = "meets" if figures["median"] <= TARGETS[kind] else "MISSES"
        console.print(
            f"{kind}: median {figures['median']} s (min {figures['min']}, max {figures['max']}) "
            f"over {len(runs)} run(s); {verdict} the {TARGETS[kind]:.0f} s target"
        )
    if any(r["changed"] for kind in KINDS for r in results[kind]):
        console.print("[red]a no-change run changed something[/red]")
    if not all(r["no_role_run"] for kind in KINDS[:2] for r in results[kind]):
        console.print("[red]a default no-change run ran the roles[/red]")
    out = state_dir(spec.name) / "bench" / "up.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `up` on a booted lab: cold runs (fresh nodes) and no-change runs.

    python bench/up.py [--stack-file FILE | --stack NAME] [--cold N] [--warm N] [--cli N]

A cold run recreates the lab's machines first (`lab down` + `lab up`, not
timed; the image and mirror stay cached), then times provisioning: PKI,
inventory and every role, the way `groundwork up --no-verify` does. A
no-change run times the same on converged nodes and must report changed=0
on every host. Prints each run, then median and spread (min-max), and
writes them as JSON to <state dir>/<stack>/bench/up.json. The host's load
average is recorded too: on a shared machine it dominates the figures.

`--cli N` also times N no-change runs of the command a user types,
`groundwork up --no-verify` in a new process: interpreter start, the lab
check and the inventory included.
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
TARGETS = {"cold": 150.0, "no-change": 10.0, "no-change-cli": 10.0}
CHANGES = re.compile(r"roles: (\d+) change\(s\)")


def timed_up(spec: Any, quiet: Console) -> tuple[float, int, bool]:
    start = time.monotonic()
    context = Context(spec, Options(live=False, lab=False, verify=False), quiet)
    result = run(UP, context)
    changed = context.summary.changed if context.summary is not None else -1
    return time.monotonic() - start, changed, result.ok


def timed_cli(stack_args: list[str]) -> tuple[float, int, bool]:
    """One `groundwork up --no-verify` in a new process, as a user runs it."""
    argv = [str(Path(sys.executable).parent / "groundwork"), "up", *stack_args, "--no-verify"]
    start = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    found = CHANGES.search(out.stdout)
    return seconds, int(found[1]) if found else -1, out.returncode == 0


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
    results: dict[str, list[dict[str, Any]]] = {"cold": [], "no-change": [], "no-change-cli": []}
    stack_args = ["--stack-file", args.stack_file] if args.stack_file else ["--stack", args.stack]

    def record(kind: str, label: str, seconds: float, changed: int, ok: bool, speed: float) -> None:
        load = os.getloadavg()[0]
        results[kind].append(
            {"seconds": seconds, "changed": changed, "ok": ok, "load": load, "reference_s": speed}
        )
        console.print(
            f"{label}: {seconds:.1f} s, changed={changed}, ok={ok}, load {load:.1f}, "
            f"reference loop {speed:.2f} s"
        )

    for i in range(args.cold):
        lab.down(spec)
        state = lab.up(spec)
        if not state.up:
            console.print("[red]lab did not come up[/red]")
            return 1
        speed = reference_seconds()
        seconds, changed, ok = timed_up(spec, quiet)
        record("cold", f"cold {i + 1}", seconds, changed, ok, speed)
        if not ok:
            return 1
    if not results["cold"]:
        seconds, changed, ok = timed_up(spec, quiet)  # converge before the no-change runs
        if not ok:
            console.print("[red]up failed[/red]")
            return 1
    for i in range(args.warm):
        speed = reference_seconds()
        seconds, changed, ok = timed_up(spec, quiet)
        record("no-change", f"no-change {i + 1}", seconds, changed, ok, speed)
    for i in range(args.cli):
        speed = reference_seconds()
        seconds, changed, ok = timed_cli(stack_args)
        record("no-change-cli", f"no-change CLI {i + 1}", seconds, changed, ok, speed)

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
    if any(r["changed"] for r in results["no-change"] + results["no-change-cli"]):
        console.print("[red]a no-change run changed something[/red]")
    out = state_dir(spec.name) / "bench" / "up.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `groundwork verify` on a provisioned lab (target: <= 10 s for 5 nodes).

Times the whole command as a user runs it (Python start, pytest with one xdist
worker per node, SSH, every check, the report), several runs, and prints the
median and spread. Every run must pass: a verify that fails fast is not a
measurement. The first run may open the SSH connections (ControlMaster);
later runs reuse them while they persist, so both are shown.

Run as root on a provisioned lab:
  .venv/bin/python bench/verify.py [--stack lab | --stack-file F] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

CLI = "import sys; from groundwork.cli import main; sys.exit(main(sys.argv[1:]))"
TARGET = 10.0


def run_once(stack_args: list[str]) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", CLI, "verify", *stack_args, "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    try:
        report: dict[str, Any] = json.loads(out.stdout)
    except ValueError:
        sys.exit(f"verify printed no report (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    if out.returncode != 0:
        failed = [
            f"{r['node']}: {r['check']} {r['drift'] or r['message'][:300]}"
            for r in report.get("results", [])
            if r["outcome"] != "passed"
        ]
        sys.exit(f"verify failed (exit {out.returncode}): {report.get('error')} {failed}")
    return elapsed, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--stack", default="lab")
    group.add_argument("--stack-file", default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    stack_args = ["--stack-file", args.stack_file] if args.stack_file else ["--stack", args.stack]
    walls: list[float] = []
    inner: list[float] = []
    checks = 0
    for i in range(args.runs):
        wall, report = run_once(stack_args)
        walls.append(wall)
        inner.append(float(report["seconds"]))  # type: ignore[arg-type]
        checks = int(report["passed"])  # type: ignore[call-overload]
        print(f"run {i + 1}: {wall:.2f} s wall ({inner[-1]:.2f} s in pytest), {checks} checks")
    load = os.getloadavg()[0]
    median = statistics.median(walls)
    spread = f"min {min(walls):.2f} / max {max(walls):.2f}"
    if len(walls) > 1:
        spread += f" / stdev {statistics.stdev(walls):.2f}"
    print(
        f"groundwork verify: median {median:.2f} s ({spread}) over {len(walls)} runs, "
        f"{checks} checks; target <= {TARGET:.0f} s: {'met' if median <= TARGET else 'MISSED'}"
        f" (host load average {load:.1f} on {os.cpu_count()} CPUs: the lab nodes share them)"
    )
    return 0 if median <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `groundwork lab up` for the 5-node lab stack: warm and cold.

warm: image and mirror cached (the normal case): `lab down` then `lab up`.
cold: GROUNDWORK_CACHE_DIR pointed at an empty temp dir, so the node image
      is debootstrapped again and the mirror is fetched and indexed again.

Run as root:  .venv/bin/python bench/lab_up.py [--warm N] [--cold N] [--stack lab]
Targets: warm <= 30 s, cold <= 300 s. Leaves the lab down.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CLI = "import sys; from groundwork.cli import main; sys.exit(main(sys.argv[1:]))"
TARGETS = {"warm": 30.0, "cold": 300.0}


def groundwork(args: list[str], env: dict[str, str]) -> float:
    """Run one CLI command; its wall time. Fails loudly if the command fails."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"groundwork {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def measure(kind: str, runs: int, stack: str) -> list[float]:
    times = []
    for i in range(runs):
        env = dict(os.environ)
        with tempfile.TemporaryDirectory(prefix="gw-bench-cache-") as empty:
            if kind == "cold":
                env["GROUNDWORK_CACHE_DIR"] = empty
            groundwork(["lab", "down", "--stack", stack], env)
            elapsed = groundwork(["lab", "up", "--stack", stack], env)
            groundwork(["lab", "down", "--stack", stack], env)
        print(f"{kind} run {i + 1}/{runs}: {elapsed:.1f} s", flush=True)
        times.append(elapsed)
    return times


def report(kind: str, times: list[float]) -> bool:
    median = statistics.median(times)
    spread = max(times) - min(times)
    ok = median <= TARGETS[kind]
    print(
        f"{kind}: median {median:.1f} s, spread {spread:.1f} s (min {min(times):.1f}, "
        f"max {max(times):.1f}, n={len(times)}), target <= {TARGETS[kind]:.0f} s: "
        f"{'ok' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=5, help="warm runs (default 5)")
    parser.add_argument("--cold", type=int, default=2, help="cold runs (default 2)")
    parser.add_argument("--stack", default="lab")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the lab needs privileged podman")
    results = {}
    # Warm first needs a warm cache: one untimed up fills it.
    groundwork(["lab", "up", "--stack", args.stack], dict(os.environ))
    if args.warm:
        results["warm"] = measure("warm", args.warm, args.stack)
    if args.cold:
        results["cold"] = measure("cold", args.cold, args.stack)
    ok = [report(kind, times) for kind, times in results.items()]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `groundwork build`: every component from its pinned Go module, cold and cached.

cold:   Go's module and build caches (GOMODCACHE, GOCACHE) and Groundwork's
        cache (GROUNDWORK_CACHE_DIR) all empty temp dirs: what a fresh
        machine does, module downloads included.
cached: the same caches again: nothing to build, only the checks.

Prints the seconds each component took (from the build's own progress
lines), the totals, and writes them as JSON to --json if given.

Run as root:  .venv/bin/python bench/build.py [--json FILE] [--keep]
Targets (issue: Kubernetes for real): cold <= 40 min, cached <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "import sys; from groundwork.cli import main; sys.exit(main(sys.argv[1:]))"
TARGETS = {"cold": 40 * 60.0, "cached": 30.0}
COMPONENT = re.compile(r"^\s*([\d.]+)s build: component \d+ of \d+: (\S+)")


def run_build(env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """One `groundwork build`; its wall time and each component's seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", CLI, "build"], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"groundwork build failed:\n{result.stdout}\n{result.stderr}")
    starts = [(float(m[1]), m[2]) for m in map(COMPONENT.match, result.stderr.splitlines()) if m]
    ends = [t for t, _ in starts[1:]] + [elapsed]
    return elapsed, {name: round(end - t, 1) for (t, name), end in zip(starts, ends, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temp caches")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="groundwork-bench-build-", dir="/var/tmp"))
    env = dict(os.environ) | {
        "GOMODCACHE": str(base / "gomod"),
        "GOCACHE": str(base / "gocache"),
        "GROUNDWORK_CACHE_DIR": str(base / "groundwork"),
    }
    figures: dict[str, object] = {}
    try:
        for kind in ("cold", "cached"):
            elapsed, parts = run_build(env)
            figures[kind] = {"seconds": round(elapsed, 1), "components": parts}
            verdict = "ok" if elapsed <= TARGETS[kind] else "OVER TARGET"
            print(f"{kind}: {elapsed:.1f} s (target {TARGETS[kind]:.0f} s: {verdict})")
            for name, seconds in parts.items():
                print(f"  {name:<24} {seconds:8.1f} s")
    finally:
        if not args.keep:
            # The module cache is read-only by Go's design: make it removable.
            subprocess.run(["chmod", "-R", "u+w", str(base)], check=False)
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

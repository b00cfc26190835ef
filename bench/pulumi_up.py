"""The two front doors on the same lab, timed: `pulumi up` against `groundwork up`.

    python bench/pulumi_up.py [--stack lab] [--runs 1]

Each run, on the stack's lab machines (kept; `groundwork lab up` first):

1. the stack is reset by the door that drives it (not timed);
2. `groundwork pulumi up -s STACK --yes --skip-preview` on reset nodes, to
   every addon applied (cold; the machines and the mirror are warm);
3. a no-change `groundwork pulumi up` and `groundwork pulumi preview
   --expect-no-changes`;
4. `groundwork pulumi destroy` (timed), then a cold `groundwork up` on the
   same reset nodes, the other door's figure to compare with, and a
   `groundwork destroy` that leaves the stack unclaimed.

The issue's targets: pulumi cold <= groundwork cold + 60 s, no-change
pulumi up <= 20 s, preview <= 15 s. Prints the medians and writes every
figure to <state dir>/<stack>/bench/pulumi_up.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from groundwork import door  # noqa: E402
from groundwork.paths import state_dir  # noqa: E402

GROUNDWORK = str(Path(sys.executable).parent / "groundwork")


def timed(*argv: str) -> float:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def reset(stack: str) -> None:
    held = door.holder(stack)
    if held is not None and held[0] == "pulumi":
        timed(GROUNDWORK, "pulumi", "destroy", "-s", stack, "--yes")
    else:
        timed(GROUNDWORK, "destroy", "--stack", stack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default="lab")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    stack = args.stack
    timed(GROUNDWORK, "lab", "up", "--stack", stack)
    figures: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        figures.setdefault(name, []).append(round(seconds, 1))
        print(f"{name}: {seconds:.1f} s", flush=True)

    pulumi = [GROUNDWORK, "pulumi"]
    for _ in range(args.runs):
        reset(stack)
        record("pulumi up, cold", timed(*pulumi, "up", "-s", stack, "--yes", "--skip-preview"))
        record("pulumi up, no change", timed(*pulumi, "up", "-s", stack, "--yes", "--skip-preview"))
        record(
            "pulumi preview --expect-no-changes",
            timed(*pulumi, "preview", "-s", stack, "--expect-no-changes"),
        )
        record("pulumi destroy", timed(*pulumi, "destroy", "-s", stack, "--yes"))
        record("groundwork up, cold", timed(GROUNDWORK, "up", "--stack", stack))
        timed(GROUNDWORK, "destroy", "--stack", stack)

    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(json.dumps(medians, indent=2))
    gap = medians["pulumi up, cold"] - medians["groundwork up, cold"]
    print(f"pulumi cold - groundwork cold: {gap:+.1f} s (target <= +60 s)")
    out = state_dir(stack) / "bench"
    out.mkdir(exist_ok=True)
    (out / "pulumi_up.json").write_text(json.dumps({"runs": figures, "medians": medians}, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: every [Conformance] spec of upstream's e2e.test against a stack's cluster.

Runs `groundwork conformance --all` (ginkgo, N parallel processes) on a
converged cluster and prints passed / failed / skipped and the wall time,
with each failure's name; the JSON result goes to --json if given. The
ginkgo report and log stay in --report-dir.

Run as root on a converged lab:
    .venv/bin/python bench/conformance.py --stack lab [--procs 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from groundwork.conformance import LABEL_FILTER, run
from groundwork.paths import state_dir
from groundwork.spec import load_stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="lab")
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--report-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    spec = load_stack(args.stack)
    report_dir = args.report_dir or state_dir(spec.name) / "conformance-all"
    result = run(
        spec,
        focus=(),
        processes=args.procs,
        report_dir=report_dir,
        label_filter=LABEL_FILTER,
        progress=print,
    )
    for failed in result.failed:
        first = failed.message.splitlines()[0] if failed.message else ""
        print(f"FAILED {failed.name}\n    {first[:300]}")
    print(f"conformance (all) on {spec.name}: {result.summary()}; report {result.report}")
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

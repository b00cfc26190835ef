"""Benchmark: `groundwork plan --output json` for a generated 500-node stack.

Target: <= 1 s wall on the 2-core reference machine. Not a timed test; run
it by hand and write the figure in the issue note:

    .venv/bin/python bench/plan_500.py [--nodes 500] [--runs 7]

Measures the verb in-process (parse + validate + plan + JSON, after imports)
and as a subprocess (what a user waits for, Python start-up included).
`--libyaml` makes yaml.safe_load use libyaml's CSafeLoader (as a proposed
one-line change to groundwork/spec/load.py would), to show its effect.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from groundwork.cli import main

_LIBYAML = "import yaml; yaml.safe_load = lambda s: yaml.load(s, Loader=yaml.CSafeLoader)\n"


def stack(nodes: int) -> dict[str, object]:
    """3 control-plane+etcd nodes, the rest workers, on a /16 node network."""

    def address(i: int) -> str:
        return f"10.50.{(i + 11) // 256}.{(i + 11) % 256}"

    members = [
        {
            "name": f"cp{i + 1}" if i < 3 else f"w{i - 2}",
            "address": address(i),
            "roles": ["control-plane", "etcd"] if i < 3 else ["worker"],
            "ssh": {"user": "ops", "key": "/etc/groundwork/keys/bench"},
        }
        for i in range(nodes)
    ]
    return {
        "name": "bench",
        "nodes": members,
        "controlPlane": {"endpoint": {"vip": "10.50.0.10", "port": 6443}},
        "network": {
            "plugin": "calico",
            "backend": "vxlan",
            "podCidr": "10.128.0.0/9",
            "nodeSubnetSize": 25,
            "serviceCidr": "10.96.0.0/12",
            "nodeCidr": "10.50.0.0/16",
        },
        "storage": {"classes": [{"name": "local", "driver": "local-path", "default": True}]},
    }


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def report(label: str, samples: list[float]) -> None:
    median = statistics.median(samples)
    print(
        f"{label:<12} median {median:.3f} s  min {min(samples):.3f}  max {max(samples):.3f}"
        f"  (n={len(samples)})"
    )


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--libyaml", action="store_true", help="parse YAML with CSafeLoader")
    args = parser.parse_args()
    prelude = _LIBYAML if args.libyaml else ""
    if args.libyaml:
        exec(_LIBYAML)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.bench.yaml"
        path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": stack(args.nodes)}}))
        argv = ["plan", "--stack-file", str(path), "--output", "json"]

        def in_process() -> None:
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
                code = main(argv)
            assert code == 0 and sink.getvalue().startswith("{"), code

        def as_subprocess() -> None:
            done = subprocess.run(
                [sys.executable, "-c", prelude + "import sys; from groundwork.cli import main; "
                 "sys.exit(main(sys.argv[1:]))", *argv],
                capture_output=True,
                check=True,
            )  # fmt: skip
            assert done.stdout.startswith(b"{")

        in_process()  # warm imports and caches once
        loader = "CSafeLoader" if args.libyaml else "as shipped"
        print(
            f"groundwork plan --output json, {args.nodes} nodes "
            f"({path.stat().st_size} bytes, YAML {loader})"
        )
        report("in-process", timed(in_process, args.runs))
        sub = timed(as_subprocess, args.runs)
        report("subprocess", sub)
        verdict = "OK" if statistics.median(sub) <= 1.0 else "OVER"
        print(f"target <= 1 s wall (subprocess median): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main_())

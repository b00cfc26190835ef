"""Benchmark: the Pulumi program under Pulumi's mock runtime, generated 100-node stack.

Target: <= 5 s wall on the 2-core reference machine. Not a timed test; run
by hand and write the figure in the issue note:

    .venv/bin/python bench/pulumi_100.py [--nodes 100] [--runs 5]

Each run is a fresh Python process, like `pulumi up` starting the program:
imports + config parse + validation + every resource registered with the
mock monitor, and the PKI material really generated (the mocks call the
real `PkiProvider.create`), so the figure includes ~110 certificates.
"""

from __future__ import annotations

import argparse
import json
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def stack(nodes: int) -> dict[str, Any]:
    """3 control-plane+etcd nodes behind a VIP, the rest workers, calico BGP."""

    def address(i: int) -> str:
        return f"10.50.{(i + 11) // 256}.{(i + 11) % 256}"

    return {
        "name": "bench",
        "nodes": [
            {
                "name": f"cp{i + 1}" if i < 3 else f"w{i - 2}",
                "address": address(i),
                "roles": ["control-plane", "etcd"] if i < 3 else ["worker"],
                "ssh": {"user": "ops", "key": "/etc/groundwork/keys/bench"},
            }
            for i in range(nodes)
        ],
        "controlPlane": {"endpoint": {"vip": "10.50.0.10", "port": 6443}},
        "network": {
            "plugin": "calico",
            "backend": "vxlan",
            "podCidr": "10.128.0.0/9",
            "nodeSubnetSize": 24,
            "serviceCidr": "10.96.0.0/12",
            "nodeCidr": "10.50.0.0/16",
        },
        "storage": {"classes": [{"name": "local", "driver": "local-path", "default": True}]},
    }


def child(nodes: int) -> None:
    """One program run under mocks; prints its in-process seconds and resource count."""
    start = time.perf_counter()
    import pulumi
    from pulumi.runtime.mocks import MockMonitor

    from groundwork.pulumi import PkiMaterial, PkiProvider

    material_type = f"pulumi-python:{PkiMaterial._resource_type_name}"

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
            if args.typ == material_type:
                props = {k: v for k, v in args.inputs.items() if k != "__provider"}
                created = PkiProvider().create(props)
                return str(created.id), created.outs or {}
            return f"{args.name}-id", args.inputs

        def call(self, args: Any) -> tuple[dict[str, Any], None]:
            return {}, None

    mocks = Mocks()
    monitor = MockMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="groundwork", stack="bench", preview=False, monitor=monitor
    )
    pulumi.runtime.set_all_config({"groundwork:cluster": json.dumps(stack(nodes))})
    imported = time.perf_counter()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        cluster = runpy.run_path(str(ROOT / "__main__.py"))["cluster"]
        return cluster.pki.certificates  # wait until the material exists

    program()
    done = time.perf_counter()
    certs = max(
        (len(r.state.get("certificates") or {}) for r in monitor.resources.values()), default=0
    )
    print(json.dumps({"program": done - imported, "total": done - start,
                      "resources": len(monitor.resources), "certificates": certs}))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.nodes)
        return 0
    walls: list[float] = []
    programs: list[float] = []
    info: dict[str, Any] = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--nodes", str(args.nodes)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        walls.append(time.perf_counter() - start)
        info = json.loads(done.stdout.strip().splitlines()[-1])
        programs.append(info["program"])
    print(
        f"Pulumi program under mocks, {args.nodes} nodes: {info['resources']} resources,"
        f" {info['certificates']} certificates generated"
    )
    for label, samples in (("wall", walls), ("program", programs)):
        print(
            f"{label:<8} median {statistics.median(samples):.3f} s  min {min(samples):.3f}"
            f"  max {max(samples):.3f}  stdev {statistics.pstdev(samples):.3f}  (n={len(samples)})"
        )
    verdict = "OK" if statistics.median(walls) <= 5.0 else "OVER"
    print(f"target <= 5 s wall (median): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

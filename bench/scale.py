"""Benchmark how `up` scales: the lab stack's shape with 5 and with 15 machines.

    python bench/scale.py [--runs N] [--sizes 5,15] [--subnet 10.80.0.0/24]

For each size, a stack file like stacks/Pulumi.lab.yaml is generated (3
control-plane + etcd nodes, the rest workers) on its own lab subnet, so the
`lab` stack is left alone. Per run: `lab down` + `lab up` (not timed), then a
cold `up` (provisioning, as `groundwork up --no-verify`), then one no-change
`up`. A fixed CPU loop is timed before each run (the host's speed at that
moment). Prints each run, the median and spread per size, and what one more
machine costs a cold run: wall seconds, and CPU seconds on the controller and
in the machines (on two shared cores the work, not the tool, sets the ratio
of the sizes, so the ratio is printed for reference only). Leaves the labs
down. Writes the figures to <state dir>/bench-scale.json.

Every timed cold run is a rebuild: it follows the `lab down` of a
provisioned lab of the same size, as `groundwork rebuild` does. The runs of one
size go one after another, after one untimed priming run. Why: with the
machines on disk (`cluster.lab.storage: disk`) on an ext4 without a journal
(this host's root), each new file's inode skips every inode freed in the last
5 minutes whose table block is dirty, and a cold run writes tens of thousands
of files. Measured on 5 machines: 23.7 and 27.4 s after 5 quiet minutes,
30.0 s right after a 15-machine lab was deleted. The sizes used to alternate,
so every 5-machine run followed a 15-machine deletion, which flattered the
ratio. The lab's default storage is memory now (groundwork/lab/storage.py),
which keeps no such history; the protocol stays, so runs compare.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from groundwork import lab  # noqa: E402
from groundwork.paths import state_dir  # noqa: E402
from groundwork.phases import UP, Context, Options, run  # noqa: E402
from groundwork.spec import ClusterSpec, load_stack  # noqa: E402
from groundwork.spec.model import LabStorageKind  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from up import reference_seconds, stats  # noqa: E402  (bench/up.py)

CONTROL_PLANE = 3


def stack_document(
    size: int, subnet: ipaddress.IPv4Network, storage: str | None = None
) -> dict[str, Any]:
    """The lab stack reshaped: `size` machines on `subnet`, the machines' disks
    in `storage` (default: the lab stack's) (pure)."""
    base: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / "Pulumi.lab.yaml").read_text())
    cluster = base["config"]["groundwork:cluster"]
    hosts = list(subnet.hosts())
    cluster["name"] = f"bench{size}"
    nodes = []
    for i in range(size):
        control = i < CONTROL_PLANE
        name = f"cp{i + 1}" if control else f"w{i - CONTROL_PLANE + 1}"
        roles = ["control-plane", "etcd"] if control else ["worker"]
        address = hosts[10 + i] if control else hosts[20 + i - CONTROL_PLANE]
        nodes.append({"name": name, "address": str(address), "roles": roles, "ssh": {"key": "lab"}})
    cluster["nodes"] = nodes
    cluster["controlPlane"]["endpoint"]["vip"] = str(hosts[9])
    cluster["lab"]["subnet"] = str(subnet)
    cluster["lab"]["gateway"] = str(hosts[0])
    port = cluster["lab"]["mirrorPort"]
    cluster["artifacts"]["mirror"] = f"http://{hosts[0]}:{port}"
    if storage is not None:
        cluster["lab"]["storage"] = storage
    return base


def controller_cpu() -> float:
    """CPU seconds used so far by this process and its finished children
    (ansible-playbook, its workers, mitogen and ssh): the controller's share."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def host_busy_cpu() -> float:
    """CPU seconds the whole host has spent busy since boot (/proc/stat):
    the controller plus every lab machine, which share the host's cores."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Timed:
    seconds: float
    changed: int
    controller_cpu: float  # this process and its children (Ansible, mitogen, ssh)
    host_cpu: float  # everything on the host, lab machines included


def timed(spec: ClusterSpec, quiet: Console) -> Timed:
    """One provisioning run: its wall time, changes and CPU use."""
    cpu, busy = controller_cpu(), host_busy_cpu()
    started = time.monotonic()
    context = Context(spec, Options(live=False, lab=False, verify=False), quiet)
    result = run(UP, context)
    seconds = time.monotonic() - started
    summary = context.summary
    if not result.ok or summary is None:
        lab.down(spec)  # the sizes share one subnet: leave it free for the next try
        logs = f"\nlogs: {summary.artifact_dir}" if summary is not None else ""
        sys.exit(result.describe_failure() + logs)
    return Timed(seconds, summary.changed, controller_cpu() - cpu, host_busy_cpu() - busy)


def lab_storage(spec: ClusterSpec) -> LabStorageKind:
    assert spec.lab is not None, "the bench stacks are lab stacks"
    return spec.lab.storage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="cold runs per size (default 2)")
    parser.add_argument("--sizes", default="5,15", help="machine counts (default 5,15)")
    parser.add_argument("--subnet", default="10.80.0.0/24", help="lab subnet for the bench stacks")
    parser.add_argument(
        "--storage",
        choices=get_args(LabStorageKind),
        help="where the machines' disks live (default: the lab stack's cluster.lab.storage)",
    )
    args = parser.parse_args()
    console = Console(highlight=False)
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    subnet = ipaddress.IPv4Network(args.subnet)
    report: dict[str, Any] = {"cpus": os.cpu_count(), "sizes": {}}
    sizes = [int(s) for s in args.sizes.split(",")]
    cold: dict[int, list[float]] = {size: [] for size in sizes}
    no_change: dict[int, list[float]] = {size: [] for size in sizes}
    cold_cpu: dict[int, list[float]] = {size: [] for size in sizes}
    cold_host_cpu: dict[int, list[float]] = {size: [] for size in sizes}
    reference: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        specs = {}
        for size in sizes:
            path = Path(tmp) / f"Pulumi.bench{size}.yaml"
            document = stack_document(size, subnet, args.storage)
            path.write_text(yaml.safe_dump(document, sort_keys=False))
            specs[size] = load_stack(str(path))
        # Every size is the lab stack reshaped: one storage for all.
        report["storage"] = lab_storage(specs[sizes[0]])
        for size in sizes:
            spec = specs[size]
            # Run 0 primes: it leaves a provisioned lab of this size, so each
            # timed run follows the same deletion (see the module's docstring).
            for run in range(args.runs + 1):
                lab.down(spec)
                if not lab.up(spec).up:
                    sys.exit(f"the {size}-machine lab did not come up")
                speed = reference_seconds()
                first = timed(spec, quiet)
                again = timed(spec, quiet)
                load = os.getloadavg()[0]
                capacity = first.seconds * (os.cpu_count() or 1)
                label = "priming run (not counted)" if run == 0 else f"run {run}"
                # What the host's cores could give during the cold run, what
                # they gave, and the controller's part; the rest went to the
                # machines. Busy near capacity: the run is CPU-bound.
                console.print(
                    f"{size} machines, {label}: cold {first.seconds:.1f} s "
                    f"({first.changed} changes; host busy {first.host_cpu:.0f} of "
                    f"{capacity:.0f} CPU-s, controller {first.controller_cpu:.0f}), "
                    f"no-change {again.seconds:.1f} s ({again.changed} changes), "
                    f"load {load:.1f}, reference loop {speed:.2f} s"
                )
                if run == 0:
                    continue
                reference.append(speed)
                cold[size].append(first.seconds)
                cold_cpu[size].append(first.controller_cpu)
                cold_host_cpu[size].append(first.host_cpu)
                no_change[size].append(again.seconds)
            lab.down(spec)  # the sizes share one subnet
    for size in sizes:
        report["sizes"][str(size)] = {
            "cold": stats(cold[size]),
            "no-change": stats(no_change[size]),
            "cold_controller_cpu_s": stats(cold_cpu[size]),
            "cold_host_busy_cpu_s": stats(cold_host_cpu[size]),
        }
        console.print(
            f"{size} machines: cold {stats(cold[size])}, no-change {stats(no_change[size])}"
        )
    report["reference_loop_s"] = stats(reference)
    sizes = sorted(report["sizes"], key=int)
    if len(sizes) >= 2:
        small, large = report["sizes"][sizes[0]], report["sizes"][sizes[-1]]
        extra = int(sizes[-1]) - int(sizes[0])

        def per_machine(key: str) -> float:
            return float(large[key]["median"] - small[key]["median"]) / extra

        # What one more machine costs a cold run: wall seconds on these shared
        # cores, and CPU seconds on the controller and in the machines (the
        # host's busy CPU less the controller's).
        wall = per_machine("cold")
        controller = per_machine("cold_controller_cpu_s")
        node = per_machine("cold_host_busy_cpu_s") - controller
        report["per_extra_machine"] = {
            "wall_s": round(wall, 2),
            "controller_cpu_s": round(controller, 2),
            "node_cpu_s": round(node, 2),
        }
        report["cold_ratio"] = round(large["cold"]["median"] / small["cold"]["median"], 2)
        console.print(
            f"one more machine costs a cold up {wall:.2f} s of wall time, "
            f"{controller:.2f} CPU-s on the controller and {node:.2f} CPU-s in the machines "
            f"(cold {sizes[-1]} / {sizes[0]} machines: {report['cold_ratio']:.2f}x)"
        )
    out = state_dir("bench-scale").parent / "bench-scale.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each network backend on the lab: cold `up`, then pod-to-pod TCP throughput
and round-trip latency, across nodes and within one node.

    python bench/network.py [--stack lab --stack lab-flannel --stack lab-hostgw
                            --stack lab-underlay --stack lab-bgp] [--seconds 5] [--keep]

For each stack, in turn (one lab at a time: they share the host's two cores):

1. `groundwork lab down`, then `groundwork up --stack STACK`, timed: the cold
   figure (new machines; builds, mirror and registry warm), to compare with
   the bridge stack's (issue target: a backend's <= the bridge's + 60 s);
2. from the netcheck pod (agnhost) on the first worker: `iperf` (2) for
   `--seconds` to the netcheck pod on the other worker (across nodes) and to
   a second agnhost pod the bench starts on the same worker (within one
   node), each target running `iperf -s`; `ping` 20 times 0.2 s apart for
   the round trip. Commands run in the pods through the apiserver's pod
   proxy (agnhost's /shell), as verify's checks do;
3. `groundwork lab down` unless `--keep` (the next lab needs the memory).

Prints a Markdown table (stack, backend, pod MTU, encapsulation overhead,
cold up, throughput and RTT across and within a node) and writes every
figure to <state dir>/bench/network.json. All pods share the lab host's two
cores with the machines' own work: the figures compare backends on this
host; they are not a NIC's line rate.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from groundwork.manifests.netcheck import NAME, NAMESPACE, PORT  # noqa: E402
from groundwork.paths import state_root  # noqa: E402
from groundwork.phases.addons import kubectl  # noqa: E402
from groundwork.pki import pki_dir  # noqa: E402
from groundwork.plan import build_plan  # noqa: E402
from groundwork.spec import ClusterSpec, Role, load_stack  # noqa: E402
from groundwork.spec.model import ENCAPSULATION_OVERHEAD  # noqa: E402
from groundwork.verify.expect import kube_expectation  # noqa: E402
from groundwork.verify.kube import KubeApi, admin_credentials  # noqa: E402

GROUNDWORK = str(Path(sys.executable).parent / "groundwork")
PEER = "bench-peer"


def run(*argv: str, timeout: float = 1800) -> float:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def shell(api: KubeApi, pod: str, command: str) -> str:
    doc = json.loads(api.proxy(NAMESPACE, pod, PORT, "/shell", {"cmd": command}))
    if doc.get("error"):
        raise RuntimeError(f"{pod}: {command}: {doc.get('error')}: {doc.get('output', '')}")
    return str(doc.get("output", ""))


def pods(api: KubeApi) -> dict[str, tuple[str, str]]:
    """node -> (pod, IP) of each running pod of the netcheck DaemonSet and the peer."""
    out: dict[str, tuple[str, str]] = {}
    for pod in api.items(f"/api/v1/namespaces/{NAMESPACE}/pods"):
        status, spec = pod.get("status") or {}, pod.get("spec") or {}
        if status.get("phase") == "Running" and status.get("podIP"):
            name = pod["metadata"]["name"]
            key = spec["nodeName"] if name != PEER else PEER
            out[key] = (name, status["podIP"])
    return out


def peer_manifest(api: KubeApi, node: str) -> str:
    """A second netcheck pod on `node`, the within-one-node target: the
    DaemonSet's own pod template (its image, and the security settings the
    namespace's `restricted` policy demands), pinned to the node."""
    daemonset = api.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/daemonsets/{NAME}")
    template = daemonset["spec"]["template"]
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": PEER, "namespace": NAMESPACE},
            "spec": {**template["spec"], "nodeName": node},
        }
    )


def throughput_mbits(api: KubeApi, source: str, target: str, ip: str, seconds: int) -> float:
    # In the background, its output to /dev/null: /shell returns at once.
    shell(api, target, "ss -ltn | grep -q :5001 || (iperf -s >/dev/null 2>&1 &)")
    time.sleep(1)
    # CSV: the last field is bits per second.
    out = shell(api, source, f"iperf -c {ip} -t {seconds} -y C")
    return int(out.strip().splitlines()[-1].split(",")[-1]) / 1e6


def rtt_ms(api: KubeApi, source: str, ip: str) -> float:
    out = shell(api, source, f"ping -q -c 20 -i 0.2 {ip}")
    found = re.search(r"= [\d.]+/([\d.]+)/", out)
    if not found:
        raise RuntimeError(f"no round trip in: {out}")
    return float(found.group(1))


def measure(spec: ClusterSpec, seconds: int) -> dict[str, Any]:
    expect = kube_expectation(spec, build_plan(spec))
    api = KubeApi(expect.endpoint_url, admin_credentials(pki_dir(spec.name)))
    workers = [n.name for n in spec.nodes if n.has(Role.WORKER)]
    here, there = workers[0], workers[1]
    kube = [kubectl(), "--kubeconfig", str(state_root() / spec.name / "secrets/admin.kubeconfig")]
    subprocess.run(
        [*kube, "apply", "-f", "-"], input=peer_manifest(api, here), text=True, check=True
    )
    subprocess.run(
        [*kube, "-n", NAMESPACE, "wait", "--for=condition=Ready", f"pod/{PEER}", "--timeout=120s"],
        check=True,
        capture_output=True,
    )
    try:
        running = pods(api)
        source = running[here][0]
        (across_pod, across_ip), (within_pod, within_ip) = running[there], running[PEER]
        return {
            "across_mbits": throughput_mbits(api, source, across_pod, across_ip, seconds),
            "within_mbits": throughput_mbits(api, source, within_pod, within_ip, seconds),
            "across_rtt_ms": rtt_ms(api, source, across_ip),
            "within_rtt_ms": rtt_ms(api, source, within_ip),
        }
    finally:
        subprocess.run(
            [*kube, "-n", NAMESPACE, "delete", "pod", PEER, "--wait=false"],
            check=False,
            capture_output=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stack", action="append", dest="stacks")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave each lab up")
    args = parser.parse_args()
    stacks = args.stacks or ["lab", "lab-flannel", "lab-hostgw", "lab-underlay", "lab-bgp"]
    rows: list[dict[str, Any]] = []
    for stack in stacks:
        spec = load_stack(stack)
        net = spec.network
        backend = net.resolved_backend()
        run(GROUNDWORK, "lab", "down", "--stack", stack, timeout=600)
        cold = run(GROUNDWORK, "up", "--stack", stack)
        figures = measure(spec, args.seconds)
        row = {
            "stack": stack,
            "backend": f"{net.plugin.value} {backend.value}",
            "pod_mtu": build_plan(spec).pod_mtu,
            "overhead": ENCAPSULATION_OVERHEAD.get((net.plugin, backend), 0),
            "cold_up_s": round(cold, 1),
            **{k: round(v, 2) for k, v in figures.items()},
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not args.keep:
            run(GROUNDWORK, "lab", "down", "--stack", stack, timeout=600)
    out = state_root() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "network.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(
        "| stack | backend | pod MTU | overhead | cold up | across nodes | within a node "
        "| RTT across | RTT within |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| `{r['stack']}` | {r['backend']} | {r['pod_mtu']} | {r['overhead']} B "
            f"| {r['cold_up_s']} s | {r['across_mbits']:.0f} Mbit/s | {r['within_mbits']:.0f} "
            f"Mbit/s | {r['across_rtt_ms']:.3f} ms | {r['within_rtt_ms']:.3f} ms |"
        )


if __name__ == "__main__":
    main()

"""Upgrade a lab cluster one minor for real, with a client calling a Service
all the way through, and count the requests that failed.

    python bench/upgrade.py [--stack lab] [--to 1.37.2] [--keep]

1. The cluster is brought to the stack's own release first (`groundwork up`,
   or a rebuild when it runs a newer one), and the target release is built
   (`groundwork build kubernetes-1.37`, cached): neither is timed.
2. A ClusterIP Service in front of the stack's first replicated workload is
   created, and a client on a node (a process over SSH, not a pod, so no
   drain evicts it) asks it every 0.2 s, with a 2 s timeout per request
   (Python's urllib); requests count from its first answer on.
3. The stack, with kubernetes.version set to the target, is applied with
   `groundwork up` (timed): the release phase sees the upgrade, checks the
   skew rules and runs playbooks/upgrade.yml: the control plane one node at
   a time, then every node drained, upgraded and uncordoned in turn.
4. The client stops; every node must report the target kubelet version.
   Prints the upgrade's time, the requests and the failed ones (with when),
   and writes them as JSON to <state dir>/<stack>/bench/upgrade.json.
5. Unless --keep, the cluster is rebuilt at the stack's release
   (Kubernetes does not downgrade a minor in place).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from groundwork.build import kubernetes_versions  # noqa: E402
from groundwork.kubeconfig import write_admin  # noqa: E402
from groundwork.lab import ssh  # noqa: E402
from groundwork.paths import state_dir  # noqa: E402
from groundwork.phases.addons import run_kubectl  # noqa: E402
from groundwork.phases.release import running_versions  # noqa: E402
from groundwork.pki import pki_dir  # noqa: E402
from groundwork.plan import build_plan  # noqa: E402
from groundwork.plan.upgrade import parse_version  # noqa: E402
from groundwork.spec import ClusterSpec, load_stack  # noqa: E402
from groundwork.spec.load import CONFIG_KEY, stack_path  # noqa: E402
from groundwork.verify.kube import KubeApi, KubeError, admin_credentials  # noqa: E402

GROUNDWORK = str(Path(sys.executable).parent / "groundwork")
PROBE_SERVICE = "upgrade-probe"
KUBECTL_TIMEOUT_SECONDS = 60.0
# The client's loop on the node (Python: the nodes have no curl), one line
# per request: "<epoch> <HTTP status or 000> <the pod that answered>".
CLIENT = r"""
import os, sys, time, urllib.request
url, stop = sys.argv[1], "/run/groundwork-upgrade-probe.stop"
if os.path.exists(stop):
    os.remove(stop)
while not os.path.exists(stop):
    at = time.time()
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            code, pod = response.status, response.read().decode().strip() or "none"
    except Exception as err:
        code, pod = getattr(err, "code", 0), type(err).__name__
    print(f"{at:.3f} {code:03d} {pod}", flush=True)
    time.sleep(0.2)
"""


def groundwork(*args: str) -> None:
    print(f"$ groundwork {' '.join(args)}", flush=True)
    subprocess.run([GROUNDWORK, *args], check=True)


def cluster_versions(spec: ClusterSpec) -> tuple[str, dict[str, str]] | None:
    """The running apiserver's and kubelets' versions, as `up` reads them; None
    when no apiserver answers."""
    api = KubeApi(build_plan(spec).endpoint.url, admin_credentials(pki_dir(spec.name)))
    try:
        return running_versions(api)
    except KubeError:
        return None


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    return run_kubectl(kubeconfig, list(args), KUBECTL_TIMEOUT_SECONDS, stdin)


def target_stack_file(spec: ClusterSpec, target: str, directory: Path) -> Path:
    """The stack's own file with kubernetes.version set to the target."""
    document = yaml.safe_load(stack_path(spec.name).read_text())
    document["config"][CONFIG_KEY]["kubernetes"]["version"] = target
    path = directory / f"Pulumi.{spec.name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def probe_service(spec: ClusterSpec) -> dict[str, Any]:
    workload = next((w for w in spec.workloads if w.replicas > 1 and w.ports), None)
    if workload is None:
        raise SystemExit(f"stack {spec.name} declares no workload with 2+ replicas and a port")
    port = workload.ports[0]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": PROBE_SERVICE, "namespace": workload.namespace},
        "spec": {
            "selector": {"app": workload.name},
            "ports": [{"port": port.port, "targetPort": port.port, "protocol": "TCP"}],
        },
    }


def failure_windows(lines: list[tuple[float, str, str]]) -> list[dict[str, Any]]:
    """Runs of failed requests less than 2.5 s apart: when each began, how many (pure)."""
    windows: list[dict[str, Any]] = []
    for at, code, answer in lines:
        if code == "200":
            continue
        if windows and at - windows[-1]["last_at"] < 2.5:
            windows[-1]["failed"] += 1
            windows[-1]["last_at"] = at
        else:
            # A failed request's answer is the client's error (TimeoutError, ...).
            windows.append(
                {"first_at": at, "last_at": at, "failed": 1, "code": code, "error": answer}
            )
    return windows


def parse_client(output: str) -> list[tuple[float, str, str]]:
    lines = []
    for line in output.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3:
            lines.append((float(parts[0]), parts[1], parts[2]))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="lab")
    parser.add_argument("--to", default=None, help="the target release (default: the newest built)")
    parser.add_argument("--client-node", default=None, help="where the client runs (default: cp1)")
    parser.add_argument("--keep", action="store_true", help="leave the cluster at the target")
    args = parser.parse_args()

    spec = load_stack(args.stack)
    source = spec.kubernetes.version
    target = args.to or max(kubernetes_versions(), key=lambda v: parse_version(v) or (0, 0, 0))
    if parse_version(target) == parse_version(source):
        raise SystemExit(f"the stack already declares {target}: name another with --to")
    kubeconfig = write_admin(spec, build_plan(spec))

    # 1. The cluster at the stack's release, the target built (neither timed).
    running = cluster_versions(spec)
    if running is not None and parse_version(running[0]) != parse_version(source):
        print(f"the cluster runs {running[0]}: rebuilding it at {source}")
        groundwork("rebuild", "--stack", spec.name)
    else:
        groundwork("up", "--stack", spec.name)
    recipe = kubernetes_versions()[target]
    groundwork("build", recipe.component)

    # 2. The Service and the client.
    service = probe_service(spec)
    namespace = service["metadata"]["namespace"]
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(service))
    cluster_ip = kubectl(
        kubeconfig, "get", "service", PROBE_SERVICE, "-n", namespace,
        "-o", "jsonpath={.spec.clusterIP}",
    )  # fmt: skip
    port = service["spec"]["ports"][0]["port"]
    client_node = args.client_node or spec.nodes[0].name
    target_ssh = ssh.target(spec, client_node)
    url = f"http://{cluster_ip}:{port}/hostname"
    client = subprocess.Popen(
        # ssh hands the remote shell one string: quote the script and its argument.
        target_ssh.argv([shlex.join(["python3", "-c", CLIENT, url])]),
        stdout=subprocess.PIPE,
        text=True,
    )
    # Counted from the first answer on: until every kube-proxy has the new
    # Service's rules, a request fails for a reason that is not the upgrade.
    assert client.stdout is not None
    warm_until = time.monotonic() + 60
    while True:
        line = client.stdout.readline()
        if not line or time.monotonic() > warm_until:
            raise SystemExit(f"the client on {client_node} never reached {url}: {line.strip()}")
        if line.split()[1:2] == ["200"]:
            break

    # 3. The upgrade, as a user runs it.
    with tempfile.TemporaryDirectory(prefix="groundwork-upgrade-") as work:
        stack_file = target_stack_file(spec, target, Path(work))
        upgrade_started_at = time.time()
        started = time.monotonic()
        up = subprocess.run([GROUNDWORK, "up", "--stack-file", str(stack_file)], check=False)
        seconds = time.monotonic() - started
    time.sleep(5)

    # 4. The client's count; every kubelet at the target.
    subprocess.run(target_ssh.argv(["touch", "/run/groundwork-upgrade-probe.stop"]), check=True)
    output, _ = client.communicate(timeout=30)
    kubectl(kubeconfig, "delete", "service", PROBE_SERVICE, "-n", namespace)
    lines = parse_client(output)
    failed = [line for line in lines if line[1] != "200"]
    versions_after = cluster_versions(spec)
    kubelets = versions_after[1] if versions_after is not None else {}
    behind = {n: v for n, v in kubelets.items() if parse_version(v) != parse_version(target)}
    result = {
        "from": source,
        "to": target,
        "up_exit_code": up.returncode,
        "upgrade_seconds": round(seconds, 1),
        "requests": len(lines),
        "failed": len(failed),
        "failure_windows": [
            {"seconds_into_upgrade": round(w["first_at"] - upgrade_started_at, 1), **w}
            for w in failure_windows(lines)
        ],
        "pods_answering": sorted({pod for _, code, pod in lines if code == "200"}),
        "kubelets": kubelets,
        "client_node": client_node,
        "date": time.strftime("%Y-%m-%d"),
    }
    out_dir = state_dir(spec.name) / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "upgrade.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"upgrade {source} -> {target}: {seconds:.0f} s, exit {up.returncode}; "
        f"{len(lines)} requests, {len(failed)} failed; "
        f"kubelets behind: {', '.join(behind) or 'none'}"
    )

    # 5. Back to the stack's release.
    if not args.keep:
        groundwork("rebuild", "--stack", spec.name)
    return 0 if up.returncode == 0 and not behind else 1


if __name__ == "__main__":
    sys.exit(main())

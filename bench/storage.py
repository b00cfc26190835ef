"""Benchmark dynamic provisioning on a provisioned lab: how long a claim takes
to be Bound, and a pod using it to be Ready, for each declared class whose
driver provisions on demand (local-path; csi-hostpath cannot be built here,
docs/storage.md).

Per run and class: a 1Gi claim and a pod mounting it (the lab's agnhost
image) are created in one kubectl call; the claim is polled until Bound
(WaitForFirstConsumer: the provisioner starts once the pod is scheduled),
then the pod until Ready; both are deleted before the next run. The target
of issue 22 (a 1Gi claim Bound in <= 5 s) is for a CSI driver; local-path's
figure is shown against it as the comparison.

Run as root on a provisioned lab:
  .venv/bin/python bench/storage.py [--stack lab] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from groundwork.kubeconfig import write_admin
from groundwork.phases.addons import AddonError, run_kubectl
from groundwork.plan import build_plan
from groundwork.spec import load_stack
from groundwork.spec.model import StorageDriver

TARGET_BOUND = 5.0
DYNAMIC = (StorageDriver.LOCAL_PATH,)
IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.63.0"
NAMESPACE = "default"


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    try:
        return run_kubectl(kubeconfig, list(args), timeout=120, stdin=stdin)
    except AddonError as err:
        raise SystemExit(f"kubectl {' '.join(args)}: {err}") from None


def _objects(name: str, storage_class: str) -> str:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": IMAGE,
                    "args": ["pause"],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}],
            "terminationGracePeriodSeconds": 0,
        },
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [claim, pod]})


def _get(kubeconfig: Path, kind: str, name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(
        _kubectl(kubeconfig, "-n", NAMESPACE, "get", kind, name, "-o", "json")
    )
    return out


def _pod_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def run_once(kubeconfig: Path, storage_class: str, run: int) -> tuple[float, float]:
    name = f"gw-bench-storage-{run}"
    started = time.monotonic()
    _kubectl(kubeconfig, "apply", "-f", "-", stdin=_objects(name, storage_class))
    bound = ready = 0.0
    deadline = started + 180
    while time.monotonic() < deadline and not ready:
        now = time.monotonic() - started
        if (
            not bound
            and (_get(kubeconfig, "pvc", name).get("status") or {}).get("phase") == "Bound"
        ):
            bound = now
        if bound and _pod_ready(_get(kubeconfig, "pod", name)):
            ready = now
        time.sleep(0.1)
    _kubectl(kubeconfig, "-n", NAMESPACE, "delete", "pod,pvc", name, "--wait=true")
    if not ready:
        raise SystemExit(
            f"{storage_class}: claim or pod not ready within 180 s (Bound at {bound:.1f} s)"
        )
    return bound, ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="lab")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    spec = load_stack(args.stack)
    kubeconfig = write_admin(spec, build_plan(spec))
    classes = [c for c in spec.storage.classes if c.driver in DYNAMIC]
    if not classes:
        raise SystemExit(f"stack {spec.name} declares no class a provisioner serves on demand")
    met = True
    for cls in classes:
        bounds, readies = [], []
        for i in range(args.runs):
            bound, ready = run_once(kubeconfig, cls.name, i)
            bounds.append(bound)
            readies.append(ready)
            print(f"{cls.name} run {i + 1}: Bound {bound:.2f} s, pod Ready {ready:.2f} s")
        median = statistics.median(bounds)
        met = met and median <= TARGET_BOUND
        print(
            f"{cls.name} ({cls.driver.value}): 1Gi claim Bound median {median:.2f} s "
            f"(min {min(bounds):.2f} / max {max(bounds):.2f}), pod with it Ready median "
            f"{statistics.median(readies):.2f} s, over {args.runs} runs; "
            f"target <= {TARGET_BOUND:.0f} s: {'met' if median <= TARGET_BOUND else 'MISSED'}"
        )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

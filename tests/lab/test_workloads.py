"""The declared StatefulSet behaves as the stack declares it, on the lab:

- a pod deleted comes back on its node with its volume's data;
- scaled up by the stack, pods start one at a time in ordinal order (each
  created only once the one before is Ready); scaled down, they stop in
  reverse order, one at a time;
- a rolling update with a partition in the stack replaces only the pods at or
  above it; the pods below keep their revision (and their UID);
- the node holding a pod's local volume drained: the pod stays Pending, and
  verify names the volume, the node and the way out; uncordoned, it runs.

Each change goes through `up` with the stack changed, as an operator makes
it, and the last `up` puts the declared workload back. The stack defaults to
the lab stack; GROUNDWORK_K8S_LAB_STACK names another.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from _lab import converge, k, k_json, show, wait_for

from groundwork.kubeconfig import write_admin
from groundwork.plan import build_plan
from groundwork.spec import ClusterSpec, load_stack
from groundwork.spec.model import RollingUpdate, Workload
from groundwork.verify import verify

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_K8S_LAB_STACK", "lab")


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def workload(spec: ClusterSpec) -> Workload:
    """The first declared workload with storage and ports, at least 2 replicas."""
    found = [w for w in spec.workloads if w.storage and w.ports and w.replicas >= 2]
    assert found, f"stack {spec.name} declares no replicated workload with storage"
    return found[0]


@pytest.fixture(scope="module")
def kubeconfig(spec: ClusterSpec) -> Path:
    converge(spec)
    return write_admin(spec, build_plan(spec))


def _changed(spec: ClusterSpec, workload: Workload, **update: Any) -> ClusterSpec:
    """The stack with this workload changed, as an operator edits the file."""
    workloads = [
        w.model_copy(update=update) if w.name == workload.name else w for w in spec.workloads
    ]
    return spec.model_copy(update={"workloads": workloads})


def _pods(kubeconfig: Path, workload: Workload) -> dict[str, dict[str, Any]]:
    items = k_json(
        kubeconfig, "-n", workload.namespace, "get", "pods", "-l", f"app={workload.name}"
    )
    return {p["metadata"]["name"]: p for p in items["items"]}


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _ready_since(pod: dict[str, Any]) -> datetime:
    (ready,) = [c for c in pod["status"]["conditions"] if c["type"] == "Ready"]
    return datetime.fromisoformat(ready["lastTransitionTime"])


def _created(pod: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(pod["metadata"]["creationTimestamp"])


def _all_ready(kubeconfig: Path, workload: Workload, replicas: int) -> bool:
    status = k_json(kubeconfig, "-n", workload.namespace, "get", "statefulset", workload.name)
    s = status["status"]
    return bool(
        s.get("readyReplicas", 0) == replicas == s.get("replicas")
        and s.get("updatedReplicas", 0) == replicas
        and s.get("currentRevision") == s.get("updateRevision")
    )


def _exec(kubeconfig: Path, workload: Workload, pod: str, script: str) -> str:
    return k(kubeconfig, "-n", workload.namespace, "exec", pod, "--", "sh", "-c", script)


def test_a_deleted_pod_comes_back_on_its_node_with_its_data(
    kubeconfig: Path, workload: Workload
) -> None:
    assert workload.storage is not None
    pod = f"{workload.name}-0"
    marker = f"{workload.storage.mount_path}/groundwork-marker"
    written = f"written {time.time()}"
    _exec(kubeconfig, workload, pod, f"echo '{written}' > {marker}")
    before = _pods(kubeconfig, workload)[pod]
    k(kubeconfig, "-n", workload.namespace, "delete", "pod", pod, "--wait=true")

    def back() -> dict[str, Any] | None:
        now = _pods(kubeconfig, workload).get(pod)
        if now is None or now["metadata"]["uid"] == before["metadata"]["uid"]:
            return None
        return now if _ready(now) else None

    after = wait_for(f"{pod} back and Ready", back, timeout=120)
    assert after["spec"]["nodeName"] == before["spec"]["nodeName"]
    assert _exec(kubeconfig, workload, pod, f"cat {marker}").strip() == written


def test_pods_start_in_order_and_stop_in_reverse_as_the_stack_scales(
    spec: ClusterSpec, kubeconfig: Path, workload: Workload
) -> None:
    assert workload.pod_management_policy == "OrderedReady"
    declared = workload.replicas
    more = declared + 2
    converge(_changed(spec, workload, replicas=more))
    wait_for(f"{more} ready", lambda: _all_ready(kubeconfig, workload, more), timeout=240)
    pods = _pods(kubeconfig, workload)
    for ordinal in range(declared, more):
        pod, before = pods[f"{workload.name}-{ordinal}"], pods[f"{workload.name}-{ordinal - 1}"]
        # Created only once the one before it was Ready (seconds resolution).
        assert _created(pod) >= _ready_since(before), (ordinal, _created(pod), _ready_since(before))

    # Down again, watched from before the stack changes: the highest ordinal
    # goes first, and the next one only once it is gone.
    started: dict[str, float] = {}  # pod -> when it was first seen terminating
    gone: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            now = time.monotonic()
            present = _pods(kubeconfig, workload)
            for ordinal in range(declared, more):
                name = f"{workload.name}-{ordinal}"
                if name not in present:
                    gone.setdefault(name, now)
                elif present[name]["metadata"].get("deletionTimestamp"):
                    started.setdefault(name, now)
            if len(gone) == more - declared:
                return
            time.sleep(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        converge(spec)
        watcher.join(timeout=180)
    finally:
        stop.set()
    assert len(gone) == more - declared, f"not all gone: {gone}"
    for ordinal in range(declared, more - 1):
        lower, higher = f"{workload.name}-{ordinal}", f"{workload.name}-{ordinal + 1}"
        assert started.get(lower, gone[lower]) >= gone[higher], (started, gone)
    # The claims of the pods scaled away stay (the StatefulSet keeps them for
    # a scale back up); the test removes them to leave the declared state.
    claims = [f"data-{workload.name}-{o}" for o in range(declared, more)]
    k(kubeconfig, "-n", workload.namespace, "delete", "pvc", *claims, "--wait=true")


def test_a_partition_holds_the_pods_below_it_at_their_revision(
    spec: ClusterSpec, kubeconfig: Path, workload: Workload
) -> None:
    partition = workload.replicas - 1
    before = _pods(kubeconfig, workload)
    # A change to the pod template: one more argument the program accepts.
    canary = _changed(
        spec,
        workload,
        args=[*workload.args, "--udp-port=8082"],
        rolling_update=RollingUpdate(partition=partition),
    )
    converge(canary)

    def rolled() -> dict[str, Any] | None:
        status = k_json(kubeconfig, "-n", workload.namespace, "get", "statefulset", workload.name)
        s = status["status"]
        done = (
            s.get("updatedReplicas") == workload.replicas - partition
            and s.get("readyReplicas") == workload.replicas
        )
        return s if done else None

    status = wait_for("the pods from the partition up updated", rolled, timeout=180)
    after = _pods(kubeconfig, workload)
    for ordinal in range(workload.replicas):
        name = f"{workload.name}-{ordinal}"
        revision = after[name]["metadata"]["labels"]["controller-revision-hash"]
        if ordinal < partition:
            assert revision == status["currentRevision"], name
            assert after[name]["metadata"]["uid"] == before[name]["metadata"]["uid"], name
        else:
            assert revision == status["updateRevision"] != status["currentRevision"], name
    # The declared stack again: every pod back at the declared template.
    converge(spec)
    wait_for(
        "every pod at the declared revision",
        lambda: _all_ready(kubeconfig, workload, workload.replicas),
        timeout=180,
    )


def test_a_drained_node_holding_a_local_volume_leaves_its_pod_pending_and_verify_says_why(
    spec: ClusterSpec, kubeconfig: Path, workload: Workload
) -> None:
    pods = _pods(kubeconfig, workload)
    pod = f"{workload.name}-{workload.replicas - 1}"
    node = pods[pod]["spec"]["nodeName"]
    k(
        kubeconfig,
        "drain",
        node,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=180s",
        timeout=240,
    )
    try:

        def pending() -> bool:
            now = _pods(kubeconfig, workload).get(pod)
            conditions = ((now or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "PodScheduled" and c["status"] == "False" for c in conditions)

        wait_for(f"{pod} Pending", pending, timeout=120)
        report = verify(spec)
        drifts = {d.what: d.live for r in report.failures for d in r.drifts}
        said = drifts.get(f"pod {workload.namespace}/{pod}", "")
        assert f"lives on {node} only" in said and "cordoned" in said, show(report)
        assert f"kubectl uncordon {node}" in said, show(report)
        # Nothing else is wrong than that pod (and so its StatefulSet): the
        # other pods the drain moved run elsewhere.
        where = f"{workload.namespace}/{workload.name}"
        expected = {f"pod {workload.namespace}/{pod}", f"StatefulSet {where} ready"}
        assert set(drifts) <= expected, show(report)
    finally:
        k(kubeconfig, "uncordon", node)
    wait_for(
        f"{pod} Ready on {node}",
        lambda: _ready(_pods(kubeconfig, workload).get(pod) or {}),
        timeout=180,
    )
    assert _pods(kubeconfig, workload)[pod]["spec"]["nodeName"] == node
    report = verify(spec)
    assert report.ok, report.summary() + "\n" + show(report)

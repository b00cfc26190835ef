"""Faults with Kubernetes running on the lab: break a node the way machines
break while clients use the cluster, and measure what they see.

- the kube-apiserver on the VIP holder killed (SIGKILL): a client of the API
  through the VIP keeps being answered; its longest gap is measured;
- the kubelet stopped on a worker: verify names the node and the kubelet,
  `up` starts it again and the node is Ready;
- an etcd member's machine killed while a client writes through the API: no
  acknowledged write is lost, and the member, powered on again, holds them;
- a worker's containerd configuration corrupted while pods run on it:
  verify flags it, `up` restores it, and the pods keep their containers;
- a worker powered off: its node goes NotReady within the controller
  manager's grace, the pods that tolerate an unreachable node for 5 s run on
  other nodes, verify names the node; `lab up` and `up` bring it back Ready.

Every figure is written to <state dir>/faults/measurements.json, beside the
substrate's (tests/lab/test_faults.py). The stack defaults to the lab stack;
GROUNDWORK_FAULTS_LAB_STACK names another.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _lab import (
    ApiClient,
    converge,
    k,
    k_json,
    kill_with_its_monitor,
    kubectl_run,
    must,
    record,
    show,
    vip_holders,
    vip_of,
    wait_for,
)

from groundwork import lab
from groundwork.kubeconfig import write_admin
from groundwork.plan import build_plan
from groundwork.spec import ClusterSpec, Role, load_stack
from groundwork.verify import verify
from groundwork.verify.expect import CONTAINERD_CONFIG

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_FAULTS_LAB_STACK", "lab")
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.63.0"
# How long a killed apiserver may leave a client of the VIP unanswered:
# haproxy sends new connections to the other apiservers at once (a refused
# connection is redispatched); only requests in flight on the killed one fail.
APISERVER_GAP_LIMIT = 5.0  # seconds
# The controller manager's node-monitor-grace-period (upstream's default,
# 50 s), and the time its taint manager then takes.
NOT_READY_LIMIT = 90.0  # seconds
_state = {"healthy": False}


# --- helpers ------------------------------------------------------------------


def node_ready(kubeconfig: Path, node: str) -> bool:
    result = kubectl_run(kubeconfig, "get", "node", node, "-o", "json", timeout=30)
    if result.returncode != 0:
        return False
    conditions = json.loads(result.stdout)["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def assert_verified(spec: ClusterSpec) -> None:
    report = verify(spec)
    assert report.ok, show(report)


def failed_nodes(spec: ClusterSpec) -> set[str]:
    report = verify(spec)
    assert not report.ok
    return {r.node for r in report.failures}


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def kubeconfig(spec: ClusterSpec) -> Path:
    converge(spec)
    _state["healthy"] = True
    return write_admin(spec, build_plan(spec))


@pytest.fixture
def healthy(spec: ClusterSpec, kubeconfig: Path) -> Iterator[Path]:
    """A converged cluster; the test marks it healthy again only when it ends well."""
    if not _state["healthy"]:
        assert lab.up(spec).up
        converge(spec)
    _state["healthy"] = False
    yield kubeconfig
    _state["healthy"] = True


# --- faults -------------------------------------------------------------------


def test_killed_apiserver_on_the_vip_holder_leaves_no_gap_for_a_client(
    spec: ClusterSpec, healthy: Path
) -> None:
    vip, _ = vip_of(spec)
    (holder,) = vip_holders(spec, vip)
    address = next(n.address for n in spec.nodes if n.name == holder)
    # Its own apiserver, not haproxy's port (which the others answer behind).
    server = f"--server=https://{address}:{build_plan(spec).endpoint.apiserver_port}"
    before = must(spec, holder, "systemctl show kube-apiserver -p MainPID --value").strip()
    with ApiClient(healthy) as client:
        time.sleep(3)
        must(spec, holder, "systemctl kill --signal=SIGKILL kube-apiserver")
        # systemd starts it again; the client goes on until it is ready.
        wait_for(
            f"kube-apiserver on {holder} back and ready",
            lambda: (
                kubectl_run(healthy, server, "get", "--raw=/readyz", timeout=30).returncode == 0
                and must(spec, holder, "systemctl show kube-apiserver -p MainPID --value").strip()
                not in ("0", before)
            ),
        )
        time.sleep(3)
    record(spec, "k8s_apiserver_killed_longest_gap_seconds", round(client.longest_gap, 2))
    record(
        spec, "k8s_apiserver_killed_failed_requests", f"{len(client.failures)}/{client.requests}"
    )
    assert client.requests > 10
    assert client.longest_gap < APISERVER_GAP_LIMIT, (client.longest_gap, client.failures[:3])
    assert (vip, holder) == (vip, vip_holders(spec, vip)[0])  # the VIP did not need to move


def test_stopped_kubelet_is_named_by_verify_and_started_by_up(
    spec: ClusterSpec, healthy: Path
) -> None:
    worker = spec.nodes_with(Role.WORKER)[0].name
    must(spec, worker, "systemctl stop kubelet")
    report = verify(spec)
    assert not report.ok
    # The node's unit check names the kubelet as inactive.
    drifts = [d for r in report.failures if r.node == worker for d in r.drifts]
    assert ("kubelet active", "inactive") in [(d.what, d.live) for d in drifts], show(report)
    started = time.monotonic()
    converge(spec)
    wait_for(f"{worker} Ready", lambda: node_ready(healthy, worker))
    record(spec, "k8s_kubelet_stopped_heal_seconds", round(time.monotonic() - started, 1))
    assert_verified(spec)


def test_no_acknowledged_write_is_lost_when_an_etcd_member_dies(
    spec: ClusterSpec, healthy: Path
) -> None:
    vip, _ = vip_of(spec)
    holders = vip_holders(spec, vip)
    victim = next(n.name for n in spec.nodes_with(Role.ETCD) if n.name not in holders)
    prefix = f"gw-ack-{time.time_ns()}"
    acknowledged: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        for i in range(100_000):
            if stop.is_set():
                return
            name = f"{prefix}-{i}"
            result = kubectl_run(healthy, "create", "configmap", name, "-n", "default", timeout=30)
            (acknowledged if result.returncode == 0 else refused).append(name)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        time.sleep(5)
        kill_with_its_monitor(spec, victim)
        killed_at = len(acknowledged)
        time.sleep(15)
    finally:
        stop.set()
        thread.join(timeout=60)
    after = len(acknowledged) - killed_at
    record(spec, "k8s_writes_acknowledged_around_etcd_member_kill", len(acknowledged))
    record(spec, "k8s_writes_refused_around_etcd_member_kill", len(refused))
    assert after > 5, f"only {after} writes acknowledged with one member down"
    listed = k_json(healthy, "get", "configmaps", "-n", "default")
    present = {item["metadata"]["name"] for item in listed["items"]}
    lost = [name for name in acknowledged if name not in present]
    assert lost == [], f"{len(lost)} acknowledged writes lost: {lost[:5]}"

    # Powered on with its disk, the member catches up and holds every write.
    assert lab.up(spec).up
    converge(spec)
    keys = must(
        spec,
        victim,
        ". /etc/etcd/etcdctl.env && ETCDCTL_ENDPOINTS=https://127.0.0.1:2379 etcdctl get "
        f"/registry/configmaps/default/{prefix}- --prefix --keys-only --consistency=s",
    )
    held = {line.rsplit("/", 1)[-1] for line in keys.split()}
    assert set(acknowledged) <= held, sorted(set(acknowledged) - held)[:5]
    for name in acknowledged + refused:
        kubectl_run(healthy, "delete", "configmap", name, "-n", "default", "--ignore-not-found")
    assert_verified(spec)


def test_corrupted_containerd_config_with_pods_running_is_restored_and_pods_stay(
    spec: ClusterSpec, healthy: Path
) -> None:
    worker = spec.nodes_with(Role.WORKER)[-1].name

    def containers() -> dict[str, tuple[str, int]]:
        pods = k_json(healthy, "get", "pods", "-A", "--field-selector", f"spec.nodeName={worker}")[
            "items"
        ]
        return {
            f"{p['metadata']['namespace']}/{p['metadata']['name']}/{c['name']}": (
                c.get("containerID", ""),
                c["restartCount"],
            )
            for p in pods
            for c in p["status"].get("containerStatuses", [])
        }

    before = containers()
    assert before, f"no pod runs on {worker}"
    must(spec, worker, f"echo 'this is not toml = [' >> {CONTAINERD_CONFIG}")
    assert worker in failed_nodes(spec)
    converge(spec)
    assert "this is not toml" not in must(spec, worker, f"cat {CONTAINERD_CONFIG}")
    wait_for(f"{worker} Ready", lambda: node_ready(healthy, worker))
    # containerd restarted under them: each container is the one from before.
    assert containers() == before
    assert_verified(spec)


def test_powered_off_worker_goes_not_ready_and_its_pods_run_elsewhere(
    spec: ClusterSpec, healthy: Path
) -> None:
    workers = [n.name for n in spec.nodes_with(Role.WORKER)]
    victim = workers[-1]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gw-evict", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "gw-evict"}},
            "template": {
                "metadata": {"labels": {"app": "gw-evict"}},
                "spec": {
                    "containers": [{"name": "pause", "image": AGNHOST, "args": ["pause"]}],
                    # One pod on each worker.
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchExpressions": [
                                            {
                                                "key": "kubernetes.io/hostname",
                                                "operator": "In",
                                                "values": workers,
                                            }
                                        ]
                                    }
                                ]
                            }
                        },
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "weight": 100,
                                    "podAffinityTerm": {
                                        "labelSelector": {"matchLabels": {"app": "gw-evict"}},
                                        "topologyKey": "kubernetes.io/hostname",
                                    },
                                }
                            ]
                        },
                    },
                    # What a workload declares to move off a lost node
                    # sooner than the default 300 s.
                    "tolerations": [
                        {
                            "key": f"node.kubernetes.io/{taint}",
                            "operator": "Exists",
                            "effect": "NoExecute",
                            "tolerationSeconds": 5,
                        }
                        for taint in ("unreachable", "not-ready")
                    ],
                },
            },
        },
    }
    k(healthy, "apply", "-f", "-", timeout=60, stdin=json.dumps(deployment))

    def running_on() -> list[str]:
        pods = k_json(healthy, "get", "pods", "-n", "default", "-l", "app=gw-evict")["items"]
        return sorted(
            p["spec"].get("nodeName", "")
            for p in pods
            if p["status"].get("phase") == "Running"
            and "deletionTimestamp" not in p["metadata"]
            and all(c.get("ready") for c in p["status"].get("containerStatuses", []))
        )

    try:
        wait_for("gw-evict on both workers", lambda: running_on() == sorted(workers))
        kill_with_its_monitor(spec, victim)
        started = time.monotonic()
        wait_for(
            f"{victim} NotReady",
            lambda: not node_ready(healthy, victim),
            timeout=NOT_READY_LIMIT,
        )
        not_ready = time.monotonic() - started
        wait_for(
            "gw-evict's two pods running off the lost node",
            lambda: (nodes := running_on()) and len(nodes) == 2 and victim not in nodes,
        )
        moved = time.monotonic() - started
        record(spec, "k8s_worker_off_not_ready_seconds", round(not_ready, 1))
        record(spec, "k8s_worker_off_pods_moved_seconds", round(moved, 1))
        assert victim in failed_nodes(spec)

        started = time.monotonic()
        assert lab.up(spec).up
        converge(spec)
        wait_for(f"{victim} Ready", lambda: node_ready(healthy, victim))
        record(spec, "k8s_worker_back_ready_seconds", round(time.monotonic() - started, 1))
    finally:
        kubectl_run(
            healthy, "delete", "deployment", "gw-evict", "-n", "default", "--ignore-not-found"
        )
    assert_verified(spec)

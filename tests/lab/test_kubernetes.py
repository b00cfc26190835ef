"""Kubernetes for real on the lab: after `up`, the cluster built from the pinned
Go modules answers through the VIP, every node is Ready with the declared
kubelet version, CoreDNS and the storage provisioner run, the declared
StatefulSet runs with its claims Bound, and a pod reaches a Service by its
DNS name and each StatefulSet pod by its own name. An etcd snapshot
(encrypted, 0600) restored brings deleted objects back under a new cluster
ID. `certs renew` issues every leaf anew and puts a drifted control-plane
file back, restarting the apiservers one at a time while a client's every
request through the VIP succeeds. kubectl is the one built from the same
kubernetes module, talking to the cluster from this host.

The stack defaults to the lab stack; GROUNDWORK_K8S_LAB_STACK names another.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from _lab import ApiClient, converge, k, k_json, must, wait_for

from groundwork.kubeconfig import write_admin
from groundwork.plan import build_plan
from groundwork.spec import ClusterSpec, Role, load_stack

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_K8S_LAB_STACK", "lab")
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.63.0"


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def kubeconfig(spec: ClusterSpec) -> Path:
    converge(spec)
    return write_admin(spec, build_plan(spec))


def test_api_answers_through_the_vip_and_on_every_apiserver(
    spec: ClusterSpec, kubeconfig: Path
) -> None:
    assert k(kubeconfig, "get", "--raw=/readyz").strip() == "ok"
    version = k_json(kubeconfig, "version")["serverVersion"]["gitVersion"]
    assert version == f"v{spec.kubernetes.version}"
    port = build_plan(spec).endpoint.apiserver_port
    for node in spec.nodes_with(Role.CONTROL_PLANE):
        server = f"--server=https://{node.address}:{port}"
        assert k(kubeconfig, server, "get", "--raw=/readyz").strip() == "ok", node.name


def test_every_node_is_ready_with_the_declared_kubelet(spec: ClusterSpec, kubeconfig: Path) -> None:
    def ready() -> dict[str, str]:
        nodes = k_json(kubeconfig, "get", "nodes")["items"]
        found = {}
        for node in nodes:
            conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
            if conditions.get("Ready") == "True":
                found[node["metadata"]["name"]] = node["status"]["nodeInfo"]["kubeletVersion"]
        return found if len(found) == len(spec.nodes) else {}

    kubelets = wait_for("every node Ready", ready)
    assert kubelets == {n.name: f"v{spec.kubernetes.version}" for n in spec.nodes}


def _running(kubeconfig: Path, namespace: str, selector: str, count: int) -> bool:
    pods = k_json(kubeconfig, "-n", namespace, "get", "pods", "-l", selector)["items"]
    ready = [
        p
        for p in pods
        if p["status"].get("phase") == "Running"
        and all(c.get("ready") for c in p["status"].get("containerStatuses", []))
    ]
    return len(ready) >= count


def test_coredns_and_the_storage_provisioner_run(kubeconfig: Path) -> None:
    wait_for("CoreDNS ready", lambda: _running(kubeconfig, "kube-system", "k8s-app=kube-dns", 1))
    wait_for(
        "local-path-provisioner ready",
        lambda: _running(kubeconfig, "local-path-storage", "app=local-path-provisioner", 1),
    )


def test_the_declared_statefulsets_run_with_their_claims_bound(
    spec: ClusterSpec, kubeconfig: Path
) -> None:
    def ready(ns: str, name: str, replicas: int) -> bool:
        status = k_json(kubeconfig, "-n", ns, "get", "statefulset", name)["status"]
        return bool(status.get("readyReplicas", 0) == replicas)

    for workload in spec.workloads:
        ns, name = workload.namespace, workload.name
        wait_for(
            f"{ns}/{name}: {workload.replicas} ready",
            functools.partial(ready, ns, name, workload.replicas),
            timeout=240,
        )
        if workload.storage is not None:
            claims = k_json(kubeconfig, "-n", ns, "get", "pvc")["items"]
            mine = [c for c in claims if c["metadata"]["name"].startswith(f"data-{name}-")]
            assert len(mine) == workload.replicas
            assert {c["status"]["phase"] for c in mine} == {"Bound"}


def test_a_pod_reaches_a_service_and_each_statefulset_pod_by_name(
    spec: ClusterSpec, kubeconfig: Path
) -> None:
    workload = next(w for w in spec.workloads if w.ports)
    port = workload.ports[0].port
    domain = "svc.cluster.local"
    names = [
        f"{workload.name}-{i}.{workload.name}.{workload.namespace}.{domain}"
        for i in range(workload.replicas)
    ]
    script = " && ".join(
        [f"nslookup kubernetes.default.{domain} >/dev/null"]
        + [f"curl -sS http://{name}:{port}/hostname && echo" for name in names]
    )
    pod = f"gw-client-{int(time.time())}"
    # Run to the end, then read the log: `run --attach` misses what a quick
    # pod prints before the attach.
    k(
        kubeconfig,
        "run",
        pod,
        "--restart=Never",
        f"--image={AGNHOST}",
        "--command",
        "--",
        "sh",
        "-c",
        script,
    )
    try:
        k(
            kubeconfig,
            "wait",
            f"pod/{pod}",
            "--for=jsonpath={.status.phase}=Succeeded",
            "--timeout=150s",
            timeout=180,
        )
    finally:
        out = k(kubeconfig, "logs", pod)
        k(kubeconfig, "delete", "pod", pod, "--wait=false")
    hostnames = [
        line.strip() for line in out.splitlines() if line.strip().startswith(workload.name)
    ]
    assert hostnames[: workload.replicas] == [
        f"{workload.name}-{i}" for i in range(workload.replicas)
    ]


def _apiserver_window(spec: ClusterSpec, node: str) -> tuple[int, int]:
    """(when kube-apiserver last stopped, when it last started), on the kernel's
    monotonic clock, which every lab machine shares with the host."""
    out = must(
        spec,
        node,
        "systemctl show --value -p ActiveExitTimestampMonotonic"
        " -p ActiveEnterTimestampMonotonic kube-apiserver",
    )
    entered, exited = (int(v) for v in out.split())
    return exited, entered


def _cluster_id(spec: ClusterSpec) -> str:
    first = spec.nodes_with(Role.ETCD)[0].name
    out = must(spec, first, ". /etc/etcd/etcdctl.env && etcdctl endpoint status -w json")
    return hex(json.loads(out)[0]["Status"]["header"]["cluster_id"])


def test_an_etcd_snapshot_brings_deleted_objects_back_under_a_new_cluster_id(
    spec: ClusterSpec, kubeconfig: Path, tmp_path: Path
) -> None:
    """`etcd snapshot`, then objects deleted and written, then `etcd restore`:
    the cluster is the snapshot's again, verified, with a new cluster ID."""
    groundwork = str(Path(sys.executable).parent / "groundwork")
    marker = f"kept-{time.time_ns()}"
    k(kubeconfig, "create", "configmap", "backup-probe", f"--from-literal=value={marker}")
    snapshot = tmp_path / "lab.db.gwenc"
    taken = subprocess.run(
        [groundwork, "etcd", "snapshot", "--stack", spec.name, "-o", str(snapshot)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert snapshot.stat().st_mode & 0o777 == 0o600
    sha256 = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert (tmp_path / "lab.db.gwenc.sha256").read_text().split()[0] == sha256
    # Encrypted: the ConfigMap's value is in etcd in plain text, not in the file.
    assert marker.encode() not in snapshot.read_bytes()
    before = _cluster_id(spec)

    k(kubeconfig, "delete", "configmap", "backup-probe")
    k(kubeconfig, "create", "configmap", "written-after-the-snapshot", "--from-literal=a=b")
    restored = subprocess.run(
        [groundwork, "etcd", "restore", "--stack", spec.name, str(snapshot)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stdout[-4000:] + restored.stderr
    assert "every member restored" in restored.stdout
    value = k(kubeconfig, "get", "configmap", "backup-probe", "-o", "jsonpath={.data.value}")
    assert value == marker
    later = k(kubeconfig, "get", "configmaps", "-o", "name")
    assert "configmap/written-after-the-snapshot" not in later.split()
    assert _cluster_id(spec) != before
    k(kubeconfig, "delete", "configmap", "backup-probe")


def test_scheduled_snapshots_are_taken_checked_and_kept_as_declared(spec: ClusterSpec) -> None:
    """The timer the stack's etcd.snapshots installs runs the snapshot service:
    each run leaves a snapshot etcdutl reads, and only the newest `keep` stay."""
    snapshots = spec.etcd.snapshots
    assert snapshots is not None, f"stack {spec.name} declares no etcd.snapshots"
    member = spec.nodes_with(Role.ETCD)[0].name
    runs = snapshots.keep + 1
    script = (
        "set -e; rm -f /var/lib/etcd-snapshots/scheduled-*.db; "
        f"for i in $(seq {runs}); do systemctl start groundwork-etcd-snapshot.service; sleep 1.1; done; "
        "ls -1 /var/lib/etcd-snapshots/scheduled-*.db; "
        "for f in /var/lib/etcd-snapshots/scheduled-*.db; do "
        "stat -c '%a %U' $f; etcdutl snapshot status $f -w json; done"
    )
    out = must(spec, member, script, timeout=300).splitlines()
    kept = [line for line in out if line.endswith(".db")]
    assert len(kept) == snapshots.keep, out
    assert all(line == "600 root" for line in out if line.endswith(" root")), out
    statuses = [json.loads(line) for line in out if line.startswith("{")]
    assert len(statuses) == snapshots.keep and all(s["totalKey"] > 0 for s in statuses), out
    enabled = must(spec, member, "systemctl is-enabled groundwork-etcd-snapshot.timer").strip()
    assert enabled == "enabled"


def test_certs_renew_rotates_every_leaf_while_the_api_answers(
    spec: ClusterSpec, kubeconfig: Path
) -> None:
    """`groundwork certs renew`: every leaf of the PKI issued anew (the CAs
    kept), and every certificate the nodes serve (apiservers, kubelets, etcd
    client and peer ports) is a new one, while a client of the API through
    the VIP sees no failed request."""
    from groundwork import certs
    from groundwork.cli import main
    from groundwork.pki import pki_dir
    from groundwork.pki.bundle import CA_STEMS

    plan, directory = build_plan(spec), pki_dir(spec.name)

    def expiries() -> dict[tuple[str, str], Any]:
        rows = certs.check(spec, plan, directory)
        assert all(r.not_after is not None for r in rows), [r for r in rows if r.problem]
        return {(r.where, r.name): r.not_after for r in rows}

    old = expiries()
    # A drifted control-plane file goes back in the same run.
    nodes = [n.name for n in spec.nodes if Role.CONTROL_PLANE in n.roles]
    policy = "/etc/kubernetes/audit-policy.yaml"
    for node in nodes:
        must(spec, node, f"echo '# drift' >> {policy}")
    time.sleep(1)  # a certificate's validity is counted in whole seconds
    # systemd's monotonic timestamps and this host's share one kernel clock.
    before = time.monotonic_ns() // 1000
    with ApiClient(kubeconfig) as client:
        code = main(["certs", "renew", "--stack", STACK])
    assert code == 0
    for node in nodes:
        assert "# drift" not in must(spec, node, f"cat {policy}"), node
    # Every apiserver restarted, and each stopped only after the one before
    # it had started again (the handler waits for its /readyz in between).
    windows = sorted(_apiserver_window(spec, node) for node in nodes)
    assert all(stopped > before for stopped, _ in windows), (before, windows)
    for (_, started), (next_stopped, _) in itertools.pairwise(windows):
        assert next_stopped > started, windows
    new = expiries()
    assert new.keys() == old.keys()
    kept = sorted(key for key in old if new[key] == old[key])
    # Only the CAs (and nothing a node serves) keep their certificate.
    assert kept == sorted(("controller", f"{stem}.crt") for stem in CA_STEMS.values()), kept
    assert any(where != "controller" for where, _ in old), "no served certificate was read"
    client.assert_every_request_answered()

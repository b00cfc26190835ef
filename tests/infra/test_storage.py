"""Storage as the cluster serves it: each declared StorageClass with its
driver's provisioner and reclaim policy, exactly one default (the declared
one: a cluster with two picks either for a claim that names none), and every
claim of a declared workload Bound. A pod Pending on a node-local volume
whose node was drained is named by test_pods_running, with the volume and
the node. Not run by `verify --substrate-only`.
"""

from __future__ import annotations

from conftest import Stack

from groundwork.manifests.storage import PROVISIONERS
from groundwork.verify.drift import Expect
from groundwork.verify.expect import KubeExpectation
from groundwork.verify.storage import default_classes

CLASSES = "/apis/storage.k8s.io/v1/storageclasses"


def test_storage_classes(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    live = {c["metadata"]["name"]: c for c in stack.kube().items(CLASSES)}
    for declared in stack.spec.storage.classes:
        where = f"StorageClass {declared.name}"
        found = live.get(declared.name)
        if found is None:
            expect.differs(where, "present", "(absent)")
            continue
        expect.equal(
            f"{where} provisioner", PROVISIONERS[declared.driver], found.get("provisioner")
        )
        expect.equal(f"{where} reclaimPolicy", declared.reclaim_policy, found.get("reclaimPolicy"))
    declared_default = [c.name for c in stack.spec.storage.classes if c.default]
    expect.equal(
        "default StorageClass",
        ", ".join(declared_default) or "(none)",
        ", ".join(default_classes(list(live.values()))) or "(none)",
    )
    expect.done()


def test_workload_claims_bound(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Each pod's claim of each declared workload with storage: Bound, on the
    declared class. A claim waits (Pending) for its first pod's node under
    WaitForFirstConsumer; the settled cluster has none left waiting."""
    stack.settle()
    claims = {
        f"{c['metadata']['namespace']}/{c['metadata']['name']}": c
        for c in stack.kube().items("/api/v1/persistentvolumeclaims")
    }
    for workload in stack.spec.workloads:
        if workload.storage is None:
            continue
        ns = workload.namespace
        for ordinal in range(workload.replicas):
            name = f"data-{workload.name}-{ordinal}"
            where = f"claim {ns}/{name}"
            claim = claims.get(f"{ns}/{name}")
            if claim is None:
                expect.differs(where, "Bound", "(absent)")
                continue
            expect.equal(f"{where}", "Bound", (claim.get("status") or {}).get("phase"))
            expect.equal(
                f"{where} class",
                workload.storage.storage_class,
                (claim.get("spec") or {}).get("storageClassName"),
            )
    expect.done()

"""The stack's NetworkPolicies, as the cluster holds them. Whether packets
obey them is the plugin's part: validate warns when it does not enforce them."""

from __future__ import annotations

from typing import Any

from conftest import Stack

from groundwork.manifests.workloads import network_policy
from groundwork.verify.drift import Expect
from groundwork.verify.expect import KubeExpectation

POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"


def _labels(selector: Any) -> dict[str, str]:
    return dict((selector or {}).get("matchLabels") or {})


def test_network_policies(policy_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Each declared policy exists with the pods it selects and the
    directions it restricts, as Groundwork renders it."""
    live = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": p
        for p in stack.kube().items(POLICIES)
    }
    for declared in stack.spec.network_policies:
        where = f"NetworkPolicy {declared.namespace}/{declared.name}"
        found = live.get(f"{declared.namespace}/{declared.name}")
        if found is None:
            expect.differs(where, "present", "(absent)")
            continue
        want = network_policy(declared)["spec"]
        spec = found.get("spec") or {}
        expect.equal(
            f"{where} pods", _labels(want["podSelector"]), _labels(spec.get("podSelector"))
        )
        expect.equal(f"{where} policyTypes", want["policyTypes"], spec.get("policyTypes"))
        for direction in ("ingress", "egress"):
            if direction in want:
                expect.equal(
                    f"{where} {direction} rules",
                    len(want[direction]),
                    len(spec.get(direction) or []),
                )
    expect.done()

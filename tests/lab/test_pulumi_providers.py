"""The `pulumi up` path, run for real: the dynamic providers against the lab.

No Pulumi CLI exists here, so the engine's calls are made directly: create,
diff, update, delete of NodeProvisioning (ansible-runner over SSH) and create
of NodeVerification (the testinfra checks). The PKI handed in is what the
Pulumi Pki resource would hold; it is written to the stack's PKI directory
before the roles run, so both front doors install one CA.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from groundwork import lab
from groundwork.inventory.fingerprint import provisioning_hash
from groundwork.lab import ssh
from groundwork.pki import PkiBundle, ensure_bundle, load_bundle, pki_dir
from groundwork.plan import build_plan
from groundwork.pulumi.nodes import (
    NodeProvisioningProvider,
    NodeVerificationProvider,
    VerificationError,
    cluster_value,
)
from groundwork.spec import ClusterSpec, Role, load_stack

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def spec() -> Iterator[ClusterSpec]:
    spec = load_stack("lab")
    state = lab.up(spec)
    assert state.up, "the lab did not come up"
    yield spec


@pytest.fixture(scope="module")
def props(spec: ClusterSpec) -> dict[str, Any]:
    requests = list(build_plan(spec).certificates)
    # What the Pki resource holds: the existing material if any, so a lab that
    # is already provisioned keeps its CA (etcd peers would refuse a new one).
    held: PkiBundle = ensure_bundle(load_bundle(pki_dir(spec.name)), requests).bundle
    return {
        "cluster": cluster_value(spec),
        "contentHash": provisioning_hash(spec),
        "pki": held.to_dict(),
    }


def _on_node(spec: ClusterSpec, node: str, script: str) -> subprocess.CompletedProcess[str]:
    argv = ssh.target(spec, node).argv([script])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_provisioning_lifecycle(spec: ClusterSpec, props: dict[str, Any]) -> None:
    provisioning = NodeProvisioningProvider()
    verification = NodeVerificationProvider()

    created = provisioning.create(dict(props))
    assert created.outs is not None
    assert set(created.outs["changed"]) == {n.name for n in spec.nodes}
    # The lab's mirror serves the Kubernetes binaries built here: nothing is
    # reported as not installed.
    assert created.outs["notInstalled"] == ""

    assert not provisioning.diff(created.id, created.outs, dict(props)).changes
    moved = {**props, "contentHash": "0" * 64}
    assert provisioning.diff(created.id, created.outs, moved).changes

    updated = provisioning.update(created.id, created.outs, dict(props))
    assert updated.outs is not None
    assert updated.outs["changed"] == {n.name: 0 for n in spec.nodes}, updated.outs["changed"]

    checks = {"cluster": props["cluster"], "provisioningHash": props["contentHash"]}
    verified = verification.create(dict(checks))
    assert verified.outs is not None
    assert verified.outs["failed"] == 0 and verified.outs["passed"] > 0

    provisioning.delete(created.id, dict(props))
    etcd_node = spec.nodes_with(Role.ETCD)[0].name
    after = _on_node(spec, etcd_node, "systemctl is-active etcd; test -e /var/lib/etcd/member")
    assert after.returncode != 0 and "inactive" in after.stdout, after.stdout + after.stderr
    # Reset never cuts SSH: the command above ran over it, and so does this.
    assert _on_node(spec, etcd_node, "true").returncode == 0

    with pytest.raises(VerificationError, match="etcd"):
        verification.create(dict(checks))

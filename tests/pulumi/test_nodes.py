"""NodeProvisioning and NodeVerification: wiring under Pulumi mocks, the content hash, the diffs.

create/update/delete run Ansible and testinfra against machines: they are
exercised against the lab, not here.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_addons import Monitor, run_stack

from groundwork.inventory import fingerprint
from groundwork.inventory.fingerprint import CODE_ROOTS, provisioning_hash
from groundwork.pulumi import CLUSTER_TYPE, PKI_TYPE
from groundwork.pulumi.addons import LAYER_TYPES
from groundwork.pulumi.nodes import (
    NodeProvisioning,
    NodeProvisioningProvider,
    NodeVerification,
    NodeVerificationProvider,
    cluster_value,
    pki_digest,
)
from groundwork.spec import load_stack, parse_cluster

PROVISIONING_TYPE = f"pulumi-python:{NodeProvisioning._resource_type_name}"
VERIFICATION_TYPE = f"pulumi-python:{NodeVerification._resource_type_name}"
STACKS = ["dev", "prod", "lab"]


@pytest.fixture(scope="module", params=STACKS)
def ran(request: pytest.FixtureRequest) -> tuple[str, Monitor]:
    monitor, _ = run_stack(request.param)
    return request.param, monitor


def test_nodes_exist_in_order(ran: tuple[str, Monitor]) -> None:
    stack, monitor = ran
    cluster = monitor.urn(CLUSTER_TYPE)
    provisioning = monitor.urn(PROVISIONING_TYPE)
    verification = monitor.urn(VERIFICATION_TYPE)
    prov, ver = monitor.requests[provisioning], monitor.requests[verification]
    assert prov["name"] == f"{stack}-nodes" and ver["name"] == f"{stack}-verify"
    assert prov["parent"] == cluster and ver["parent"] == cluster
    # Provisioning waits for the PKI (its material: the SDK expands the component).
    pki_children = {u for u, r in monitor.requests.items() if r["parent"] == monitor.urn(PKI_TYPE)}
    assert pki_children and pki_children <= prov["dependencies"]
    assert provisioning in ver["dependencies"]
    assert verification not in prov["dependencies"]
    for typ in LAYER_TYPES.values():
        assert verification in monitor.requests[monitor.urn(typ)]["dependencies"], typ


def test_inputs_carry_the_spec_and_the_hash(ran: tuple[str, Monitor]) -> None:
    stack, monitor = ran
    spec = load_stack(stack)
    prov = monitor.resources[monitor.urn(PROVISIONING_TYPE)].state
    ver = monitor.resources[monitor.urn(VERIFICATION_TYPE)].state
    assert prov["contentHash"] == provisioning_hash(spec)
    assert ver["provisioningHash"] == prov["contentHash"]
    assert parse_cluster(prov["cluster"]) == spec
    assert ver["cluster"] == prov["cluster"]


# --- the content hash ---------------------------------------------------------------


def test_hash_is_stable_and_per_stack() -> None:
    hashes = {s: provisioning_hash(load_stack(s)) for s in STACKS}
    assert hashes == {s: provisioning_hash(load_stack(s)) for s in STACKS}
    assert len(set(hashes.values())) == len(STACKS)
    assert all(len(h) == 64 for h in hashes.values())


def test_hash_changes_with_the_spec() -> None:
    spec = load_stack("dev")
    value = copy.deepcopy(cluster_value(spec))
    value["network"]["nodeMtu"] = value["network"].get("nodeMtu", 1500) - 50
    assert provisioning_hash(parse_cluster(value)) != provisioning_hash(spec)
    value = copy.deepcopy(cluster_value(spec))
    value["nodes"][0]["address"] = "10.20.0.99"
    assert provisioning_hash(parse_cluster(value)) != provisioning_hash(spec)


def test_hash_changes_with_a_role_file(tmp_path: Path) -> None:
    spec = load_stack("dev")
    roots = []
    for root in CODE_ROOTS:
        shutil.copytree(root, tmp_path / root.name)
        roots.append(tmp_path / root.name)
    # Paths are relative to each root: a copy hashes like the original.
    before = provisioning_hash(spec, roots)
    assert before == provisioning_hash(spec)
    tasks = sorted((tmp_path / "roles").rglob("tasks/main.yml"))[0]
    tasks.write_bytes(tasks.read_bytes() + b"\n# edited\n")
    fingerprint.tree_hash.cache_clear()  # cached per process; a new run starts afresh
    edited = provisioning_hash(spec, roots)
    assert edited != before
    # A new file (no content change elsewhere) counts too.
    (tmp_path / "playbooks" / "extra.yml").write_text("---\n")
    fingerprint.tree_hash.cache_clear()
    assert provisioning_hash(spec, roots) not in {before, edited}


def test_hash_does_not_touch_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pure: machine-local paths are placeholders; nothing is created or contacted."""
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path / "state"))
    expected = provisioning_hash(load_stack("lab"))
    assert not (tmp_path / "state").exists()
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path / "elsewhere"))
    assert provisioning_hash(load_stack("lab")) == expected


# --- the providers' diff (pure) -----------------------------------------------------


def _props(stack: str = "dev", content_hash: str = "a" * 64) -> dict[str, Any]:
    return {"cluster": cluster_value(load_stack(stack)), "contentHash": content_hash}


def _more_replicas(props: dict[str, Any]) -> dict[str, Any]:
    """The same props with the first workload's replicas one higher."""
    cluster = copy.deepcopy(props["cluster"])
    cluster["workloads"][0]["replicas"] += 1
    return {**props, "cluster": cluster}


def test_provisioning_diff() -> None:
    provider = NodeProvisioningProvider()
    props = _props(stack="lab")
    olds = {**props, "changed": {"cp1": 3}, "notInstalled": "", "pkiDigest": pki_digest(props)}
    assert not provider.diff("id", olds, _props(stack="lab")).changes
    assert provider.diff("id", olds, _props(stack="lab", content_hash="b" * 64)).changes
    # Only the Kubernetes provider applies a workload's replicas.
    assert not provider.diff("id", olds, _more_replicas(_props(stack="lab"))).changes
    # Drift that `pulumi refresh` found: the next up provisions again.
    assert provider.diff("id", {**olds, "drift": ["w1: containerd config"]}, props).changes
    # A new PKI: the nodes get it. The outputs keep only its digest.
    assert provider.diff("id", olds, {**_props(), "pki": {"certificates": {}}}).changes
    result = provider.diff("id", olds, _props(content_hash="b" * 64))
    assert not result.replaces


def test_verification_diff_follows_provisioning() -> None:
    provider = NodeVerificationProvider()

    def props(content_hash: str, stack: str = "dev") -> dict[str, Any]:
        return {"cluster": cluster_value(load_stack(stack)), "provisioningHash": content_hash}

    olds = {**props("a" * 64), "passed": 40, "failed": 0}
    assert not provider.diff("id", olds, props("a" * 64)).changes
    assert provider.diff("id", olds, props("b" * 64)).changes
    assert not provider.diff("id", olds, _more_replicas(props("a" * 64, stack="lab"))).changes

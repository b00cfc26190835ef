"""Node provisioning and verification as Pulumi dynamic resources.

Both are thin: they rebuild the spec from their `cluster` input and run the
same phase pipelines the CLI runs (groundwork.phases.lists).

- `NodeProvisioning`: inputs are the cluster value and `contentHash`
  (`groundwork.inventory.fingerprint.provisioning_hash`: rendered inventory,
  playbooks and roles). `diff` reports a change when the hash or the PKI
  differs, so a `pulumi up` with nothing changed, or with only a change the
  Kubernetes provider applies, does not touch a node. create/update run
  the `up` pipeline without the lab and the checks (`NodeVerification` runs
  those) and fail with every failed host/role/task; delete runs the
  `destroy` pipeline: reset.yml, then a new SSH session to every node;
  read (`pulumi refresh`) runs the node checks and records each failing one
  as `drift`, which makes the next `pulumi up` provision again.
- `NodeVerification`: inputs are the cluster value and the provisioning's
  `contentHash`, so it re-runs whenever provisioning re-ran; create/update run
  the `verify` pipeline (the testinfra checks) and fail with the failing ones.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi import dynamic
from pulumi.runtime.rpc import unwrap_rpc_secret

from groundwork.spec import ClusterSpec, parse_cluster

if TYPE_CHECKING:  # the phases import ansible-runner: only when a provider runs
    from groundwork.phases import Context, Pipeline, RunResult

PROVISIONING_SOURCE = "NodeProvisioning.cluster"
VERIFICATION_SOURCE = "NodeVerification.cluster"


def cluster_value(spec: ClusterSpec) -> dict[str, Any]:
    """The spec as the JSON value the providers receive (and parse back)."""
    return spec.model_dump(by_alias=True, mode="json", exclude_none=True)


def _spec(props: dict[str, Any], source: str) -> ClusterSpec:
    return parse_cluster(unwrap_rpc_secret(props.get("cluster")), source=source)


def _differs(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if unwrap_rpc_secret(olds.get(k)) != unwrap_rpc_secret(news.get(k))]


def _diff(
    olds: dict[str, Any],
    news: dict[str, Any],
    keys: tuple[str, ...],
    pki: bool = False,
    drift: bool = False,
) -> dynamic.DiffResult:
    changed = _differs(olds, news, keys)
    if pki and olds.get(PKI_DIGEST) != pki_digest(news):
        changed.append("pki")
    if drift and olds.get(DRIFT):  # found by `pulumi refresh`: provision again to heal it
        changed.append(DRIFT)
    return dynamic.DiffResult(
        changes=bool(changed), replaces=[], stables=[], delete_before_replace=False
    )


# The node checks that failed when `pulumi refresh` last read the nodes.
DRIFT = "drift"

# The outputs keep a digest of the PKI the nodes got, not the PKI: its keys
# stay in the (secret) inputs only.
PKI_DIGEST = "pkiDigest"


def pki_digest(props: dict[str, Any]) -> str:
    """sha256 of the PKI material in props, in a canonical form (pure)."""
    material = unwrap_rpc_secret(props.get("pki"))
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _run(pipeline: Pipeline, spec: ClusterSpec, verify: bool = False) -> tuple[RunResult, Context]:
    """Run a pipeline the way a provider must: no live display (the engine
    shows the provider's output as lines), no lab (`groundwork lab up` makes
    it), no checks unless asked (`NodeVerification` is its own resource)."""
    from groundwork.phases import Context, Options, run

    # The addons are Pulumi resources of their own (groundwork/pulumi/addons.py).
    context = Context(
        spec, Options(live=False, lab=False, addons=False, verify=verify, door="pulumi")
    )
    return run(pipeline, context), context


# --- provisioning -------------------------------------------------------------------


class ProvisioningError(Exception):
    """The playbook run failed; the message names each failed host, role and task."""


class NodeProvisioningProvider(dynamic.ResourceProvider):
    """CRUD for the node substrate (and Kubernetes layer): the up and destroy pipelines."""

    serialize_as_secret_always = False

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # What the nodes get is all in the content hash (the rendered inventory,
        # playbooks and roles) and the PKI: a change that only the Kubernetes
        # provider applies (a workload's replicas) does not touch a node.
        return _diff(olds, news, ("contentHash",), pki=True, drift=True)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"nodes-{uuid.uuid4().hex}", self._apply(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        """`pulumi refresh`: the nodes as they are. The node checks run, and
        each failing one is recorded as drift in the outputs, so refresh
        shows it and the next `pulumi up` provisions again (see diff)."""
        from groundwork.phases import VERIFY

        spec = _spec(props, PROVISIONING_SOURCE)
        result, context = _run(VERIFY, spec, verify=True)
        if context.report is None:
            raise VerificationError(result.describe_failure())
        drift = sorted(f"{r.node}: {r.check}" for r in context.report.failures)
        return dynamic.ReadResult(id_, {**props, DRIFT: drift})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from groundwork.phases import DESTROY

        spec = _spec(props, PROVISIONING_SOURCE)
        _install_pki(spec, props)
        result, _ = _run(DESTROY, spec)
        if not result.ok:
            raise ProvisioningError(result.describe_failure())

    @staticmethod
    def _apply(props: dict[str, Any]) -> dict[str, Any]:
        from groundwork.phases import UP

        spec = _spec(props, PROVISIONING_SOURCE)
        _install_pki(spec, props)
        result, context = _run(UP, spec)
        if not result.ok:
            raise ProvisioningError(result.describe_failure())
        summary = context.summary
        return {
            "cluster": props.get("cluster"),
            "contentHash": props.get("contentHash"),
            PKI_DIGEST: pki_digest(props),
            "changed": summary.changed_by_host() if summary is not None else {},
            "notInstalled": context.not_installed,
        }


def _install_pki(spec: ClusterSpec, props: dict[str, Any]) -> None:
    """Write the PKI held in Pulumi state to the stack's PKI directory, so the
    roles install the same CA the kubeconfig output trusts (one CA, whichever
    front door ran first). The pki phase then finds every file it would issue."""
    from groundwork.pki import PkiBundle, pki_dir
    from groundwork.pki.store import write_bundle

    material = props.get("pki")
    if material:
        write_bundle(pki_dir(spec.name), PkiBundle.from_dict(material))


# --- verification -------------------------------------------------------------------


class VerificationError(Exception):
    """A node check failed; the message names each failing check."""


class NodeVerificationProvider(dynamic.ResourceProvider):
    """Runs the testinfra node checks; an update fails when a check fails."""

    serialize_as_secret_always = False

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return _diff(olds, news, ("provisioningHash",))

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"verify-{uuid.uuid4().hex}", self._check(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._check(news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        return dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # Checks leave nothing behind; the nodes are reset by NodeProvisioning.
        return None

    @staticmethod
    def _check(props: dict[str, Any]) -> dict[str, Any]:
        from groundwork.phases import VERIFY

        spec = _spec(props, VERIFICATION_SOURCE)
        result, context = _run(VERIFY, spec, verify=True)
        if not result.ok or context.report is None:
            raise VerificationError(result.describe_failure())
        report = context.report
        return {
            "cluster": props.get("cluster"),
            "provisioningHash": props.get("provisioningHash"),
            "passed": sum(r.ok for r in report.results),
            "failed": len(report.failures),
        }


# --- resources ----------------------------------------------------------------------


class NodeProvisioning(dynamic.Resource, module="groundwork", name="NodeProvisioning"):
    """Every node of the stack made to match it by the Ansible roles."""

    cluster: pulumi.Output[dict[str, Any]]
    contentHash: pulumi.Output[str]
    changed: pulumi.Output[dict[str, int]]
    notInstalled: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: ClusterSpec,
        content_hash: str,
        pki: pulumi.Input[dict[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "cluster": cluster_value(spec),
            "contentHash": content_hash,
            # The Pki bundle (secret): written to the PKI directory before the
            # roles run. Not part of the diff: a re-issued leaf changes the
            # content hash through the requests in the spec already.
            "pki": pki,
            "changed": None,
            "notInstalled": None,
        }
        super().__init__(NodeProvisioningProvider(), name, props, opts)


class NodeVerification(dynamic.Resource, module="groundwork", name="NodeVerification"):
    """The node checks of the stack, run after every provisioning change."""

    cluster: pulumi.Output[dict[str, Any]]
    provisioningHash: pulumi.Output[str]
    passed: pulumi.Output[int]
    failed: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        spec: ClusterSpec,
        provisioning_hash: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "cluster": cluster_value(spec),
            "provisioningHash": provisioning_hash,
            "passed": None,
            "failed": None,
        }
        super().__init__(NodeVerificationProvider(), name, props, opts)

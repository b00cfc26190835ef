"""The Pulumi program under Pulumi's mock runtime, for every stack file in stacks/."""

from __future__ import annotations

import copy
import json
import runpy
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from cryptography import x509
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from groundwork.pki import CertificateRequest, PkiBundle
from groundwork.pulumi import CLUSTER_TYPE, PKI_TYPE, PkiMaterial, PkiProvider, spec_from_config
from groundwork.spec import SpecError

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
MATERIAL_TYPE = f"pulumi-python:{PkiMaterial._resource_type_name}"


class Mocks(pulumi.runtime.Mocks):
    """Echoes inputs, except the PKI material, which the real provider creates."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == MATERIAL_TYPE:
            props = {k: v for k, v in args.inputs.items() if k != "__provider"}
            created = PkiProvider().create(props)
            return created.id, created.outs or {}
        return f"{args.name}-id", args.inputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def stack_value(path: Path) -> Any:
    return yaml.safe_load(path.read_text())["config"]["groundwork:cluster"]


class Monitor(MockMonitor):
    """Also records which outputs each resource asked the engine to keep secret."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.secret_outputs: dict[str, list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.secret_outputs[response.urn] = list(request.additionalSecretOutputs)
        return response

    def registered(self) -> dict[str, tuple[str, str]]:
        """urn -> (type, name) of every resource registered so far."""
        return {u: (u.split("::")[2].split("$")[-1], u.split("::")[3]) for u in self.resources}


def install(value: Any) -> Monitor:
    """Fresh mocks with `value` as the stack's groundwork:cluster config."""
    mocks = Mocks()
    monitor = Monitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="groundwork", stack="test", preview=False, monitor=monitor
    )
    pulumi.runtime.set_all_config({"groundwork:cluster": json.dumps(value)})
    return monitor


def execute(program: Callable[[], Coroutine[Any, Any, None] | None]) -> None:
    """Run `program` on Pulumi's event loop and wait for every registration."""

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def wrapped() -> Any:
        return program()

    try:
        wrapped()
    finally:
        pulumi.runtime.set_all_config({})


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_builds(stack_file: Path) -> None:
    value = stack_value(stack_file)
    seen: dict[str, Any] = {}

    def program() -> Coroutine[Any, Any, None]:
        cluster = runpy.run_path(str(ROOT / "__main__.py"))["cluster"]

        async def observe() -> None:
            pki = cluster.pki
            seen["keys_secret"] = await pki.private_keys.is_secret()
            seen["sa_secret"] = await pki.private_key("sa").is_secret()
            seen["certs_secret"] = await pki.certificates.is_secret()
            seen["certs"] = await pki.certificates.future()
            seen["keys"] = await pki.private_keys.future()
            seen["ca"] = await cluster.ca_certificate.future()

        return observe()

    monitor = install(value)
    execute(program)
    resources = monitor.registered()
    by_type = {typ: name for typ, name in resources.values()}
    assert by_type[CLUSTER_TYPE] == value["name"]
    assert by_type[PKI_TYPE] == f"{value['name']}-pki"
    assert MATERIAL_TYPE in by_type
    # Parentage: a child's URN type is "<parent type>$<type>" (the mock keeps one level).
    types = {urn.split("::")[2] for urn in resources}
    assert f"{CLUSTER_TYPE}${PKI_TYPE}" in types
    assert f"{PKI_TYPE}${MATERIAL_TYPE}" in types

    assert seen["keys_secret"] and seen["sa_secret"]
    # The mock monitor does not apply additionalSecretOutputs; assert the request.
    material_urn = next(u for u, (t, _) in resources.items() if t == MATERIAL_TYPE)
    assert monitor.secret_outputs[material_urn] == ["privateKeys"]
    assert not seen["certs_secret"]
    certs, keys = seen["certs"], seen["keys"]
    assert seen["ca"] == certs["ca"]
    assert set(certs) <= set(keys) and "sa" in keys
    ca = x509.load_pem_x509_certificate(certs["ca"].encode())
    etcd_ca = x509.load_pem_x509_certificate(certs["etcd/ca"].encode())
    for node in value["nodes"]:
        if "etcd" in node["roles"]:
            server = x509.load_pem_x509_certificate(certs[f"etcd/{node['name']}-server"].encode())
            server.verify_directly_issued_by(etcd_ca)
        if {"control-plane", "worker"} & set(node["roles"]):
            x509.load_pem_x509_certificate(
                certs[f"kubelet-{node['name']}"].encode()
            ).verify_directly_issued_by(ca)
    apiserver = x509.load_pem_x509_certificate(certs["kube-apiserver"].encode())
    sans = apiserver.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    endpoint = value["controlPlane"]["endpoint"]
    names = {str(a) for a in sans.get_values_for_type(x509.IPAddress)}
    names |= set(sans.get_values_for_type(x509.DNSName))
    assert str(endpoint.get("vip") or endpoint.get("loadBalancer") or endpoint.get("dns")) in names


def _invalid_value() -> Any:
    value = copy.deepcopy(stack_value(STACK_FILES[0]))
    value["network"]["podCidr"] = value["network"].get("serviceCidr", "10.96.0.0/12")
    value["nodez"] = []
    return value


def test_invalid_cluster_fails_before_any_resource() -> None:
    def program() -> None:
        spec_from_config()

    monitor = install(_invalid_value())
    with pytest.raises(SpecError) as caught:
        execute(program)
    paths = {p.path for p in caught.value.problems}
    assert "cluster.nodez" in paths
    assert monitor.registered() == {}

    def main() -> None:
        runpy.run_path(str(ROOT / "__main__.py"))

    monitor = install(_invalid_value())
    with pytest.raises(pulumi.RunError) as failed:
        execute(main)
    assert isinstance(failed.value.__cause__, SpecError)
    assert "cluster.nodez" in str(failed.value)
    assert monitor.registered() == {}


# --- the dynamic provider, called directly (what `pulumi up` runs) -----------------


def _requests() -> list[dict[str, object]]:
    return [
        CertificateRequest(
            "kube-apiserver", "kube-apiserver", ip_sans=("10.0.0.1",), usages=frozenset({"server"})
        ).to_dict(),
        CertificateRequest("admin", "kubernetes-admin", organization=("system:masters",)).to_dict(),
    ]


def test_provider_update_reissues_only_changed_leaf() -> None:
    provider = PkiProvider()
    created = provider.create({"requests": _requests()})
    olds = created.outs or {}
    same = provider.diff(created.id, olds, {"requests": list(reversed(_requests()))})
    assert not same.changes

    news = {"requests": _requests()}
    news["requests"][0]["ipSans"] = ["10.0.0.1", "10.0.0.2"]
    assert provider.diff(created.id, olds, news).changes
    updated = provider.update(created.id, olds, news).outs or {}
    before, after = PkiBundle.from_dict(olds), PkiBundle.from_dict(updated)
    changed = {s for s in after.certificates if after.certificates[s] != before.certificates.get(s)}
    assert changed == {"kube-apiserver"}
    assert after.private_keys == before.private_keys
    # Olds with the private keys still wrapped as secrets give the same result.
    wrapped = {**olds, "privateKeys": rpc.wrap_rpc_secret(olds["privateKeys"])}
    again = PkiBundle.from_dict(provider.update(created.id, wrapped, news).outs or {})
    assert again.private_keys == before.private_keys
    assert updated["requests"] == news["requests"]


def test_provider_check_rejects_bad_requests() -> None:
    provider = PkiProvider()
    assert not provider.check({}, {"requests": _requests()}).failures
    bad = _requests()
    bad[0]["ipSans"] = ["not-an-ip"]
    assert provider.check({}, {"requests": bad}).failures
    assert provider.check({}, {"requests": [*_requests(), _requests()[0]]}).failures

"""The addon components under Pulumi's mock runtime: types, parentage, provider, real dependency edges."""

from __future__ import annotations

import base64
import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from cryptography import x509
from pulumi.runtime.mocks import MockMonitor
from test_program import Mocks

from groundwork.manifests import render_addons
from groundwork.plan import build_plan
from groundwork.pulumi import CLUSTER_TYPE
from groundwork.pulumi.addons import CNI_TYPE, LAYER_DEPENDENCIES, LAYER_TYPES
from groundwork.pulumi.nodes import NodeVerification
from groundwork.spec import load_stack

ROOT = Path(__file__).resolve().parents[2]
VERIFICATION_TYPE = f"pulumi-python:{NodeVerification._resource_type_name}"
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
PROVIDER = "pulumi:providers:kubernetes"


class Monitor(MockMonitor):
    """Records what MockResourceArgs does not carry: dependencies, parent, provider refs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.requests[response.urn] = {
            "type": request.type,
            "name": request.name,
            "parent": request.parent,
            "dependencies": set(request.dependencies),
            "provider": request.provider,
            "providers": dict(request.providers),
            "remote": request.remote,
        }
        return response

    def of_type(self, typ: str) -> dict[str, dict[str, Any]]:
        return {u: r for u, r in self.requests.items() if r["type"] == typ}

    def urn(self, typ: str) -> str:
        (found,) = self.of_type(typ)
        return found


def run_stack(stack: str) -> tuple[Monitor, dict[str, Any]]:
    value = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    mocks = Mocks()
    monitor = Monitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="groundwork", stack=stack, preview=False, monitor=monitor
    )
    pulumi.runtime.set_all_config(
        {"groundwork:cluster": json.dumps(value["config"]["groundwork:cluster"])}
    )
    seen: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        cluster = runpy.run_path(str(ROOT / "__main__.py"))["cluster"]

        async def observe() -> None:
            seen["kubeconfig_secret"] = await cluster.kubeconfig.is_secret()
            seen["kubeconfig"] = await cluster.kubeconfig.future()
            seen["certs"] = await cluster.pki.certificates.future()

        return observe()

    try:
        program()
    finally:
        pulumi.runtime.set_all_config({})
    return monitor, seen


@pytest.fixture(scope="module", params=["dev", "prod", "lab"])
def ran(request: pytest.FixtureRequest) -> tuple[str, Monitor, dict[str, Any]]:
    monitor, seen = run_stack(request.param)
    return request.param, monitor, seen


def test_layers_exist_under_the_cluster(ran: tuple[str, Monitor, dict[str, Any]]) -> None:
    stack, monitor, _ = ran
    cluster = monitor.urn(CLUSTER_TYPE)
    for layer, typ in LAYER_TYPES.items():
        urn = monitor.urn(typ)
        req = monitor.requests[urn]
        assert req["name"] == f"{stack}-{layer.replace('_', '-')}"
        assert req["parent"] == cluster


def test_dependency_edges_are_real(ran: tuple[str, Monitor, dict[str, Any]]) -> None:
    """`depends_on` a component reaches the engine as its children's URNs (the SDK
    expands it), so each layer must list every child of the layers it needs."""
    stack, monitor, _ = ran

    def children(layer: str) -> set[str]:
        parent = monitor.urn(LAYER_TYPES[layer])
        return {u for u, r in monitor.requests.items() if r["parent"] == parent}

    def deps(layer: str) -> set[str]:
        return set(monitor.requests[monitor.urn(LAYER_TYPES[layer])]["dependencies"])

    assert LAYER_DEPENDENCIES == {
        "cni": (),
        "coredns": ("cni",),
        "storage": ("cni",),
        "load_balancer": ("cni",),
        "gateway": ("cni", "load_balancer"),
        "workloads": ("storage", "gateway", "coredns"),
        "netcheck": ("coredns",),
    }
    assert bool(children("cni")) == (stack != "lab")  # bridge: nothing in-cluster
    for layer, needs in LAYER_DEPENDENCIES.items():
        wanted = set().union(*(children(n) for n in needs)) if needs else set()
        others = set().union(*(children(n) for n in LAYER_TYPES if n not in needs))
        assert wanted <= deps(layer), layer
        assert not deps(layer) & others, layer
    assert children("cni") <= deps("coredns") and children("load_balancer") <= deps("gateway")
    assert children("storage") | children("gateway") <= deps("workloads")
    # Every layer waits for what the cluster needs first (the verified nodes),
    # even when the layer before it renders nothing (the bridge CNI).
    verification = monitor.urn(VERIFICATION_TYPE)
    for layer in LAYER_TYPES:
        assert verification in deps(layer), layer


def test_children_use_the_cluster_provider(ran: tuple[str, Monitor, dict[str, Any]]) -> None:
    stack, monitor, _ = ran
    (provider_urn,) = monitor.of_type(PROVIDER)
    assert monitor.requests[provider_urn]["name"] == "k8s"
    layer_urns = {monitor.urn(t): layer for layer, t in LAYER_TYPES.items()}
    spec = load_stack(stack)
    addons = render_addons(spec, build_plan(spec))
    groups = monitor.of_type(CONFIG_GROUP)
    files = monitor.of_type(CONFIG_FILE)
    for urn, req in {**groups, **files}.items():
        assert req["parent"] in layer_urns, urn
        refs = [req["provider"], *req["providers"].values()]
        assert any(ref.startswith(provider_urn + "::") for ref in refs), (urn, refs)
    # One ConfigGroup per non-empty layer; per bundle, a ConfigGroup of its
    # pinned module's objects or a ConfigFile of its URL; objects after bundles.
    bundle_names = {
        f"{stack}-{layer.name.replace('_', '-')}-{b.name}": b.files is not None
        for layer in addons.layers()
        for b in layer.bundles
    }
    expected_groups = {
        f"{stack}-{layer.name.replace('_', '-')}-objects"
        for layer in addons.layers()
        if layer.objects
    } | {name for name, pinned in bundle_names.items() if pinned}
    assert {r["name"] for r in groups.values()} == expected_groups
    expected_files = {name for name, pinned in bundle_names.items() if not pinned}
    assert {r["name"] for r in files.values()} == expected_files
    for urn, req in groups.items():
        if req["name"] in bundle_names:
            continue
        bundles = {
            u
            for u, f in {**files, **groups}.items()
            if f["parent"] == req["parent"] and f["name"] in bundle_names
        }
        assert bundles <= req["dependencies"], urn
    # The objects really are the rendered ones.
    for layer in addons.layers():
        if layer.objects:
            name = f"{stack}-{layer.name.replace('_', '-')}-objects"
            state = next(monitor.resources[u].state for u, r in groups.items() if r["name"] == name)
            assert state["objs"] == layer.objects


def test_kubeconfig_is_secret_and_correct(ran: tuple[str, Monitor, dict[str, Any]]) -> None:
    stack, _, seen = ran
    assert seen["kubeconfig_secret"] is True
    config = yaml.safe_load(seen["kubeconfig"])
    spec = load_stack(stack)
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == build_plan(spec).endpoint.url
    ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    assert ca == seen["certs"]["ca"]
    cert = x509.load_pem_x509_certificate(
        base64.b64decode(config["users"][0]["user"]["client-certificate-data"])
    )
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.encode()))
    assert cert.subject.rfc4514_string() == "CN=admin,O=system:masters"
    assert b"PRIVATE KEY" in base64.b64decode(config["users"][0]["user"]["client-key-data"])


def test_stack_exports_kubeconfig_as_secret() -> None:
    outputs: dict[str, Any] = {}

    def export(name: str, value: Any) -> None:
        outputs[name] = value

    original = pulumi.export
    pulumi.export = export
    try:
        monitor, _ = run_stack("dev")
    finally:
        pulumi.export = original
    assert monitor.of_type(CNI_TYPE)
    secret: dict[str, bool] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def check() -> Any:
        async def go() -> None:
            secret["kubeconfig"] = await outputs["kubeconfig"].is_secret()
            secret["ca"] = await outputs["caCertificate"].is_secret()

        return go()

    check()
    assert secret == {"kubeconfig": True, "ca": False}


def test_prod_and_dev_differ_where_the_stacks_do() -> None:
    prod, _ = run_stack("prod")
    dev, _ = run_stack("dev")
    prod_files = {r["name"] for r in prod.of_type(CONFIG_FILE).values()}
    dev_files = {r["name"] for r in dev.of_type(CONFIG_FILE).values()}
    # Known only by their release URLs: calico's operator, Envoy Gateway.
    assert prod_files == {
        "prod-cni-calico-crds",
        "prod-cni-tigera-operator",
        "prod-gateway-envoy-gateway",
    }
    # MetalLB's objects come from the module components/metallb pins.
    metallb = next(
        prod.resources[u].state["objs"]
        for u, r in prod.of_type(CONFIG_GROUP).items()
        if r["name"] == "prod-load-balancer-metallb"
    )
    assert {"CustomResourceDefinition", "DaemonSet", "Deployment"} <= {o["kind"] for o in metallb}
    # Traefik's Gateway API CRDs come from the module components/traefik pins.
    assert dev_files == set()
    crds = next(
        dev.resources[u].state["objs"]
        for u, r in dev.of_type(CONFIG_GROUP).items()
        if r["name"] == "dev-gateway-gateway-api-crds"
    )
    assert {o["kind"] for o in crds} == {"CustomResourceDefinition"}
    # flannel is upstream's file from the module components/flannel pins, patched;
    # its objects keep the names they had as the layer's own objects.
    flannel = next(
        dev.resources[u].state
        for u, r in dev.of_type(CONFIG_GROUP).items()
        if r["name"] == "dev-cni-flannel"
    )
    assert flannel["resourcePrefix"] == "dev-cni-objects"
    cni = flannel["objs"]
    net = next(o for o in cni if o["kind"] == "ConfigMap")["data"]["net-conf.json"]
    assert json.loads(net)["Backend"]["Type"] == "vxlan"

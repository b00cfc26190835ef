"""Rendered addon manifests: schema-valid for each stack's Kubernetes version, and right per stack."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from groundwork.build.manifests import bundle_objects, groundwork_objects
from groundwork.manifests import AddonSet, Layer, render_addons, versions
from groundwork.manifests.common import Obj
from groundwork.manifests.kubeconfig import admin_kubeconfig
from groundwork.plan import ClusterPlan, build_plan
from groundwork.spec import SpecError, load_stack, parse_cluster
from groundwork.spec.model import Plugin

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def render(stack: str) -> tuple[ClusterPlan, AddonSet]:
    spec = load_stack(stack)
    plan = build_plan(spec)
    return plan, render_addons(spec, plan)


def find(objs: Any, kind: str, name: str | None = None) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind and name in (None, o["metadata"]["name"])]


def patched(layer: Layer) -> list[Obj]:
    """The layer's upstream objects with Groundwork's patches (read from the
    pinned modules in Go's module cache)."""
    return [o for b in layer.bundles if b.patches is not None for o in bundle_objects(b)]


def one(objs: Any, kind: str, name: str | None = None) -> Obj:
    found = find(objs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


# --- custom resources: kubernetes-validate knows only built-in kinds ---------------
# It raises SchemaNotFoundError for a CRD kind. Each kind Groundwork renders has
# its structural schema here (the fields it uses, the upstream CRD's required
# fields and enums); a kind missing from this table fails the test.

_META = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}},
}


def _crd(spec: dict[str, Any], namespaced: bool) -> dict[str, Any]:
    meta = json.loads(json.dumps(_META))
    if namespaced:
        meta["required"] = ["name", "namespace"]
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": meta,
            "spec": {"type": "object", "additionalProperties": False, **spec},
        },
    }


_PARENT_REF = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
    "additionalProperties": False,
}
CRD_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("operator.tigera.io/v1", "Installation"): _crd(
        {
            "properties": {
                "variant": {"enum": ["Calico", "TigeraSecureEnterprise"]},
                "cni": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": ["Calico", "GKE", "AmazonVPC", "AzureVNET"]}},
                },
                "calicoNetwork": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "bgp": {"enum": ["Enabled", "Disabled"]},
                        "mtu": {"type": "integer", "minimum": 1280},
                        "linuxDataplane": {"enum": ["Iptables", "BPF", "VPP", "Nftables"]},
                        "ipPools": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["cidr"],
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string"},
                                    "cidr": {"type": "string"},
                                    "encapsulation": {
                                        "enum": [
                                            "IPIPCrossSubnet",
                                            "IPIP",
                                            "VXLAN",
                                            "VXLANCrossSubnet",
                                            "None",
                                        ]
                                    },
                                    "natOutgoing": {"enum": ["Enabled", "Disabled"]},
                                    "blockSize": {"type": "integer", "minimum": 20, "maximum": 32},
                                    "nodeSelector": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            }
        },
        namespaced=False,
    ),
    ("crd.projectcalico.org/v1", "BGPConfiguration"): _crd(
        {
            "properties": {
                "asNumber": {"type": "integer", "minimum": 1, "maximum": 4294967295},
                "nodeToNodeMeshEnabled": {"type": "boolean"},
                "logSeverityScreen": {"type": "string"},
            }
        },
        namespaced=False,
    ),
    ("crd.projectcalico.org/v1", "BGPPeer"): _crd(
        {
            "required": ["peerIP", "asNumber"],
            "properties": {"peerIP": {"type": "string"}, "asNumber": {"type": "integer"}},
        },
        namespaced=False,
    ),
    ("metallb.io/v1beta1", "IPAddressPool"): _crd(
        {
            "required": ["addresses"],
            "properties": {
                "addresses": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "autoAssign": {"type": "boolean"},
            },
        },
        namespaced=True,
    ),
    ("metallb.io/v1beta1", "L2Advertisement"): _crd(
        {"properties": {"ipAddressPools": {"type": "array", "items": {"type": "string"}}}},
        namespaced=True,
    ),
    ("metallb.io/v1beta1", "BGPAdvertisement"): _crd(
        {"properties": {"ipAddressPools": {"type": "array", "items": {"type": "string"}}}},
        namespaced=True,
    ),
    ("metallb.io/v1beta2", "BGPPeer"): _crd(
        {
            "required": ["myASN", "peerASN", "peerAddress"],
            "properties": {
                "myASN": {"type": "integer"},
                "peerASN": {"type": "integer"},
                "peerAddress": {"type": "string"},
            },
        },
        namespaced=True,
    ),
    ("gateway.networking.k8s.io/v1", "GatewayClass"): _crd(
        {
            "required": ["controllerName"],
            "properties": {"controllerName": {"type": "string", "pattern": r"^[a-z0-9.-]+/\S+$"}},
        },
        namespaced=False,
    ),
    ("gateway.networking.k8s.io/v1", "Gateway"): _crd(
        {
            "required": ["gatewayClassName", "listeners"],
            "properties": {
                "gatewayClassName": {"type": "string"},
                "listeners": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name", "port", "protocol"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                            "protocol": {"enum": ["HTTP", "HTTPS", "TLS", "TCP", "UDP"]},
                            "allowedRoutes": {
                                "type": "object",
                                "properties": {
                                    "namespaces": {
                                        "type": "object",
                                        "properties": {
                                            "from": {"enum": ["All", "Same", "Selector"]}
                                        },
                                    }
                                },
                            },
                        },
                    },
                },
            },
        },
        namespaced=True,
    ),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): _crd(
        {
            "properties": {
                "parentRefs": {"type": "array", "minItems": 1, "items": _PARENT_REF},
                "hostnames": {"type": "array", "items": {"type": "string"}},
                "rules": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "matches": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "path": {
                                            "type": "object",
                                            "required": ["type", "value"],
                                            "properties": {
                                                "type": {
                                                    "enum": [
                                                        "Exact",
                                                        "PathPrefix",
                                                        "RegularExpression",
                                                    ]
                                                },
                                                "value": {"type": "string", "pattern": "^/"},
                                            },
                                        }
                                    },
                                },
                            },
                            "backendRefs": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["name", "port"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "port": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    },
                },
            }
        },
        namespaced=True,
    ),
}


def validate(obj: Obj, version: str) -> str:
    """'builtin' or 'crd' after validating `obj`; raises on an invalid object or unknown kind."""
    try:
        kubernetes_validate.validate(obj, version, strict=True)
        return "builtin"
    except kubernetes_validate.SchemaNotFoundError:
        key = (obj["apiVersion"], obj["kind"])
        if key not in CRD_SCHEMAS:
            raise AssertionError(f"no schema for custom resource {key}") from None
        jsonschema.validate(obj, CRD_SCHEMAS[key])
        return "crd"


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_validates(stack: str) -> None:
    plan, addons = render(stack)
    seen: set[tuple[str, str, str | None, str]] = set()
    # Upstream's objects Groundwork patches are held to the schema too.
    for obj in groundwork_objects(addons):
        validate(obj, plan.kubernetes_version)
        key = (
            obj["kind"],
            obj["apiVersion"],
            obj["metadata"].get("namespace"),
            obj["metadata"]["name"],
        )
        assert key not in seen, f"rendered twice: {key}"
        seen.add(key)


def test_validation_rejects_bad_objects() -> None:
    """The schema check above is real: wrong fields and unknown kinds fail."""
    plan, addons = render("prod")
    svc = json.loads(json.dumps(one(patched(addons.coredns), "Service", "kube-dns")))
    svc["spec"]["clusterIp"] = "10.96.0.10"  # wrong case: strict rejects the unknown field
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(svc, plan.kubernetes_version)
    install = json.loads(json.dumps(one(addons.cni.objects, "Installation")))
    install["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] = "GRE"
    with pytest.raises(jsonschema.ValidationError):
        validate(install, plan.kubernetes_version)
    with pytest.raises(AssertionError, match="no schema"):
        validate(
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "1.36.4"
        )


# --- per stack ------------------------------------------------------------------------


# The package, not the function `cni` that groundwork.manifests re-exports.
cni = importlib.import_module("groundwork.manifests.cni")


def test_every_plugin_has_its_manifests_module() -> None:
    assert set(cni.PLUGIN_MANIFESTS) == set(Plugin)


def test_a_plugin_without_manifests_is_an_error_not_another_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load_stack("dev")
    plan = build_plan(spec)
    without = {p: m for p, m in cni.PLUGIN_MANIFESTS.items() if p is not Plugin.FLANNEL}
    monkeypatch.setattr(cni, "PLUGIN_MANIFESTS", without)
    with pytest.raises(cni.MissingPluginManifests, match="network plugin flannel"):
        cni.cni(spec, plan)


def test_lab_bridge_renders_no_cni_objects() -> None:
    _, addons = render("lab")
    assert addons.cni.objects == [] and addons.cni.bundles == []
    assert addons.load_balancer.objects == []


def test_the_lab_gateway_is_traefik_on_node_ports_with_crds_from_a_pinned_module() -> None:
    _, addons = render("lab")
    (bundle,) = addons.gateway.bundles
    assert bundle.files is not None and bundle.files.component == "traefik"
    service = one(addons.gateway.objects, "Service", "traefik")
    assert service["spec"]["type"] == "NodePort"  # the lab has no load balancer provider
    args = one(addons.gateway.objects, "Deployment", "traefik")["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    # An air-gapped controller calls nobody.
    assert "--global.checkNewVersion=false" in args
    assert "--global.sendAnonymousUsage=false" in args
    route = one(addons.workloads.objects, "HTTPRoute", "echo")
    assert route["spec"]["hostnames"] == ["echo.lab.internal"]


def test_dev_flannel_vxlan_with_the_plan_mtu() -> None:
    plan, addons = render("dev")
    assert addons.cni.objects == []  # every flannel object is upstream's, patched
    (bundle,) = addons.cni.bundles
    assert bundle.files is not None and bundle.files.path == "Documentation/kube-flannel.yml"
    objects = patched(addons.cni)
    cm = one(objects, "ConfigMap", "kube-flannel-cfg")
    assert cm["metadata"]["namespace"] == "kube-flannel"
    net = json.loads(cm["data"]["net-conf.json"])
    assert net["Network"] == "10.244.0.0/16"
    assert net["SubnetLen"] == 24
    assert net["EnableNFTables"] is True
    assert net["Backend"] == {"Type": "vxlan"}
    cni = json.loads(cm["data"]["cni-conf.json"])
    assert cni["cniVersion"] == "0.3.1"  # what the CNI plugin built here speaks
    assert cni["plugins"][0]["delegate"]["mtu"] == plan.pod_mtu == 1450
    assert [p["type"] for p in cni["plugins"]] == ["flannel", "portmap"]
    ds = one(objects, "DaemonSet", "kube-flannel-ds")
    pod = ds["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["tolerations"] == [{"operator": "Exists"}]
    (flanneld,) = pod["containers"]
    assert "--kube-subnet-mgr" in flanneld["args"]
    assert flanneld["image"] == versions.FLANNEL.image("flannel")
    iface = {"name": "FLANNELD_IFACE", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}
    assert iface in flanneld["env"]
    images = {c["name"]: c["image"] for c in pod["initContainers"]}
    assert images == {
        "install-cni-plugin": versions.FLANNEL.image("cni-plugin"),
        "install-cni": versions.FLANNEL.image("flannel"),
    }
    # The selector of the clusters Groundwork installed before (immutable).
    assert ds["spec"]["selector"]["matchLabels"] == {"app": "kube-flannel-ds"}
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "groundwork"
    namespace = one(objects, "Namespace", "kube-flannel")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_prod_calico_bgp_without_encapsulation() -> None:
    plan, addons = render("prod")
    assert [b.name for b in addons.cni.bundles] == ["calico-crds", "tigera-operator"]
    assert all(versions.CALICO.version in b.url for b in addons.cni.bundles)
    net = one(addons.cni.objects, "Installation", "default")["spec"]["calicoNetwork"]
    assert net["bgp"] == "Enabled"
    assert net["mtu"] == plan.pod_mtu == 9000
    (pool,) = net["ipPools"]
    assert pool["cidr"] == "10.200.0.0/16"
    assert pool["encapsulation"] == "None"
    assert pool["blockSize"] == 24
    assert pool["natOutgoing"] == "Enabled"
    assert one(addons.cni.objects, "BGPConfiguration", "default")["spec"]["asNumber"] == 64512
    peers = {
        p["spec"]["peerIP"]: p["spec"]["asNumber"] for p in find(addons.cni.objects, "BGPPeer")
    }
    assert peers == {"10.30.0.1": 64500, "10.30.0.2": 64500}


@pytest.mark.parametrize(
    ("backend", "encapsulation", "bgp"),
    [
        ("vxlan", "VXLAN", "Disabled"),
        ("ipip", "IPIP", "Enabled"),
        ("vxlan-cross-subnet", "VXLANCrossSubnet", "Disabled"),
    ],
)
def test_calico_backends(backend: str, encapsulation: str, bgp: str) -> None:
    value = load_stack("prod").model_dump(by_alias=True, mode="json", exclude_none=True)
    value["network"]["backend"] = backend
    del value["network"]["bgp"]
    spec = parse_cluster(value)
    plan = build_plan(spec)
    addons = render_addons(spec, plan)
    net = one(addons.cni.objects, "Installation")["spec"]["calicoNetwork"]
    assert net["ipPools"][0]["encapsulation"] == encapsulation
    assert net["bgp"] == bgp
    assert net["mtu"] == plan.pod_mtu < 9000
    assert not find(addons.cni.objects, "BGPPeer")


@pytest.mark.parametrize(
    ("backend", "mode"), [("vxlan", "tunnel"), ("geneve", "tunnel"), ("native", "native")]
)
def test_cilium_routing_mode(backend: str, mode: str) -> None:
    value = load_stack("dev").model_dump(by_alias=True, mode="json", exclude_none=True)
    value["network"].update(plugin="cilium", backend=backend)
    value["kubernetes"]["kubeProxy"] = "none"
    spec = parse_cluster(value)
    plan = build_plan(spec)
    addons = render_addons(spec, plan)
    for obj in addons.cni.objects:
        validate(obj, plan.kubernetes_version)
    data = one(addons.cni.objects, "ConfigMap", "cilium-config")["data"]
    assert data["routing-mode"] == mode
    assert data["mtu"] == str(plan.pod_mtu)
    assert data["kube-proxy-replacement"] == "true"
    if mode == "native":
        assert data["ipv4-native-routing-cidr"] == "10.244.0.0/16" and "tunnel-protocol" not in data
    else:
        assert data["tunnel-protocol"] == backend
    agent = one(addons.cni.objects, "DaemonSet", "cilium")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {"name": "KUBERNETES_SERVICE_HOST", "value": "api.dev.example.internal"} in agent["env"]


@pytest.mark.parametrize(("backend", "overlay"), [("bgp", "false"), ("ipip", "true")])
def test_kube_router_overlay(backend: str, overlay: str) -> None:
    value = load_stack("dev").model_dump(by_alias=True, mode="json", exclude_none=True)
    value["network"].update(plugin="kube-router", backend=backend)
    spec = parse_cluster(value)
    plan = build_plan(spec)
    addons = render_addons(spec, plan)
    for obj in addons.cni.objects:
        validate(obj, plan.kubernetes_version)
    args = one(addons.cni.objects, "DaemonSet", "kube-router")["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    assert "--run-router=true" in args
    assert f"--enable-overlay={overlay}" in args
    assert ("--overlay-type=full" in args) == (overlay == "true")
    cm = one(addons.cni.objects, "ConfigMap", "kube-router-cfg")
    assert json.loads(cm["data"]["cni-conf.json"])["plugins"][0]["mtu"] == plan.pod_mtu


@pytest.mark.parametrize("stack", STACKS)
def test_exactly_one_default_storage_class(stack: str) -> None:
    _, addons = render(stack)
    classes = find(addons.storage.objects, "StorageClass")
    defaults = [
        c["metadata"]["name"]
        for c in classes
        if c["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    ]
    assert len(defaults) == 1
    for cls in classes:
        if cls["provisioner"] in ("rancher.io/local-path", "kubernetes.io/no-provisioner"):
            assert cls["volumeBindingMode"] == "WaitForFirstConsumer"


def test_prod_storage_classes() -> None:
    _, addons = render("prod")
    local = one(addons.storage.objects, "StorageClass", "local-path")
    assert local["provisioner"] == "rancher.io/local-path"
    assert local["volumeBindingMode"] == "WaitForFirstConsumer"
    assert local["reclaimPolicy"] == "Delete"
    shared = one(addons.storage.objects, "StorageClass", "shared")
    assert shared["provisioner"] == "nfs.csi.k8s.io"
    assert shared["volumeBindingMode"] == "Immediate"
    assert shared["reclaimPolicy"] == "Retain"
    assert shared["parameters"] == {"server": "nfs.prod.example.internal", "share": "/exports/k8s"}
    one(addons.storage.objects, "CSIDriver", "nfs.csi.k8s.io")
    one(addons.storage.objects, "DaemonSet", "csi-nfs-node")
    one(addons.storage.objects, "Deployment", "csi-nfs-controller")
    upstream = patched(addons.storage)
    data = one(upstream, "ConfigMap", "local-path-config")["data"]
    config = json.loads(data["config.json"])
    assert config["nodePathMap"][0]["paths"] == ["/var/lib/groundwork/local-path"]
    assert set(config["storageClassConfigs"]) == {"local-path"}
    helper = yaml.safe_load(data["helperPod.yaml"])
    assert helper["spec"]["containers"][0]["image"] == versions.LOCAL_PATH.image("helper")
    deployment = one(upstream, "Deployment", "local-path-provisioner")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == versions.LOCAL_PATH.image("provisioner")
    namespace = one(upstream, "Namespace", "local-path-storage")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    # Upstream's example class is left out: the stack's classes are Groundwork's.
    assert not find(upstream, "StorageClass")


def test_coredns_is_kubernetes_own_dns_addon_patched() -> None:
    _, addons = render("dev")
    (bundle,) = addons.coredns.bundles
    assert bundle.files is not None and bundle.files.module == "k8s.io/kubernetes"
    upstream = patched(addons.coredns)
    assert "__DNS__" not in json.dumps(upstream)  # every placeholder filled in
    deployment = one(upstream, "Deployment", "coredns")
    # The selector of the clusters Groundwork installed before (immutable).
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "k8s-app": "kube-dns",
        "app": "coredns",
    }
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == versions.COREDNS.image("coredns")
    assert container["resources"]["limits"] == {"memory": "170Mi"}
    # Groundwork's own object: the disruption budget.
    assert [o["kind"] for o in addons.coredns.objects] == ["PodDisruptionBudget"]


def test_static_local_volumes() -> None:
    value = load_stack("lab").model_dump(by_alias=True, mode="json", exclude_none=True)
    value["storage"]["classes"].append(
        {
            "name": "disks",
            "driver": "local-static",
            "reclaimPolicy": "Retain",
            "volumes": [{"node": "w1", "path": "/mnt/disk1", "capacity": "100Gi"}],
        }
    )
    spec = parse_cluster(value)
    plan = build_plan(spec)
    objs = render_addons(spec, plan).storage.objects
    cls = one(objs, "StorageClass", "disks")
    assert cls["provisioner"] == "kubernetes.io/no-provisioner"
    assert cls["volumeBindingMode"] == "WaitForFirstConsumer"
    (pv,) = find(objs, "PersistentVolume")
    validate(pv, plan.kubernetes_version)
    assert pv["spec"]["local"] == {"path": "/mnt/disk1"}
    assert pv["spec"]["storageClassName"] == "disks"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    term = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert term["values"] == ["w1"]


def test_prod_metallb_l2() -> None:
    _, addons = render("prod")
    lb = addons.load_balancer
    assert [b.name for b in lb.bundles] == ["metallb"]
    pool = one(lb.objects, "IPAddressPool", "public")
    assert pool["metadata"]["namespace"] == "metallb-system"
    assert pool["spec"]["addresses"] == ["10.30.0.200-10.30.0.250"]
    assert one(lb.objects, "L2Advertisement")["spec"]["ipAddressPools"] == ["public"]
    assert not find(lb.objects, "BGPAdvertisement")


def test_metallb_bgp_mode_peers() -> None:
    value = load_stack("prod").model_dump(by_alias=True, mode="json", exclude_none=True)
    value["loadBalancer"]["mode"] = "bgp"
    spec = parse_cluster(value)
    objs = render_addons(spec, build_plan(spec)).load_balancer.objects
    assert not find(objs, "L2Advertisement")
    one(objs, "BGPAdvertisement")
    peers = {p["spec"]["peerAddress"] for p in find(objs, "BGPPeer")}
    assert peers == {"10.30.0.1", "10.30.0.2"}
    for obj in objs:
        validate(obj, "1.36.4")


def test_dev_kube_vip_services_mode() -> None:
    _, addons = render("dev")
    ds = one(addons.load_balancer.objects, "DaemonSet", "kube-vip-ds")
    env = {
        e["name"]: e.get("value") for e in ds["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["svc_enable"] == "true" and env["cp_enable"] == "false"
    assert addons.load_balancer.bundles == []


def test_gateways() -> None:
    _, prod = render("prod")
    assert [b.name for b in prod.gateway.bundles] == ["envoy-gateway"]
    cls = one(prod.gateway.objects, "GatewayClass", "envoy-gateway")
    assert cls["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    gw = one(prod.gateway.objects, "Gateway", "groundwork")
    assert gw["metadata"]["namespace"] == "envoy-gateway-system"
    assert gw["spec"]["listeners"][0]["port"] == 80
    _, dev = render("dev")
    assert [b.name for b in dev.gateway.bundles] == ["gateway-api-crds"]
    assert versions.GATEWAY_API.version in dev.gateway.bundles[0].url
    cls = one(dev.gateway.objects, "GatewayClass", "traefik")
    assert cls["spec"]["controllerName"] == "traefik.io/gateway-controller"
    one(dev.gateway.objects, "Deployment", "traefik")
    assert (
        one(dev.gateway.objects, "Gateway", "groundwork")["spec"]["gatewayClassName"] == "traefik"
    )
    assert not find(dev.gateway.objects, "IngressClass")


def test_ingress_class_gives_ingress_objects() -> None:
    value = load_stack("dev").model_dump(by_alias=True, mode="json", exclude_none=True)
    value["gateway"]["ingressClass"] = "traefik"
    spec = parse_cluster(value)
    plan = build_plan(spec)
    addons = render_addons(spec, plan)
    assert (
        one(addons.gateway.objects, "IngressClass", "traefik")["spec"]["controller"]
        == "traefik.io/ingress-controller"
    )
    ingress = one(addons.workloads.objects, "Ingress", "web")
    validate(ingress, plan.kubernetes_version)
    assert ingress["spec"]["rules"][0]["host"] == "web.dev.example.internal"
    assert not find(addons.workloads.objects, "HTTPRoute")
    value["gateway"]["controller"] = "envoy-gateway"
    # Refused at validation, before anything is rendered or touched.
    with pytest.raises(SpecError, match=r"cluster\.gateway\.ingressClass: envoy-gateway"):
        parse_cluster(value)


@pytest.mark.parametrize("stack", STACKS)
def test_coredns_at_the_plan_dns_ip(stack: str) -> None:
    plan, addons = render(stack)
    upstream = patched(addons.coredns)
    svc = one(upstream, "Service", "kube-dns")
    assert svc["metadata"]["namespace"] == "kube-system"
    assert svc["spec"]["clusterIP"] == str(plan.network.cluster_dns_ip) == "10.96.0.10"
    assert one(upstream, "Deployment", "coredns")["spec"]["replicas"] == 2
    corefile = one(upstream, "ConfigMap", "coredns")["data"]["Corefile"]
    assert "kubernetes cluster.local in-addr.arpa ip6.arpa" in corefile


def test_a_drain_takes_one_pod_at_a_time_of_coredns_and_of_replicated_workloads() -> None:
    _, addons = render("lab")
    dns = one(addons.coredns.objects, "PodDisruptionBudget", "coredns")
    assert dns["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    echo = one(addons.workloads.objects, "PodDisruptionBudget", "echo")  # 2 replicas
    assert echo["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "echo"}}}
    # One replica: a budget would block every drain of its node.
    _, dev = render("dev")
    single = [w.name for w in load_stack("dev").workloads if w.replicas < 2]
    budgets = {b["metadata"]["name"] for b in find(dev.workloads.objects, "PodDisruptionBudget")}
    assert single and not budgets & set(single)


def test_a_workload_with_ports_gets_traffic_only_while_it_can_answer() -> None:
    _, addons = render("lab")
    echo = one(addons.workloads.objects, "StatefulSet", "echo")
    (container,) = echo["spec"]["template"]["spec"]["containers"]
    first_port = container["ports"][0]["name"]
    assert container["readinessProbe"]["tcpSocket"] == {"port": first_port}
    # Still serving while the endpoints drop it: a drain fails no request.
    assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    grace = echo["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    assert grace > 5


def test_prod_workloads() -> None:
    _, addons = render("prod")
    objs = addons.workloads.objects
    assert {n["metadata"]["name"] for n in find(objs, "Namespace")} == {"data", "web"}
    pg = one(objs, "StatefulSet", "postgres")
    assert pg["metadata"]["namespace"] == "data"
    assert pg["spec"]["replicas"] == 3
    (claim,) = pg["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "local-path"
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    container = pg["spec"]["template"]["spec"]["containers"][0]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]
    headless = one(objs, "Service", "postgres")
    assert headless["spec"]["clusterIP"] == "None"
    assert pg["spec"]["serviceName"] == "postgres"
    assert not find(objs, "HTTPRoute", "postgres")
    route = one(objs, "HTTPRoute", "uploads")
    assert route["metadata"]["namespace"] == "web"
    assert route["spec"]["hostnames"] == ["uploads.example.com"]
    assert route["spec"]["parentRefs"] == [
        {"name": "groundwork", "namespace": "envoy-gateway-system"}
    ]
    backend = route["spec"]["rules"][0]["backendRefs"][0]
    svc = one(objs, "Service", backend["name"])
    assert svc["metadata"]["namespace"] == "web"
    assert (
        svc["spec"]["type"] == "ClusterIP"
        and svc["spec"]["ports"][0]["port"] == backend["port"] == 8080
    )


def test_dev_exposed_workload_routes_through_traefik() -> None:
    _, addons = render("dev")
    route = one(addons.workloads.objects, "HTTPRoute", "web")
    assert route["spec"]["parentRefs"] == [{"name": "groundwork", "namespace": "traefik"}]
    assert route["spec"]["rules"][0]["matches"][0]["path"] == {"type": "PathPrefix", "value": "/"}
    assert not find(addons.workloads.objects, "Namespace")


def test_every_image_comes_from_the_version_table() -> None:
    pinned = {ref for addon in versions.ALL for ref in addon.images.values()}
    for stack in STACKS:
        spec = load_stack(stack)
        _, addons = render(stack)
        own = {w.image for w in spec.workloads}
        for obj in groundwork_objects(addons):
            pod = obj.get("spec", {}).get("template", {}).get("spec", {})
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                assert c["image"] in pinned | own, c["image"]
        for layer in addons.layers():
            for bundle in layer.bundles:
                assert bundle.version in bundle.url


def test_admin_kubeconfig() -> None:
    import base64

    text = admin_kubeconfig("dev", "https://api.dev.example.internal:6443", "CA", "CERT", "KEY")
    config = yaml.safe_load(text)
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://api.dev.example.internal:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"CA"
    user = config["users"][0]["user"]
    assert base64.b64decode(user["client-key-data"]) == b"KEY"
    assert config["current-context"] == config["contexts"][0]["name"]


def test_a_workload_starts_and_stops_in_order_and_updates_from_its_partition_up() -> None:
    _, addons = render("lab")
    echo = one(addons.workloads.objects, "StatefulSet", "echo")
    assert echo["spec"]["podManagementPolicy"] == "OrderedReady"
    assert echo["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }
    value = yaml.safe_load((ROOT / "stacks" / "Pulumi.lab.yaml").read_text())
    cluster = value["config"]["groundwork:cluster"]
    cluster["workloads"][0]["rollingUpdate"] = {"partition": 1}
    cluster["workloads"][0]["podManagementPolicy"] = "Parallel"
    spec = parse_cluster(cluster)
    canary = one(render_addons(spec, build_plan(spec)).workloads.objects, "StatefulSet", "echo")
    assert canary["spec"]["updateStrategy"]["rollingUpdate"] == {"partition": 1}
    assert canary["spec"]["podManagementPolicy"] == "Parallel"

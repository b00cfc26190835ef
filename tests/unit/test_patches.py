"""Groundwork's patches to upstream's objects (groundwork.manifests.patches),
and the bundles that carry them (groundwork.build.manifests)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from groundwork.build import manifests as build_manifests
from groundwork.build.manifests import bundle_objects
from groundwork.build.recipes import BY_COMPONENT, required_version
from groundwork.build.run import BuildError
from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles, Patches
from groundwork.manifests.common import Obj
from groundwork.manifests.patches import PatchError, apply_patches, merge
from groundwork.manifests.storage import storage_bundles
from groundwork.spec import load_stack

DAEMONSET: Obj = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "system", "labels": {"app": "agent"}},
    "spec": {
        "template": {
            "spec": {
                "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                "containers": [
                    {
                        "name": "agent",
                        "image": "upstream/agent:v1",
                        "args": ["--a", "--b"],
                        "env": [{"name": "A", "value": "1"}],
                    },
                    {"name": "sidecar", "image": "upstream/sidecar:v1"},
                ],
            }
        }
    },
}
CONFIG: Obj = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "system"},
    "data": {
        "conf.json": '{"name": "net", "plugins": [{"type": "a", "x": 1}, {"type": "b"}]}',
        "pod.yaml": "spec:\n  containers:\n  - name: helper\n    image: busybox\n",
        "plain": "__DOMAIN__ is the domain",
    },
}
CLASS: Obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "x"}}


def _target(obj: Obj, **fields: Any) -> Obj:
    meta = {k: v for k, v in obj["metadata"].items() if k in ("name", "namespace")}
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta, **fields}


def test_named_items_merge_by_name_and_other_lists_are_replaced() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [
                        {
                            "name": "agent",
                            "image": "lab/agent:v1",
                            "env": [{"name": "B", "value": "2"}],
                        }
                    ],
                }
            }
        }
    }
    out = merge(DAEMONSET, patch)
    pod = out["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"operator": "Exists"}]
    agent, sidecar = pod["containers"]
    assert agent["image"] == "lab/agent:v1"
    assert agent["args"] == ["--a", "--b"]  # upstream's, untouched
    assert agent["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert sidecar == {"name": "sidecar", "image": "upstream/sidecar:v1"}
    assert DAEMONSET["spec"]["template"]["spec"]["containers"][0]["image"] == "upstream/agent:v1"


def test_a_null_removes_a_key() -> None:
    assert merge({"a": 1, "b": 2}, {"b": None}) == {"a": 1}


def test_a_mapping_onto_a_string_merges_into_the_document_it_holds() -> None:
    patch = {
        "data": {
            "conf.json": {"cniVersion": "0.3.1", "plugins": [{"type": "a", "mtu": 1450}]},
            "pod.yaml": {"spec": {"containers": [{"name": "helper", "image": "lab/busybox"}]}},
        }
    }
    data = merge(CONFIG, patch)["data"]
    assert json.loads(data["conf.json"]) == {
        "name": "net",
        "plugins": [{"type": "a", "x": 1, "mtu": 1450}, {"type": "b"}],
        "cniVersion": "0.3.1",
    }
    assert yaml.safe_load(data["pod.yaml"]) == {
        "spec": {"containers": [{"name": "helper", "image": "lab/busybox"}]}
    }


def test_apply_fills_placeholders_patches_drops_and_labels() -> None:
    documents = (
        _target(
            DAEMONSET,
            spec={"template": {"spec": {"containers": [{"name": "agent", "image": "lab"}]}}},
        ),
        {**_target(CLASS), "$patch": "delete"},
    )
    out = apply_patches(
        [DAEMONSET, CONFIG, CLASS],
        documents,
        {"app.kubernetes.io/managed-by": "groundwork"},
        {"__DOMAIN__": "cluster.local"},
        "upstream.yaml",
    )
    assert [o["kind"] for o in out] == ["DaemonSet", "ConfigMap"]
    assert out[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "lab"
    assert out[0]["metadata"]["labels"] == {
        "app": "agent",
        "app.kubernetes.io/managed-by": "groundwork",
    }
    assert out[1]["data"]["plain"] == "cluster.local is the domain"


def test_a_patch_of_an_object_upstream_does_not_hold_is_an_error() -> None:
    renamed = _target(DAEMONSET)
    renamed["metadata"]["name"] = "agent-ds"
    with pytest.raises(PatchError, match=r"DaemonSet agent-ds, which upstream\.yaml does not hold"):
        apply_patches([DAEMONSET], (renamed,), {}, {}, "upstream.yaml")
    moved = _target(DAEMONSET, apiVersion="apps/v1beta2")
    with pytest.raises(PatchError, match="does not hold"):
        apply_patches([DAEMONSET], (moved,), {}, {}, "upstream.yaml")


def test_a_placeholder_upstream_no_longer_has_is_an_error() -> None:
    with pytest.raises(PatchError, match="no placeholder __SERVER__"):
        apply_patches([CONFIG], (), {}, {"__SERVER__": "10.96.0.10"}, "upstream.yaml")


def test_patches_need_the_pinned_files() -> None:
    with pytest.raises(ValueError, match="patches need the pinned module's files"):
        Bundle("x", "https://example.com/x.yaml", "v1", patches=Patches("t", ()))


def test_a_module_missing_from_the_cache_names_the_component_to_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def offline(*_: object) -> None:
        raise BuildError("go mod failed: dial tcp: lookup proxy.golang.org: no such host")

    monkeypatch.setattr(build_manifests, "module_info", offline)
    (bundle,) = storage_bundles(load_stack("lab"))
    with pytest.raises(BuildError) as err:
        bundle_objects(bundle)
    message = str(err.value)
    assert "components/local-path-provisioner" in message
    assert "go mod download github.com/rancher/local-path-provisioner" in message
    assert "no such host" in message  # Go's own reason


def test_a_patch_upstream_does_not_fit_names_the_bundle_and_template() -> None:
    (bundle,) = storage_bundles(load_stack("lab"))
    assert bundle.patches is not None
    stale = Patches(
        bundle.patches.template,
        (
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "gone", "namespace": "x"},
            },
        ),
    )
    wrong = Bundle(bundle.name, bundle.url, bundle.version, bundle.files, stale)
    with pytest.raises(
        BuildError, match=r"bundle local-path-provisioner, templates/addons/storage/"
    ):
        bundle_objects(wrong)


def test_the_module_files_exist_where_the_bundles_say() -> None:
    (bundle,) = storage_bundles(load_stack("lab"))
    assert bundle.files == ModuleFiles(
        "local-path-provisioner",
        "github.com/rancher/local-path-provisioner",
        "deploy/local-path-storage.yaml",
    )
    assert {o["kind"] for o in bundle_objects(bundle)} >= {"Deployment", "ConfigMap", "Namespace"}


@pytest.mark.parametrize(
    ("addon", "component", "module"),
    [
        (versions.FLANNEL, "flannel", "github.com/flannel-io/flannel"),
        (
            versions.LOCAL_PATH,
            "local-path-provisioner",
            "github.com/rancher/local-path-provisioner",
        ),
        (versions.KUBERNETES_DNS, "kubernetes", "k8s.io/kubernetes"),
    ],
)
def test_patched_bundles_are_the_versions_their_components_pin(
    addon: versions.Addon, component: str, module: str
) -> None:
    """Caught here from go.mod alone, before a door reads the module."""
    go_mod = (BY_COMPONENT[component].directory / "go.mod").read_text()
    assert required_version(go_mod, module) == addon.version
    assert all(addon.version in url for url in addon.bundles.values())

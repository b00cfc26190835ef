"""The Kubernetes objects Groundwork renders stay byte for byte what they were.

Each case renders every addon layer of one stack (the checked-in stacks, and
the lab stack with each plugin and backend it can take) and compares them,
as canonical YAML (keys sorted, no anchors: what the API server stores does
not depend on either), with the case's file in golden/addons/. A layer's
patched bundles (upstream's install files with Groundwork's patches, read
from the pinned modules in Go's module cache) are there too: their objects
are Groundwork's doing. A change meant to alter what a cluster
receives rewrites them (`python tests/unit/test_addon_golden.py --write`)
and names the change; a change that did not mean to fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork.build.manifests import bundle_objects
from groundwork.manifests import AddonSet, render_addons
from groundwork.plan import build_plan
from groundwork.spec import SpecError, load_stack, parse_cluster
from groundwork.spec.load import stack_path
from groundwork.spec.model import PLUGIN_BACKENDS

GOLDEN = Path(__file__).resolve().parent / "golden" / "addons"
ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def _lab_with(plugin: str, backend: str) -> dict[str, Any]:
    doc = yaml.safe_load(stack_path("lab").read_text())["config"]["groundwork:cluster"]
    doc["network"]["plugin"] = plugin
    doc["network"]["backend"] = backend
    return dict(doc)


def _variants() -> dict[str, dict[str, Any]]:
    return {
        f"lab-{plugin}-{backend}": _lab_with(plugin, backend)
        for plugin, backends in PLUGIN_BACKENDS.items()
        for backend in backends
    }


class _Canonical(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _addons(case: str) -> AddonSet:
    spec = load_stack(case) if case in STACKS else parse_cluster(_variants()[case])
    return render_addons(spec, build_plan(spec))


def rendered(case: str) -> str:
    """The case's layers as canonical YAML, with their bundles: every
    layer of a stack, the pod network's layer of a lab variant (its others are
    the lab's). A patched bundle's objects come before the layer's own, in
    install order."""
    out: list[str] = []
    for layer in _addons(case).layers():
        if case not in STACKS and layer.name != "cni":
            continue
        bundles = [(b.name, b.url, b.version) for b in layer.bundles]
        out.append(f"# layer {layer.name}, bundles {bundles}\n")
        patched = [(b, b.patches) for b in layer.bundles if b.patches is not None]
        for bundle, patches in patched:
            out.append(f"# bundle {bundle.name}, patched by templates/{patches.template}\n")
            out.append(yaml.dump_all(bundle_objects(bundle), Dumper=_Canonical, sort_keys=True))
        if patched:
            out.append(f"# layer {layer.name}, its own objects\n")
        out.append(yaml.dump_all(layer.objects, Dumper=_Canonical, sort_keys=True))
    return "".join(out)


def cases() -> list[str]:
    valid = []
    for case in [*STACKS, *_variants()]:
        try:
            _addons(case)
        except SpecError:
            continue  # a plugin/backend pair the lab's nodes or kernel refuse
        valid.append(case)
    return valid


@pytest.mark.parametrize("case", cases())
def test_rendered_objects_are_byte_for_byte_the_golden_ones(case: str) -> None:
    golden = GOLDEN / f"{case}.yaml"
    assert golden.is_file(), f"no golden file for {case}: run this module with --write"
    assert rendered(case) == golden.read_text(), (
        f"{case}: the rendered objects changed; if meant, rewrite with "
        "`python tests/unit/test_addon_golden.py --write` and name the change"
    )


def test_every_plugin_has_a_golden_case() -> None:
    names = " ".join(cases())
    for plugin in PLUGIN_BACKENDS:
        assert f"lab-{plugin}-" in names, f"no valid golden case renders {plugin}"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for stale in GOLDEN.glob("*.yaml"):
        stale.unlink()
    for case in cases():
        (GOLDEN / f"{case}.yaml").write_text(rendered(case))
        print(f"wrote {case}")

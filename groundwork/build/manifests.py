"""Upstream manifests read from the files of a pinned Go module.

Some upstream objects ship as YAML files inside a Go module the lab already
pins (the Gateway API CRDs in sigs.k8s.io/gateway-api, which Traefik is built
against). Reading them from the module cache, at the version a component's
go.sum checks, installs exactly upstream's objects with nothing copied into
this repository and nothing fetched by URL at install time.

A bundle with `patches` (flannel, the local-path provisioner, CoreDNS) gets
Groundwork's changes applied here, as the objects are read: both front
doors, the golden files and the schema checks see the same patched objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groundwork import yamlio
from groundwork.build.recipes import BY_COMPONENT, ModuleInfo, Recipe
from groundwork.build.run import BuildError, go_env, module_info
from groundwork.manifests import AddonSet
from groundwork.manifests.bundles import Bundle, ModuleFiles
from groundwork.manifests.patches import PatchError, apply_patches


def listed_files(kustomization: Path) -> list[Path]:
    """The files a kustomization.yaml lists under `resources`, in its order."""
    document = yamlio.load(kustomization.read_text()) or {}
    return [kustomization.parent / str(name) for name in document.get("resources", [])]


def read_objects(paths: list[Path]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in paths:
        objects += [doc for doc in yamlio.load_all(path.read_text()) if doc]
    return objects


def _pinned_module(recipe: Recipe, files: ModuleFiles, bundle: str) -> ModuleInfo:
    """The module in Go's module cache (downloaded through the proxy if it
    is not there yet); the error names the component that pins it."""
    try:
        return module_info(recipe, go_env(), files.module)
    except (BuildError, OSError) as err:
        raise BuildError(
            f"bundle {bundle}: its objects are {files.path} of {files.module}, read from Go's "
            f"module cache at the version components/{recipe.component}/go.sum pins, which "
            f"is not there: run `go mod download {files.module}` in "
            f"components/{recipe.component} where the Go module proxy is reachable "
            f"(`groundwork build {recipe.component}` does too)\n{err}"
        ) from None


def bundle_objects(bundle: Bundle) -> list[dict[str, Any]]:
    """The bundle's objects from its pinned module, with Groundwork's patches;
    refused when the module is not pinned at the bundle's version."""
    files: ModuleFiles | None = bundle.files
    if files is None:
        raise BuildError(f"bundle {bundle.name} is a URL only ({bundle.url}): no pinned files")
    recipe = BY_COMPONENT[files.component]
    info = _pinned_module(recipe, files, bundle.name)
    if info.version != bundle.version:
        raise BuildError(
            f"bundle {bundle.name} is {bundle.version}, but components/{recipe.component}/go.mod "
            f"pins {files.module} {info.version}: make them agree"
        )
    path = info.dir / files.path
    objects = read_objects(listed_files(path) if path.name == "kustomization.yaml" else [path])
    patches = bundle.patches
    if patches is None:
        return objects
    source = f"{files.module}@{info.version} {files.path}"
    try:
        return apply_patches(
            objects, patches.documents, patches.labels, patches.placeholders, source
        )
    except PatchError as err:
        raise BuildError(f"bundle {bundle.name}, templates/{patches.template}: {err}") from None


def groundwork_objects(addons: AddonSet) -> Iterator[dict[str, Any]]:
    """Every object Groundwork renders or patches, in install order: each
    layer's patched bundles' objects, then its own. Upstream's unpatched
    release files (CRDs, operators) are not Groundwork's doing and are left out."""
    for layer in addons.layers():
        for bundle in layer.bundles:
            if bundle.patches is not None:
                yield from bundle_objects(bundle)
        yield from layer.objects

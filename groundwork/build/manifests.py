"""Upstream manifests read from the files of a pinned Go module.

Some upstream objects ship as YAML files inside a Go module the lab already
pins (the Gateway API CRDs in sigs.k8s.io/gateway-api, which Traefik is built
against). Reading them from the module cache, at the version a component's
go.sum checks, installs exactly upstream's objects with nothing copied into
this repository and nothing fetched by URL at install time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from groundwork.build.recipes import BY_COMPONENT
from groundwork.build.run import BuildError, go_env, module_info
from groundwork.manifests.bundles import Bundle, ModuleFiles


def listed_files(kustomization: Path) -> list[Path]:
    """The files a kustomization.yaml lists under `resources`, in its order."""
    document = yaml.safe_load(kustomization.read_text()) or {}
    return [kustomization.parent / str(name) for name in document.get("resources", [])]


def read_objects(paths: list[Path]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in paths:
        objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return objects


def bundle_objects(bundle: Bundle) -> list[dict[str, Any]]:
    """The bundle's objects from its pinned module; refused when the module
    is not pinned at the bundle's version."""
    files: ModuleFiles | None = bundle.files
    if files is None:
        raise BuildError(f"bundle {bundle.name} is a URL only ({bundle.url}): no pinned files")
    recipe = BY_COMPONENT[files.component]
    info = module_info(recipe, go_env(), files.module)
    if info.version != bundle.version:
        raise BuildError(
            f"bundle {bundle.name} is {bundle.version}, but components/{recipe.component}/go.mod "
            f"pins {files.module} {info.version}: make them agree"
        )
    path = info.dir / files.path
    return read_objects(listed_files(path) if path.name == "kustomization.yaml" else [path])

"""Groundwork's changes to upstream's objects, as strategic-merge patches (pure).

Where upstream ships an addon's objects in the module Groundwork pins (a
`Bundle` with `files`), Groundwork does not copy them: it patches only what
it derives from the stack (images, the pod network's settings, node
directories, labels). A patch document names its upstream object the way
kustomize's strategic-merge patches do (apiVersion, kind, metadata.name and
namespace) and holds only the fields Groundwork sets:

- a mapping merges key by key; a null removes the key;
- a list of the fields in MERGE_KEYS (containers, env, volumes, a CNI
  chain's plugins) merges item by item on that key, a new item appended;
- a mapping patched onto a string merges into the document the string holds
  (a ConfigMap's JSON or YAML file), written back in the same format;
- any other value replaces upstream's;
- `$patch: delete` leaves the object out.

A patch that names no upstream object is an error, never a no-op: a new
upstream release that renames an object must fail here, not lose the patch.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import yaml

from groundwork.manifests.common import Obj

# The lists Groundwork patches item by item, and the field naming an item
# (Kubernetes' own patch merge keys; `plugins` is a CNI conflist's chain).
MERGE_KEYS: Mapping[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "plugins": "type",
}


class PatchError(ValueError):
    """A patch that does not fit upstream's objects (the message names both)."""


def merge(base: Any, patch: Any, key: str = "") -> Any:
    """`patch` merged into `base` (a new value; neither is changed)."""
    if isinstance(patch, Mapping) and isinstance(base, Mapping):
        out = dict(base)
        for name, value in patch.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = merge(out[name], value, name) if name in out else copy.deepcopy(value)
        return out
    if isinstance(patch, list) and isinstance(base, list) and key in MERGE_KEYS:
        return _merge_items(base, patch, MERGE_KEYS[key], key)
    if isinstance(patch, (Mapping, list)) and isinstance(base, str):
        return _merge_document(base, patch, key)
    return copy.deepcopy(patch)


def _merge_items(base: list[Any], patch: list[Any], field: str, key: str) -> list[Any]:
    out = list(base)
    for item in patch:
        if not isinstance(item, Mapping) or field not in item:
            raise PatchError(f"{key}: each patched item needs its {field}")
        at = [
            i
            for i, old in enumerate(out)
            if isinstance(old, Mapping) and old.get(field) == item[field]
        ]
        if at:
            out[at[0]] = merge(out[at[0]], item, key)
        else:
            out.append(copy.deepcopy(item))
    return out


def _merge_document(text: str, patch: Any, key: str) -> str:
    """A file a ConfigMap holds: JSON when its name says so, else YAML."""
    if key.endswith(".json"):
        return json.dumps(merge(json.loads(text), patch), indent=2) + "\n"
    return yaml.safe_dump(merge(yaml.safe_load(text), patch), sort_keys=False)


def _identity(obj: Obj) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion")),
        str(obj.get("kind")),
        str(meta.get("namespace", "")),
        str(meta.get("name")),
    )


def _substitute(value: Any, placeholders: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, text in placeholders.items():
            value = value.replace(placeholder, text)
        return value
    if isinstance(value, Mapping):
        return {k: _substitute(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, placeholders) for v in value]
    return value


def apply_patches(
    objects: list[Obj],
    documents: tuple[Obj, ...],
    labels: Mapping[str, str],
    placeholders: Mapping[str, str],
    source: str,
) -> list[Obj]:
    """Upstream's objects (from `source`) with their placeholders filled in,
    each patch document merged into the object it names, and `labels` on
    every object; in upstream's order."""
    text = json.dumps(objects, default=str)
    unused = [p for p in placeholders if p not in text]
    if unused:
        raise PatchError(f"{source} has no placeholder {unused[0]}: upstream changed it")
    out: list[Obj | None] = [_substitute(obj, placeholders) for obj in objects]
    index = {_identity(obj): i for i, obj in enumerate(objects)}
    for doc in documents:
        at = index.get(_identity(doc))
        if at is None or out[at] is None:
            kind, name = doc.get("kind"), (doc.get("metadata") or {}).get("name")
            raise PatchError(
                f"a patch names {doc.get('apiVersion')} {kind} {name}, which {source} "
                "does not hold (upstream renamed or removed it): update the patch"
            )
        body = dict(doc)
        directive = body.pop("$patch", None)
        if directive == "delete":
            out[at] = None
        elif directive is None:
            out[at] = merge(out[at], body)
        else:
            raise PatchError(f"$patch: {directive} is not a patch Groundwork knows (only delete)")
    kept = [obj for obj in out if obj is not None]
    if not labels:
        return kept
    return [merge(obj, {"metadata": {"labels": dict(labels)}}) for obj in kept]

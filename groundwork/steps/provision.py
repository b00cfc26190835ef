"""The provision step: lab (if any) -> PKI -> inventory -> roles, as one function.

Both front doors call `provision`; `prepare` is the part before any node is
touched (it is also what `verify` and the tests need to find the files).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from groundwork import versions
from groundwork.inventory import (
    InventoryError,
    KubeArtifacts,
    connection_for,
    inventory_dir,
    kube_offer,
    mirror_index,
    release_sha256,
    render_inventory,
    write_inventory,
)
from groundwork.inventory.render import artifact_mirror
from groundwork.paths import state_dir
from groundwork.pki import ensure_pki, pki_dir
from groundwork.plan import ClusterPlan, build_plan
from groundwork.plan.kube_binaries import missing_message
from groundwork.runner import RunOptions, RunSummary, run_playbook
from groundwork.spec import ClusterSpec

Progress = Callable[[str], None]
KUBERNETES_PLAYBOOK = "kubernetes.yml"

__all__ = ["InventoryError", "Prepared", "prepare", "provision"]


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class Prepared:
    plan: ClusterPlan
    pki_dir: Path
    inventory: Path
    pki_changed: tuple[str, ...]
    inventory_written: tuple[str, ...]
    # Kubernetes binaries without a sha256 (not offered by the mirror, not
    # pinned): the Kubernetes layer (playbooks/kubernetes.yml) cannot run.
    kube_missing: tuple[str, ...]


def prepare(spec: ClusterSpec, progress: Progress = _quiet) -> Prepared:
    """PKI and inventory on the controller; touches no node. Byte-stable on re-runs."""
    plan = build_plan(spec)
    directory = pki_dir(spec.name)
    ensured = ensure_pki(directory, plan.certificates)
    changed = tuple(ensured.changed)
    if changed:
        progress(f"pki: {len(changed)} change(s) under {directory}")
    etcd = versions.artifact("etcd", plan.etcd.version)
    sha256 = release_sha256(etcd, artifact_mirror(spec))
    mirror = artifact_mirror(spec)
    kube = (
        KubeArtifacts(*kube_offer(spec, mirror_index(mirror))) if mirror else KubeArtifacts({}, {})
    )
    rendered = render_inventory(
        spec, plan, connection_for(spec), pki_dir=directory, etcd_sha256=sha256, kube=kube
    )
    target = inventory_dir(spec.name)
    written = tuple(write_inventory(target, rendered))
    if written:
        progress(f"inventory: wrote {', '.join(written)} in {target}")
    binaries = rendered.group_vars["gw_kube_binaries"]
    missing = tuple(name for name, entry in binaries.items() if not entry["sha256"])
    return Prepared(plan, directory, target, changed, written, missing)


def provision(
    spec: ClusterSpec,
    *,
    lab_up: bool = True,
    console: Console | None = None,
    live: bool = True,
    progress: Progress = _quiet,
    playbook: str = "site.yml",
    kubernetes: bool = True,
) -> RunSummary:
    """Make the nodes match the stack: lab up (lab stacks), PKI, inventory, site.yml,
    then the Kubernetes layer (kubernetes.yml) when its binaries are available."""
    if spec.lab is not None and lab_up:
        from groundwork import lab

        progress("lab: making sure the machines are up")
        state = lab.up(spec, progress=progress)
        if not state.up:
            raise lab.LabError("the lab is not healthy: run `groundwork lab status`")
    prepared = prepare(spec, progress)
    options = RunOptions(host_count=len(spec.nodes), live=live)
    summary = run_playbook(
        state_dir(spec.name), prepared.inventory, playbook, options, console=console
    )
    if not summary.ok or not kubernetes:
        return summary
    if prepared.kube_missing:
        message = missing_message(list(prepared.kube_missing), spec.kubernetes.version)
        return dataclasses.replace(summary, not_installed=message)
    kube = run_playbook(
        state_dir(spec.name), prepared.inventory, KUBERNETES_PLAYBOOK, options, console=console
    )
    return summary.combine(kube)

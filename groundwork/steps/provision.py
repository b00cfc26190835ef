"""The provision step: lab (if any) -> PKI -> inventory -> roles, as one function.

Both front doors call `provision`; `prepare` is the part before any node is
touched (it is also what `verify` and the tests need to find the files).
When the stack adds or removes nodes of a cluster already applied,
`provision` refuses a change that would risk etcd's quorum before touching
anything, takes the removed nodes out and adds new etcd members one at a
time before site.yml (groundwork.steps.scale); a fresh cluster costs nothing
more than reading one small file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
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
from groundwork.inventory.render import RenderedInventory, artifact_mirror
from groundwork.paths import state_dir
from groundwork.pki import ensure_pki, pki_dir
from groundwork.plan import ClusterPlan, build_plan
from groundwork.plan.kube_binaries import missing_message
from groundwork.plan.membership import MembershipPlan, applied_after, plan_membership
from groundwork.progress import Progress, silent
from groundwork.runner import RunOptions, RunSummary, run_playbook
from groundwork.spec import ClusterSpec
from groundwork.steps import scale
from groundwork.steps.scale import RecordError, ScaleRefused

SITE_PLAYBOOK = "site.yml"
KUBERNETES_PLAYBOOK = "kubernetes.yml"

__all__ = [
    "InventoryError",
    "Prepared",
    "RecordError",
    "ScaleRefused",
    "membership",
    "prepare",
    "provision",
]


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
    membership: MembershipPlan
    # The inventory of the declared nodes plus the ones being removed (empty
    # when none is): what the removal playbooks run against.
    removal: RenderedInventory | None = None


def membership(
    spec: ClusterSpec, plan: ClusterPlan | None = None, replacing: Sequence[str] = ()
) -> MembershipPlan:
    """The applied record (<state dir>/<stack>/applied.json) against the stack (reads one file)."""
    plan = plan or build_plan(spec)
    return plan_membership(scale.read_applied(spec.name), spec, plan.etcd, replacing)


def prepare(
    spec: ClusterSpec, progress: Progress = silent, members: MembershipPlan | None = None
) -> Prepared:
    """PKI and inventory on the controller; touches no node. Byte-stable on re-runs.

    Each etcd member's first-start settings come from the membership plan
    (`members`, else read from the applied record).
    """
    plan = build_plan(spec)
    if members is None:
        members = membership(spec, plan)
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
        spec,
        plan,
        connection_for(spec),
        pki_dir=directory,
        etcd_sha256=sha256,
        kube=kube,
        etcd_bootstrap=members.bootstrap,
    )
    target = inventory_dir(spec.name)
    written = tuple(write_inventory(target, rendered))
    if written:
        progress(f"inventory: wrote {', '.join(written)} in {target}")
    binaries = rendered.group_vars["gw_kube_binaries"]
    missing = tuple(name for name, entry in binaries.items() if not entry["sha256"])
    removal = None
    if members.removed:
        wider = scale.with_removed(spec, members)
        removal = render_inventory(
            wider,
            build_plan(wider),
            connection_for(wider),
            pki_dir=directory,
            etcd_sha256=sha256,
            kube=kube,
            etcd_bootstrap=scale.removal_bootstrap(members),
        )
    return Prepared(plan, directory, target, changed, written, missing, members, removal)


def provision(
    spec: ClusterSpec,
    *,
    lab_up: bool = True,
    console: Console | None = None,
    live: bool = True,
    progress: Progress = silent,
    playbook: str = SITE_PLAYBOOK,
    kubernetes: bool = True,
    replace_members: Sequence[str] = (),
) -> RunSummary:
    """Make the nodes match the stack: refuse a risky membership change, lab up
    (lab stacks), PKI, inventory, removals, etcd joins or replacements
    (`replace_members`: members whose machine lost its etcd data), site.yml,
    then the Kubernetes layer (kubernetes.yml) when its binaries are available.

    Raises ScaleRefused (nothing touched) for a change that would risk etcd.
    """
    plan = build_plan(spec)
    members = membership(spec, plan, replace_members)
    if members.problems:
        raise ScaleRefused(members.problems)
    for line in members.describe():
        progress(f"scale: {line}")
    if spec.lab is not None and lab_up:
        from groundwork import lab

        progress("lab: making sure the machines are up")
        # The removed nodes' machines stay until they are reset.
        # The pre-flight play asks every node over SSH next: an unchanged
        # lab is not asked twice.
        state = lab.up(scale.with_removed(spec, members), progress=progress, check_nodes=False)
        if not state.up:
            raise lab.LabError("the lab is not healthy: run `groundwork lab status`")
    prepared = prepare(spec, progress, members)
    options = RunOptions(host_count=len(spec.nodes), live=live)
    steps: list[RunSummary] = []
    if prepared.removal is not None:
        steps.append(scale.remove_nodes(spec, members, prepared.removal, options, console))
    if members.replacing:
        steps.append(scale.replace_members(spec, members, prepared.inventory, options, console))
    elif members.joining and all(s.ok for s in steps):
        steps.append(scale.join_members(spec, members, prepared.inventory, options, console))
    if not all(s.ok for s in steps):
        return _combined(steps)
    steps.append(
        run_playbook(state_dir(spec.name), prepared.inventory, playbook, options, console=console)
    )
    summary = _combined(steps)
    if not summary.ok:
        return summary
    if playbook == SITE_PLAYBOOK:
        # Every declared node now runs what site.yml installs: the next run
        # diffs against this membership.
        scale.write_applied(spec.name, applied_after(spec, plan.etcd, members.bootstrap))
    if not kubernetes:
        return summary
    if prepared.kube_missing:
        message = missing_message(list(prepared.kube_missing), spec.kubernetes.version)
        return dataclasses.replace(summary, not_installed=message)
    kube = run_playbook(
        state_dir(spec.name), prepared.inventory, KUBERNETES_PLAYBOOK, options, console=console
    )
    return summary.combine(kube)


def _combined(summaries: list[RunSummary]) -> RunSummary:
    out = summaries[0]
    for later in summaries[1:]:
        out = out.combine(later)
    return out

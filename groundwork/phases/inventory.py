"""Render the Ansible inventory (inventories/<stack>/) from the spec and plan;
byte-stable on re-runs. With nodes being removed, also the inventory the
removal playbooks run against (the declared nodes plus the leaving ones)."""

from __future__ import annotations

import shutil
from pathlib import Path

from groundwork.inventory import (
    KubeArtifacts,
    connection_for,
    inventory_dir,
    kube_offer,
    mirror_index,
    render_inventory,
    substrate_sha256,
    write_inventory,
)
from groundwork.inventory.render import artifact_mirror
from groundwork.inventory.write import unchanged
from groundwork.lab import apt_signing
from groundwork.paths import cache_dir, state_dir
from groundwork.phases.base import Context, Outcome, Phase
from groundwork.pki import pki_dir
from groundwork.plan import build_plan
from groundwork.plan.membership import removal_bootstrap, with_removed

# Under the stack's state directory: the inventory a dry run's playbooks read.
DRY_RUN_INVENTORY = "dry-run-inventory"


def write(context: Context) -> Path:
    """Render and write the inventory (and the removal one, kept in memory);
    each etcd member's first-start settings come from the membership plan."""
    spec, plan, members = context.spec, context.plan, context.members()
    directory = pki_dir(spec.name)
    mirror = artifact_mirror(spec)
    sha256 = substrate_sha256(spec, plan.etcd.version, mirror)
    kube = (
        KubeArtifacts(*kube_offer(spec, mirror_index(mirror))) if mirror else KubeArtifacts({}, {})
    )
    # A lab's mirror signs its apt index with the lab's key; nodes trust that key.
    apt_key = apt_signing.public_key(cache_dir()) if spec.lab is not None else ""
    rendered = render_inventory(
        spec,
        plan,
        connection_for(spec),
        pki_dir=directory,
        release_sha256=sha256,
        kube=kube,
        etcd_bootstrap=members.bootstrap,
        apt_key=apt_key,
    )
    target = inventory_dir(spec.name)
    if context.options.dry_run:
        # A dry run's playbooks read a copy in the stack's state: the
        # inventory the run would write is left as it is.
        stale = [r for r, text in rendered.files().items() if not unchanged(target / r, text)]
        if stale:
            context.progress(f"inventory: would write {', '.join(stale)} in {target}")
        target = state_dir(spec.name) / DRY_RUN_INVENTORY
        shutil.rmtree(target, ignore_errors=True)
    written = tuple(write_inventory(target, rendered))
    if written and not context.options.dry_run:
        context.progress(f"inventory: wrote {', '.join(written)} in {target}")
    binaries = rendered.group_vars["gw_kube_binaries"]
    context.kube_missing = tuple(name for name, entry in binaries.items() if not entry["sha256"])
    context.removal_inventory = None
    if members.removed:
        wider = with_removed(spec, members)
        context.removal_inventory = render_inventory(
            wider,
            build_plan(wider),  # another spec: the declared nodes and the leaving ones
            connection_for(wider),
            pki_dir=directory,
            release_sha256=sha256,
            kube=kube,
            etcd_bootstrap=removal_bootstrap(members),
            apt_key=apt_key,
        )
    context.inventory = target
    return target


class Inventory(Phase):
    name = "inventory"

    def preview(self, context: Context) -> Outcome | None:
        return Outcome(True, str(write(context)))

    def run(self, context: Context) -> Outcome:
        return Outcome(True, str(write(context)))

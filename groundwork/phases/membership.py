"""Scale a running cluster before site.yml converges it (the side effects;
the plan is groundwork.plan.membership, pure):

1. removed nodes are taken out: playbooks/remove_node.yml (check the
   remaining etcd members, drain where Kubernetes runs, remove the etcd
   members one at a time), reset.yml limited to them, then their Node
   objects are deleted, with an inventory rendered from the record (it still
   holds the removed nodes);
2. new etcd members are added one at a time: playbooks/etcd_member_add.yml;
3. or, with `up --replace-member NAME` (a member's machine lost its etcd
   data), the old member is removed (remove_node.yml, nothing drained or
   reset), what the machine kept of it is cleared and it is added back empty
   (etcd_member_add.yml), so it syncs from the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from groundwork.applied import applied_path, read_applied, write_applied
from groundwork.inventory import write_inventory
from groundwork.paths import state_dir
from groundwork.phases.base import (
    RUN,
    Context,
    Decision,
    Outcome,
    Phase,
    combined,
    skip,
    summary_outcome,
)
from groundwork.plan.applied import without
from groundwork.plan.membership import MembershipPlan
from groundwork.runner import RunSummary, run_playbook
from groundwork.spec import ClusterSpec, Role

REMOVAL_INVENTORY = "removal-inventory"
REMOVE_PLAYBOOK = "remove_node.yml"
RESET_PLAYBOOK = "reset.yml"
JOIN_PLAYBOOK = "etcd_member_add.yml"
# The drain task's name in remove_node.yml: changed when a node was drained.
DRAIN_TASK = "Drain the removed nodes"


def _first(spec: ClusterSpec, role: Role, names: Sequence[str]) -> str:
    return next(n.name for n in spec.nodes if n.has(role) and n.name in names)


def removal_vars(
    membership: MembershipPlan, removed: Sequence[str], kubectl: str | None
) -> dict[str, object]:
    """remove_node.yml's extra vars: check the remaining etcd members, drain
    `removed` from `kubectl`'s node (None: nothing to drain), then remove the
    leaving members from the first remaining one (pure)."""
    return {
        "gw_scale_removed": list(removed),
        "gw_scale_leaving": list(membership.leaving),
        "gw_scale_via": membership.remaining[0].name,
        "gw_scale_remaining": [m.client_url for m in membership.remaining],
        "gw_scale_kubectl": [] if kubectl is None else kubectl,
        "gw_scale_phase": "remove",
    }


def remove_nodes(context: Context) -> RunSummary:
    """Drain, leave etcd and reset every removed node; update the record on success."""
    spec, membership, console = context.spec, context.members(), context.console
    removal_inventory = context.removal_inventory
    if removal_inventory is None:
        raise RuntimeError("no removal inventory: the inventory phase runs before this one")
    stack = state_dir(spec.name)
    target = stack / REMOVAL_INVENTORY
    write_inventory(target, removal_inventory)
    declared = [n.name for n in spec.nodes]
    removed = list(membership.removed_names)
    extra = removal_vars(membership, removed, _first(spec, Role.CONTROL_PLANE, declared))
    run = replace(context.run_options(), host_count=len(removal_inventory.hosts["all"]["hosts"]))
    out = run_playbook(
        stack, target, REMOVE_PLAYBOOK, replace(run, extra_vars=extra), console=console
    )
    if not out.ok:
        return out
    reset = run_playbook(
        stack, target, RESET_PLAYBOOK, replace(run, limit=",".join(removed)), console=console
    )
    out = out.combine(reset)
    if not out.ok:
        unreachable = sorted({f.host for f in reset.failures if f.unreachable} & set(removed))
        if unreachable:
            # The usual reason to remove a node is that it died: say what
            # was done and the two ways on.
            console.print(
                f"{', '.join(unreachable)}: unreachable, so not reset (already drained and out "
                "of etcd). Run `groundwork up` again once it is back; if it is gone for good, "
                f"delete its entry from {applied_path(spec.name)} and run `groundwork up`."
            )
        return out
    if any(DRAIN_TASK in task for h in out.hosts for task in h.changed_tasks):
        forget = {**extra, "gw_scale_phase": "forget"}
        out = out.combine(
            run_playbook(
                stack, target, REMOVE_PLAYBOOK, replace(run, extra_vars=forget), console=console
            )
        )
    if out.ok:
        applied = read_applied(spec.name)
        if applied is not None:
            write_applied(spec.name, without(applied, removed))
    return out


def join_members(context: Context) -> RunSummary:
    """Add the joining etcd members to the running cluster, one at a time."""
    membership = context.members()
    extra = {
        "gw_scale_joining": list(membership.joining),
        "gw_scale_replacing": list(membership.replacing),
        "gw_scale_via": membership.remaining[0].name,
    }
    return context.run_playbook(JOIN_PLAYBOOK, extra)


def replace_members(context: Context) -> RunSummary:
    """Remove each replaced member from the cluster (the remaining ones must be
    healthy first), then add it back empty, one at a time."""
    # The nodes stay in the cluster: nothing to drain. (The plan's leaving
    # members are the replaced ones.)
    extra = removal_vars(context.members(), removed=[], kubectl=None)
    out = context.run_playbook(REMOVE_PLAYBOOK, extra)
    if not out.ok:
        return out
    return out.combine(join_members(context))


class Membership(Phase):
    name = "membership"

    def should_run(self, context: Context) -> Decision:
        members = context.members()
        if not (members.removed or members.replacing or members.joining):
            return skip("no node removed, no etcd member joining or replaced")
        return RUN

    def preview(self, context: Context) -> Outcome | None:
        lines = context.members().describe()
        return Outcome(True, f"{len(lines)} membership change(s)", "\n".join(lines), changes=True)

    def run(self, context: Context) -> Outcome:
        members = context.members()
        runs: list[RunSummary] = []
        if members.removed:
            runs.append(remove_nodes(context))
        if all(r.ok for r in runs) and members.replacing:
            runs.append(replace_members(context))
        elif all(r.ok for r in runs) and members.joining:
            runs.append(join_members(context))
        context.runs += runs
        return summary_outcome(combined(runs))

"""Scale: adding and removing nodes of a running cluster (the side effects).

The plan (groundwork.plan.membership, pure) compares the membership the last
successful `up` applied (<state dir>/<stack>/applied.json) with the stack.
`groundwork up` (groundwork.steps.provision) then, before site.yml:

1. refuses a change that would put etcd at risk, before touching anything;
2. takes removed nodes out: playbooks/remove_node.yml (check the remaining
   etcd members, drain where Kubernetes runs, remove the etcd members one at
   a time), reset.yml limited to them, then deletes their Node objects, with
   an inventory rendered from the record (it still holds the removed nodes);
3. adds new etcd members one at a time: playbooks/etcd_member_add.yml;
4. or, with `up --replace-member NAME` (a member's machine lost its etcd
   data), removes the old member (remove_node.yml, nothing drained or
   reset), clears what the machine kept of it and adds it back empty
   (etcd_member_add.yml), so it syncs from the others.

site.yml then converges every declared node, and the record is rewritten.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from groundwork.inventory import RenderedInventory, write_inventory
from groundwork.paths import state_dir
from groundwork.plan.membership import (
    Applied,
    AppliedNode,
    Bootstrap,
    MembershipPlan,
    RecordError,
    without,
)
from groundwork.runner import RunOptions, RunSummary, run_playbook
from groundwork.spec import ClusterSpec, Node, Problem, Role

APPLIED_FILE = "applied.json"
REMOVAL_INVENTORY = "removal-inventory"
REMOVE_PLAYBOOK = "remove_node.yml"
RESET_PLAYBOOK = "reset.yml"
JOIN_PLAYBOOK = "etcd_member_add.yml"
# The drain task's name in remove_node.yml: changed when a node was drained.
DRAIN_TASK = "Drain the removed nodes"

__all__ = [
    "APPLIED_FILE",
    "RecordError",
    "ScaleRefused",
    "forget_applied",
    "join_members",
    "read_applied",
    "remove_nodes",
    "replace_members",
    "with_removed",
    "write_applied",
]


class ScaleRefused(Exception):
    """The change would put the cluster at risk; nothing was touched."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def applied_path(stack: str) -> Path:
    return state_dir(stack) / APPLIED_FILE


def read_applied(stack: str) -> Applied | None:
    """The last applied membership; None when the stack was never applied (fresh)."""
    path = applied_path(stack)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RecordError(f"{path}: not JSON: {err}") from None
    try:
        return Applied.from_dict(data)
    except RecordError as err:
        raise RecordError(f"{path}: {err}") from None


def write_applied(stack: str, applied: Applied) -> bool:
    """Write the record atomically (0600); False when it already says the same."""
    path = applied_path(stack)
    text = json.dumps(applied.to_dict(), indent=2) + "\n"
    if path.exists() and path.read_text() == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def forget_applied(stack: str) -> None:
    """Drop the record once the cluster it describes is gone (every node reset):
    the next `up` bootstraps a fresh cluster."""
    applied_path(stack).unlink(missing_ok=True)


def _node(applied: AppliedNode) -> Node:
    return Node.model_validate(
        {
            "name": applied.name,
            "address": applied.address,
            "roles": list(applied.roles),
            "ssh": {"user": applied.ssh_user, "port": applied.ssh_port, "key": applied.ssh_key},
        }
    )


def with_removed(spec: ClusterSpec, membership: MembershipPlan) -> ClusterSpec:
    """The stack plus the nodes being removed (as applied): what must still be
    reachable while they are taken out (lab machines kept, removal inventory)."""
    if not membership.removed:
        return spec
    extra = [_node(n) for n in membership.removed]
    return spec.model_copy(update={"nodes": [*spec.nodes, *extra]})


def removal_bootstrap(membership: MembershipPlan) -> dict[str, Bootstrap]:
    """Bootstrap settings of every member in the removal inventory (declared and leaving)."""
    out = {m.name: m.bootstrap for m in membership.current}
    out.update(membership.bootstrap)
    return out


def _first(spec: ClusterSpec, role: Role, names: Sequence[str]) -> str:
    return next(n.name for n in spec.nodes if n.has(role) and n.name in names)


def removal_vars(
    membership: MembershipPlan, removed: Sequence[str], kubectl: str | None
) -> dict[str, object]:
    """remove_node.yml's extra vars: check the remaining etcd members, drain
    `removed` from `kubectl`'s node (None: nothing to drain), then remove the
    leaving members from the first remaining one."""
    return {
        "gw_scale_removed": list(removed),
        "gw_scale_leaving": list(membership.leaving),
        "gw_scale_via": membership.remaining[0].name,
        "gw_scale_remaining": [m.client_url for m in membership.remaining],
        "gw_scale_kubectl": [] if kubectl is None else kubectl,
        "gw_scale_phase": "remove",
    }


def remove_nodes(
    spec: ClusterSpec,
    membership: MembershipPlan,
    removal_inventory: RenderedInventory,
    options: RunOptions,
    console: Console | None = None,
) -> RunSummary:
    """Drain, leave etcd and reset every removed node; update the record on success."""
    stack = state_dir(spec.name)
    target = stack / REMOVAL_INVENTORY
    write_inventory(target, removal_inventory)
    declared = [n.name for n in spec.nodes]
    removed = list(membership.removed_names)
    extra = removal_vars(membership, removed, _first(spec, Role.CONTROL_PLANE, declared))
    run = replace(options, host_count=len(removal_inventory.hosts["all"]["hosts"]))
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
            (console or Console(highlight=False)).print(
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


def join_members(
    spec: ClusterSpec,
    membership: MembershipPlan,
    inventory: Path,
    options: RunOptions,
    console: Console | None = None,
) -> RunSummary:
    """Add the joining etcd members to the running cluster, one at a time."""
    extra = {
        "gw_scale_joining": list(membership.joining),
        "gw_scale_replacing": list(membership.replacing),
        "gw_scale_via": membership.remaining[0].name,
    }
    return run_playbook(
        state_dir(spec.name),
        inventory,
        JOIN_PLAYBOOK,
        replace(options, extra_vars=extra),
        console=console,
    )


def replace_members(
    spec: ClusterSpec,
    membership: MembershipPlan,
    inventory: Path,
    options: RunOptions,
    console: Console | None = None,
) -> RunSummary:
    """Remove each replaced member from the cluster (the remaining ones must be
    healthy first), then add it back empty, one at a time."""
    # The nodes stay in the cluster: nothing to drain. (The plan's leaving
    # members are the replaced ones.)
    extra = removal_vars(membership, removed=[], kubectl=None)
    out = run_playbook(
        state_dir(spec.name),
        inventory,
        REMOVE_PLAYBOOK,
        replace(options, extra_vars=extra),
        console=console,
    )
    if not out.ok:
        return out
    return out.combine(join_members(spec, membership, inventory, options, console))

"""Scale: what changes between the membership last applied and the declared one (pure).

`groundwork up` records what it applied (<state dir>/<stack>/applied.json,
its format in plan/applied.py: the nodes, the etcd members with the
settings each member bootstrapped with, and the pod network). That record
is the *current* membership; the stack is the *declared* one. This module
diffs the two:

- nodes added and removed (a removed node is drained, loses its etcd
  membership and is reset; an added one is provisioned);
- etcd members joining (added one at a time to the running cluster, each
  started with `initial-cluster-state: existing`) and leaving;
- etcd members replaced (`up --replace-member NAME`: the machine came back
  with an empty disk, or its etcd data is lost): the old member is removed
  and the member is added back empty, to sync from the others;
- every change that would put etcd at risk, refused before any machine is
  touched, each naming the config path with the reason;
- a change of the pod network the cluster was built with (plugin, backend,
  podCidr, serviceCidr, nodeSubnetSize), refused the same way, each naming
  the field, why it cannot change in place, and the rebuild that can.

No record means a fresh cluster: every member bootstraps together with
`initial-cluster-state: new`, as a stack without the record always did.

A member's bootstrap settings (initial-cluster and its state) are only read
by etcd on its first start. They are recorded and rendered unchanged
afterwards, so a member joining later changes no other member's
configuration and restarts none of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from groundwork.door import COMMANDS, Door
from groundwork.plan.applied import (
    Applied,
    AppliedMember,
    AppliedNode,
    Bootstrap,
    applied_network,
)
from groundwork.plan.etcd import EtcdMember, EtcdPlan
from groundwork.spec import ClusterSpec, Node, Problem, Role
from groundwork.spec.problems import path_of

NODES_PATH = "cluster.nodes"
REPLACE_OPTION = "--replace-member"


class ScaleRefused(Exception):
    """The change would put the cluster at risk; nothing was touched.

    Not a phase failure: like an invalid stack, the declaration is wrong, so
    it leaves the run (the CLI exits 2) with every problem's config path.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class MembershipPlan:
    """Current (applied) vs declared membership, and what `up` must do about it."""

    fresh: bool
    added: tuple[str, ...] = ()
    removed: tuple[AppliedNode, ...] = ()
    # etcd members to add to the running cluster, one at a time, in this order.
    joining: tuple[str, ...] = ()
    # etcd members to remove from it, one at a time, in this order.
    leaving: tuple[str, ...] = ()
    # Declared members whose machine lost its etcd data: removed from the
    # cluster, then added back empty (they are in `leaving` and `joining`).
    replacing: tuple[str, ...] = ()
    # The current members (as applied), and those of them that stay (every
    # remaining member must be healthy before one leaves).
    current: tuple[AppliedMember, ...] = ()
    remaining: tuple[AppliedMember, ...] = ()
    # Every declared member's first-start settings.
    bootstrap: Mapping[str, Bootstrap] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> bool:
        return bool(self.added or self.removed or self.joining or self.leaving)

    @property
    def removed_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.removed)

    def describe(self) -> list[str]:
        """One line per change, in the order `up` makes them."""
        lines = []
        for node in self.removed:
            etcd = ", leaves etcd" if node.name in self.leaving else ""
            lines.append(f"remove {node.name} ({node.address}{etcd}): drain, then reset")
        for name in self.added:
            etcd = ", joins etcd" if name in self.joining else ""
            lines.append(f"add {name}{etcd}")
        for name in self.replacing:
            lines.append(
                f"replace {name}'s etcd member: remove the old member, add {name} back "
                "empty, it syncs from the others"
            )
        for name in self.joining:
            if name not in self.added and name not in self.replacing:
                lines.append(f"{name} joins etcd")
        return lines


def max_removable(members: int) -> int:
    """How many of `members` current etcd members one change may remove: the
    ones left must still be a majority of the current cluster, so that a
    failure midway (one more member lost) cannot cost the quorum."""
    return (members - 1) // 2


def quorum_problems(current: Sequence[str], leaving: Sequence[str]) -> list[Problem]:
    """Why removing `leaving` from the current members would risk quorum (empty: safe)."""
    if not leaving:
        return []
    names = ", ".join(leaving)
    left = len(current) - len(leaving)
    if left <= 0:
        return [
            Problem(
                NODES_PATH,
                f"removes every etcd member ({names}): the cluster's data would be lost; "
                "keep at least one of the current members",
            )
        ]
    limit = max_removable(len(current))
    if len(leaving) > limit:
        majority = len(current) // 2 + 1
        return [
            Problem(
                NODES_PATH,
                f"removes {len(leaving)} of the {len(current)} current etcd members ({names}): "
                f"the {left} left would not be a majority ({majority}) of the current "
                f"cluster, so one failure during the change loses quorum; remove at most "
                f"{limit} per run"
                + (" (a 1- or 2-member cluster cannot lose a member)" if limit == 0 else ""),
            )
        ]
    return []


def join_bootstrap(
    staying: Sequence[AppliedMember], joining: Sequence[EtcdMember]
) -> dict[str, Bootstrap]:
    """First-start settings of members added one at a time to a running
    cluster: each one's initial-cluster is exactly the membership at its
    first start, the ones staying and those added before it (etcd checks)."""
    cluster = [f"{m.name}={m.peer_url}" for m in staying]
    out: dict[str, Bootstrap] = {}
    for member in joining:
        cluster.append(f"{member.name}={member.peer_url}")
        out[member.name] = Bootstrap(",".join(cluster), "existing")
    return out


def fresh_bootstrap(etcd: EtcdPlan) -> dict[str, Bootstrap]:
    """Every member starts together (a new cluster)."""
    return {m.name: Bootstrap(etcd.initial_cluster, "new") for m in etcd.members}


# Why each recorded field of cluster.network cannot change under a running
# cluster (the record keeps these: plan/applied.py's AppliedNetwork). Each
# completes "This cannot change in place: ...".
NETWORK_REASONS: dict[str, str] = {
    "plugin": (
        "the plugin gave every running pod its interface and address and owns the nodes' "
        "pod routes and devices; a new plugin would start beside the old one's devices "
        "and routes, and pods would lose their connections across nodes until every node "
        "is switched and every pod restarted"
    ),
    "backend": (
        "the backend carries pod traffic between nodes; changing it replaces every "
        "node's pod routes and tunnel devices (vxlan's tunnel device and its routes, "
        "host-gw's routes via each node's address), and while the nodes switch one by "
        "one, pods on a switched node cannot reach pods on the others"
    ),
    "podCidr": (
        "every node's pod subnet is cut from it, so every pod would be renumbered; pods "
        "already running would keep addresses that no route leads to any more, and "
        "Kubernetes never changes a Node's podCIDR once it is set"
    ),
    "serviceCidr": (
        "every Service's cluster IP comes from it and a Service's cluster IP never changes; "
        "the API server's certificate names its first address (the kubernetes Service) and "
        "every pod resolves names through CoreDNS at its tenth, so every Service address "
        "and every pod's DNS would change at once"
    ),
    "nodeSubnetSize": (
        "it sizes every node's pod subnet (a node's subnet follows from its address and "
        "this size), so every node's pod range and every pod's address would change, as "
        "with a podCidr change"
    ),
}


def rebuild_command(stack: str, door: Door) -> str:
    """How the stack's own front door rebuilds it: destroy, then up (pure).
    A stack is driven by one door (groundwork/door.py): the other is refused."""
    if door == "pulumi":
        up, release = (c.format(stack=stack) for c in COMMANDS[door])
        return f"`{release}`, then `{up}`"
    return f"`groundwork rebuild --stack {stack}`"


def network_problems(
    applied: Applied, spec: ClusterSpec, door: Door = "groundwork"
) -> list[Problem]:
    """A running cluster keeps its pod network: a changed plugin, backend,
    range or node subnet size would strand running pods' addresses and routes
    halfway through a run. Each changed field is refused before any node is
    touched, with why and the way out: a rebuild, which resets every node,
    forgets the record and records the new values once it is up.

    A record without the network (or without a field of it: written by an
    older Groundwork) compares only what it has."""
    if applied.network is None:
        return []
    declared = dict(applied_network(spec).fields())
    way_out = rebuild_command(spec.name, door)
    return [
        Problem(
            path_of(("network", name)),
            f"the running cluster was built with {was}, the stack declares "
            f"{declared[name]}. This cannot change in place: {NETWORK_REASONS[name]}. "
            f"Rebuild instead, with {way_out}: every node is reset and the cluster brought "
            "up anew on the new value, losing what runs in it that the stack does not "
            f"declare; or put {was} back",
        )
        for name, was in applied.network.fields()
        if declared[name] != was
    ]


def plan_membership(
    applied: Applied | None,
    spec: ClusterSpec,
    etcd: EtcdPlan,
    replacing: Sequence[str] = (),
    door: Door = "groundwork",
) -> MembershipPlan:
    """Diff the applied record (None: fresh cluster) against the declared stack.

    `replacing` names members whose machine lost its etcd data (asked for
    with `up --replace-member`): each is removed and added back empty.
    `door` is the front door running, whose rebuild a refusal names.
    """
    if replacing:
        return plan_replacement(applied, spec, etcd, tuple(dict.fromkeys(replacing)), door)
    if applied is None:
        return MembershipPlan(fresh=True, bootstrap=fresh_bootstrap(etcd))
    declared = {n.name: (i, n) for i, n in enumerate(spec.nodes)}
    added = tuple(n.name for n in spec.nodes if applied.node(n.name) is None)
    removed = tuple(n for n in applied.nodes if n.name not in declared)
    declared_members = [m.name for m in etcd.members]
    current = [m.name for m in applied.members]
    joining = tuple(m for m in declared_members if m not in current)
    leaving = tuple(m for m in current if m not in declared_members)
    problems: list[Problem] = []
    removed_addresses = {n.address: n.name for n in removed}
    for name in added:
        i, node = declared[name]
        holder = removed_addresses.get(str(node.address))
        if holder is not None:
            problems.append(
                Problem(
                    f"{NODES_PATH}[{i}].address",
                    f"{name} takes the address of {holder}, which this change removes: "
                    f"remove {holder} first (run up), then add {name}",
                )
            )
    for member in applied.members:
        if member.name not in declared:
            continue
        i, node = declared[member.name]
        if not node.has(Role.ETCD):
            problems.append(
                Problem(
                    f"{NODES_PATH}[{i}].roles",
                    f"{member.name} would leave etcd but stay in the cluster, which is not "
                    "supported: remove the node (its membership is removed, it is reset), "
                    "then add it back with its new roles",
                )
            )
        elif str(node.address) != member.address:
            problems.append(
                Problem(
                    f"{NODES_PATH}[{i}].address",
                    f"{member.name} is an etcd member at {member.address}; a member's address "
                    "cannot change: remove the node (run up), then add it back at "
                    f"{node.address}",
                )
            )
    if joining and leaving:
        problems.append(
            Problem(
                NODES_PATH,
                f"adds etcd member(s) {', '.join(joining)} and removes {', '.join(leaving)} "
                "in one change: add first (run up), then remove, so the cluster never "
                "has fewer members than it tolerates losing",
            )
        )
    problems.extend(quorum_problems(current, leaving))
    problems.extend(network_problems(applied, spec, door))
    staying = [m for m in applied.members if m.name not in leaving]
    bootstrap = {m.name: m.bootstrap for m in staying if m.name in declared}
    bootstrap |= join_bootstrap(
        staying, [m for m in etcd.members if applied.member(m.name) is None]
    )
    return MembershipPlan(
        fresh=False,
        added=added,
        removed=removed,
        joining=joining,
        leaving=leaving,
        current=applied.members,
        remaining=tuple(staying),
        bootstrap=bootstrap,
        problems=tuple(sorted(problems)),
    )


def plan_replacement(
    applied: Applied | None,
    spec: ClusterSpec,
    etcd: EtcdPlan,
    replacing: tuple[str, ...],
    door: Door = "groundwork",
) -> MembershipPlan:
    """Replace members in a run of their own: no other membership change with it."""
    if applied is None:
        return MembershipPlan(
            fresh=True,
            problems=(
                Problem(
                    REPLACE_OPTION,
                    f"{', '.join(replacing)}: this stack was never applied (no record of its "
                    "etcd members), so there is no member to replace: run up without "
                    f"{REPLACE_OPTION}",
                ),
            ),
        )
    declared = {m.name: m for m in etcd.members}
    problems: list[Problem] = []
    for name in replacing:
        recorded = applied.member(name)
        if recorded is None or name not in declared:
            members = ", ".join(m.name for m in applied.members) or "none"
            problems.append(
                Problem(
                    REPLACE_OPTION,
                    f"{name} is not an etcd member of this cluster both as applied and as "
                    f"declared (the current members: {members})",
                )
            )
        elif recorded.address != str(declared[name].address):
            problems.append(
                Problem(
                    REPLACE_OPTION,
                    f"{name} is a member at {recorded.address} but declared at "
                    f"{declared[name].address}: a member's address cannot change",
                )
            )
    others = plan_membership(applied, spec, etcd, door=door)
    if others.changes or others.problems:
        problems.append(
            Problem(
                REPLACE_OPTION,
                "replaces members while the stack also changes the cluster's nodes or "
                f"members ({'; '.join(others.describe()) or 'see the other problems'}): "
                "apply that change first (run up), then replace",
            )
        )
        problems.extend(others.problems)
    current = [m.name for m in applied.members]
    problems.extend(quorum_problems(current, list(replacing)))
    if problems:
        return MembershipPlan(fresh=False, problems=tuple(sorted(set(problems))))
    staying = [m for m in applied.members if m.name not in replacing]
    bootstrap = {m.name: m.bootstrap for m in staying}
    bootstrap |= join_bootstrap(staying, [declared[name] for name in replacing])
    return MembershipPlan(
        fresh=False,
        joining=replacing,
        leaving=replacing,
        replacing=replacing,
        current=applied.members,
        remaining=tuple(staying),
        bootstrap=bootstrap,
    )


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

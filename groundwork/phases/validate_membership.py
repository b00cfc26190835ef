"""Refuse a membership change that would put etcd at risk, or a change of the
pod network the running cluster was built with, before anything is touched
(it runs before the PKI, the inventory and every node), and say what the run
is about to change (reads one file: the applied record)."""

from __future__ import annotations

from groundwork.phases.base import Context, Outcome, Phase
from groundwork.plan.membership import ScaleRefused


class ValidateMembership(Phase):
    name = "validate-membership"
    changes_nothing = True

    def run(self, context: Context) -> Outcome:
        members = context.members()
        if members.problems:
            raise ScaleRefused(members.problems)
        changes = members.describe()
        if changes and context.options.limit:
            return Outcome(
                False,
                "--limit converges nodes the cluster already has; this run changes the "
                f"membership ({'; '.join(changes)}): run it without --limit. Nothing was touched",
            )
        for line in changes:
            context.progress(f"scale: {line}")
        return Outcome(True, "; ".join(changes) or "no membership change")

"""Converge every declared node's substrate (playbooks/site.yml: base, load
balancer, etcd, container runtime, pod network) and record the membership
applied, which the next run diffs against."""

from __future__ import annotations

from typing import Any

from groundwork.applied import write_applied
from groundwork.phases.base import Context, Outcome, Phase, combined, summary_outcome
from groundwork.plan.applied import applied_after

SITE_PLAYBOOK = "site.yml"


def run_and_record(
    context: Context, playbook: str, extra_vars: dict[str, Any] | None = None
) -> Outcome:
    """Run one playbook on the stack's inventory, keep its summary in the
    context, and say how it went."""
    summary = context.run_playbook(playbook, extra_vars)
    context.runs.append(summary)
    return summary_outcome(combined([summary]))


class Site(Phase):
    name = "site"

    def run(self, context: Context) -> Outcome:
        outcome = run_and_record(context, SITE_PLAYBOOK)
        if outcome.ok:
            # Every declared node now runs what site.yml installs: the next
            # run diffs against this membership.
            spec, members = context.spec, context.members()
            write_applied(spec.name, applied_after(spec, context.plan.etcd, members.bootstrap))
        return outcome

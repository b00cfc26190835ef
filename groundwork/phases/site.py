"""Converge every declared node's substrate (playbooks/site.yml: base, load
balancer, etcd, container runtime, pod network) and record the membership
applied, which the next run diffs against."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import yaml

from groundwork import converged
from groundwork.applied import read_applied, write_applied
from groundwork.phases.base import Context, Outcome, Phase, summary_outcome
from groundwork.plan.applied import applied_after
from groundwork.runner import PLAYBOOKS_DIR, RunSummary
from groundwork.runner.events import HostState

SITE_PLAYBOOK = "site.yml"
# site.yml then kubernetes.yml in one ansible-playbook run.
CONVERGE_PLAYBOOK = "converge.yml"


def run_and_record(
    context: Context,
    playbook: str,
    extra_vars: dict[str, Any] | None = None,
    plays: frozenset[str] | None = None,
) -> Outcome:
    """Run one playbook on the stack's inventory, keep its summary in the
    context, and say how it went: all of it, or only these of its plays (a
    run of several playbooks, kept for the phases of the others)."""
    summary = context.run_playbook(playbook, extra_vars)
    context.runs.append(summary)
    if plays is None:
        return summary_outcome(summary)
    context.converge_run = summary
    return part_outcome(summary, plays)


@functools.cache
def play_names(playbook: str) -> frozenset[str]:
    """The names of a playbook's plays, as the run's events report them."""
    plays = yaml.safe_load((PLAYBOOKS_DIR / playbook).read_text(encoding="utf-8"))
    return frozenset(str(play["name"]) for play in plays if "hosts" in play)


def part_outcome(summary: RunSummary, plays: frozenset[str]) -> Outcome:
    """How the plays of one playbook went within a run of several (pure): they
    passed when the run did, or when every failure is in other plays. A run
    that failed with no failure to tell by (cancelled, timed out) failed
    every part."""
    if summary.ok:
        return summary_outcome(summary)
    own = tuple(f for f in summary.failures if f.play in plays)
    if summary.failures and not own:
        return Outcome(True, f"passed; the run failed after them; logs: {summary.artifact_dir}")
    return summary_outcome(dataclasses.replace(summary, failures=own or summary.failures))


def kubernetes_follows(context: Context) -> bool:
    """Whether kubernetes.yml runs right after site.yml in this run: the
    Kubernetes layer is asked for, its binaries are there, and no upgrade
    runs instead (it drains node by node after the substrate)."""
    return context.options.kubernetes and not context.kube_missing and context.upgrade_from is None


def preview_lines(summary: RunSummary) -> list[str]:
    """What a check-mode run found, one line per change per host (pure)."""
    lines = []
    for host in summary.hosts:
        lines += [f"{host.name}: {task}" for task in host.changed_tasks]
        lines += [f"{host.name}:   writes {path}" for path in host.changed_paths]
    for failure in summary.failures:
        if not failure.unreachable:
            # Check mode simulates a change; a task that needs its result
            # (a binary installed above, a service restarted) cannot be told.
            lines.append(f"{failure.describe()} (the preview of this node ends here)")
    return lines


def preview_playbook(
    context: Context, playbook: str, extra_vars: dict[str, Any] | None = None
) -> Outcome:
    """The playbook in check mode (the dry run's run options): on each node
    the tasks and files it would change, nothing changed."""
    summary = context.run_playbook(playbook, extra_vars)
    lost = [f.describe() for f in summary.failures if f.unreachable]
    if lost:
        return Outcome(False, "a node did not answer the preview", "\n".join(lost))
    hosts = [h.name for h in summary.hosts if h.changed_tasks]
    stopped = sorted({f.host for f in summary.failures} - set(hosts))
    changing = [*hosts, *stopped]
    message = f"would change {', '.join(changing)}" if changing else "no node would change"
    return Outcome(True, message, "\n".join(preview_lines(summary)), changes=bool(changing))


def may_leave_nodes_alone(context: Context) -> bool:
    """Whether this run may skip the roles on nodes as last seen: a plain
    `up` of both layers, with no membership change, no node named, no
    certificate renewed and no --full."""
    options = context.options
    members = context.members()
    asked = options.full or options.limit or options.replace_members or options.renew_certificates
    rendered = context.inventory is not None
    return (
        rendered and kubernetes_follows(context) and not (asked or members.fresh or members.changes)
    )


def nodes_as_last_seen(context: Context) -> Outcome | None:
    """The site phase's outcome when every node is as the last run that
    changed nothing saw it (groundwork/converged.py), with a summary of no
    task run; None when the roles must run, after saying why."""
    inventory = context.rendered_inventory()
    verdict = converged.check(context.spec.name, inventory)
    if not verdict.unchanged:
        context.progress(f"site: every role runs: {'; '.join(verdict.reasons[:3])}")
        return None
    record = verdict.record
    assert record is not None  # an unchanged verdict was made against it
    reads = sum(len(seen) for seen in record.hosts.values())
    said = (
        f"every node as the run of {record.at} that changed nothing saw it "
        f"({reads} reads on {len(record.hosts)} nodes in {verdict.seconds:.1f} s): "
        "no role run; `up --full` runs them"
    )
    summary = RunSummary(
        playbook=CONVERGE_PLAYBOOK,
        status="successful",
        rc=0,
        hosts=tuple(HostState(name, done=True) for name in sorted(record.hosts)),
        failures=(),
        artifact_dir="",
        seconds=verdict.seconds,
        note="every node as last seen, no role run",
    )
    context.runs.append(summary)
    context.converge_run = summary
    context.nodes_left_alone = True
    return Outcome(True, said)


def record_if_unchanged(context: Context) -> None:
    """After the converge: keep its reads when it changed nothing on any node
    (the next `up` checks them first); any other run leaves no record."""
    summary = context.converge_run
    if summary is None or context.options.limit or context.inventory is None:
        return
    why = converged.unrecordable(summary, (node.name for node in context.spec.nodes))
    if why:
        context.progress(f"site: no record for the next up: {why}")
        return
    converged.record_run(context.spec.name, context.rendered_inventory(), summary)
    context.progress("site: every node's reads recorded: the next `up` checks them first")


class Site(Phase):
    name = "site"

    def preview(self, context: Context) -> Outcome | None:
        if "lab" in context.would_change:
            return None  # the machines it would converge are not up yet
        if read_applied(context.spec.name) is None:
            return Outcome(
                True, "never converged: every role would run on every node", changes=True
            )
        return preview_playbook(context, SITE_PLAYBOOK)

    def run(self, context: Context) -> Outcome:
        if kubernetes_follows(context):
            if may_leave_nodes_alone(context):
                outcome_unchanged = nodes_as_last_seen(context)
                if outcome_unchanged is not None:
                    return outcome_unchanged
            # One ansible-playbook run for both layers: the Kubernetes phase
            # reports its own plays of it (context.converge_run).
            outcome = run_and_record(context, CONVERGE_PLAYBOOK, plays=play_names(SITE_PLAYBOOK))
            record_if_unchanged(context)
        else:
            outcome = run_and_record(context, SITE_PLAYBOOK)
        if outcome.ok:
            # Every declared node now runs what site.yml installs: the next
            # run diffs against this membership.
            spec, members = context.spec, context.members()
            write_applied(spec.name, applied_after(spec, context.plan.etcd, members.bootstrap))
        return outcome

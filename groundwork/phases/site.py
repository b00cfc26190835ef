"""Converge every declared node: playbooks/site.yml, then the Kubernetes layer
(playbooks/kubernetes.yml) when its binaries are available; record the
membership applied, which the next run diffs against."""

from __future__ import annotations

from groundwork.applied import write_applied
from groundwork.paths import state_dir
from groundwork.phases.base import Context, Outcome, Phase, combined, summary_outcome
from groundwork.plan.applied import applied_after
from groundwork.plan.kube_binaries import missing_message
from groundwork.runner import run_playbook

SITE_PLAYBOOK = "site.yml"
KUBERNETES_PLAYBOOK = "kubernetes.yml"


class Site(Phase):
    name = "site"

    def _playbook(self, context: Context, playbook: str) -> None:
        context.runs.append(
            run_playbook(
                state_dir(context.spec.name),
                context.rendered_inventory(),
                playbook,
                context.run_options(),
                console=context.console,
            )
        )

    def run(self, context: Context) -> Outcome:
        first = len(context.runs)
        self._playbook(context, SITE_PLAYBOOK)
        if context.runs[-1].ok:
            # Every declared node now runs what site.yml installs: the next
            # run diffs against this membership.
            spec, members = context.spec, context.members()
            write_applied(spec.name, applied_after(spec, context.plan.etcd, members.bootstrap))
            if context.kube_missing:
                missing = list(context.kube_missing)
                context.not_installed = missing_message(missing, spec.kubernetes.version)
            else:
                self._playbook(context, KUBERNETES_PLAYBOOK)
        outcome = summary_outcome(combined(context.runs[first:]))
        if outcome.ok and context.not_installed:
            return Outcome(True, outcome.message, f"NOT INSTALLED {context.not_installed}")
        return outcome

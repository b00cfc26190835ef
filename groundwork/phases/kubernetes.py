"""The Kubernetes layer on the converged substrate, when every Kubernetes
binary has a sha256: playbooks/kubernetes.yml (the control plane, restarted
one node at a time when it must be, then the kubelet and kube-proxy on every
node that runs pods), or playbooks/upgrade.yml when the release phase found
the cluster at another release (each node drained and upgraded in turn)."""

from __future__ import annotations

from groundwork.applied import read_applied
from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip
from groundwork.phases.site import part_outcome, play_names, preview_playbook, run_and_record
from groundwork.plan.kube_binaries import missing_message

KUBERNETES_PLAYBOOK = "kubernetes.yml"
UPGRADE_PLAYBOOK = "upgrade.yml"


class Kubernetes(Phase):
    name = "kubernetes"

    def should_run(self, context: Context) -> Decision:
        if not context.options.kubernetes:
            return skip("not asked for (--substrate-only)")
        if context.kube_missing:
            missing = list(context.kube_missing)
            context.not_installed = missing_message(missing, context.spec.kubernetes.version)
            return skip(f"NOT INSTALLED {context.not_installed}")
        return RUN

    def preview(self, context: Context) -> Outcome | None:
        if "lab" in context.would_change or context.upgrade_from is not None:
            return None  # machines not up yet; an upgrade drains node by node
        if "site" in context.would_change and read_applied(context.spec.name) is None:
            return None  # nothing of the substrate it runs on exists yet
        return preview_playbook(context, KUBERNETES_PLAYBOOK)

    def run(self, context: Context) -> Outcome:
        if context.nodes_left_alone:
            return Outcome(True, "no role run: every node as last seen (see the site phase)")
        if context.converge_run is not None:
            # site.yml's phase ran this playbook's plays in its own run.
            return part_outcome(context.converge_run, play_names(KUBERNETES_PLAYBOOK))
        if context.upgrade_from is not None:
            return run_and_record(context, UPGRADE_PLAYBOOK)
        return run_and_record(context, KUBERNETES_PLAYBOOK)

"""Refuse, before anything is touched, a stack whose addons need an upstream
bundle the CLI door cannot install: one known only by its release URL (no
pinned module holds its files). This is the CLI door's only check of it: the
addons phase, which runs after the nodes were converged and Kubernetes
installed, trusts it."""

from __future__ import annotations

from groundwork.manifests import render_addons
from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec
from groundwork.spec.problems import path_of

# The stack field that chose each layer's bundles.
LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "cni": ("network", "plugin"),
    "load_balancer": ("loadBalancer", "provider"),
    "gateway": ("gateway", "controller"),
}


def unpinned_bundles(spec: ClusterSpec, plan: ClusterPlan) -> list[str]:
    """One line per layer whose bundles have no pinned files (pure): what
    `validate` says too, so a user learns it before `up`."""
    lines = []
    for layer in render_addons(spec, plan).layers():
        unpinned = [b for b in layer.bundles if b.files is None]
        if unpinned:
            field = path_of(LAYER_FIELDS.get(layer.name, (layer.name,)))
            names = ", ".join(f"{b.name} {b.version} ({b.url})" for b in unpinned)
            lines.append(f"{field}: needs {names}, known only by its release URL")
    return lines


class PinnedBundles(Phase):
    name = "pinned-bundles"
    changes_nothing = True

    def should_run(self, context: Context) -> Decision:
        if not (context.options.kubernetes and context.options.addons):
            return skip("the addons are not applied by this door")
        return RUN

    def run(self, context: Context) -> Outcome:
        lines = unpinned_bundles(context.spec, context.plan)
        if lines:
            return Outcome(
                False,
                "the CLI door installs only the upstream bundles a pinned module holds, and this "
                "stack needs others; nothing was touched. Deploy it with `groundwork pulumi up` "
                "(which fetches them at install time), or choose components whose bundles are pinned",
                "\n".join(lines),
            )
        return Outcome(True, "every upstream bundle is read from a pinned module")

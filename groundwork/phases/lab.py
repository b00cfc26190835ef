"""Bring a lab stack's machines up (a no-op on a lab that already is)."""

from __future__ import annotations

from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip
from groundwork.plan.membership import with_removed


class Lab(Phase):
    name = "lab"

    def should_run(self, context: Context) -> Decision:
        if context.spec.lab is None:
            return skip("the stack has no lab")
        if not context.options.lab:
            return skip("asked not to (--no-lab)")
        return RUN

    def preview(self, context: Context) -> Outcome | None:
        from groundwork import lab

        state = lab.status(with_removed(context.spec, context.members()))
        if state.up:
            return Outcome(True, "the machines are up")
        down = [
            f"{n.name} ({n.state})" for n in state.nodes if n.state not in ("running", "degraded")
        ]
        parts = [
            *([] if state.network_present else ["the lab network"]),
            *([] if state.mirror_running else ["the mirror"]),
            *down,
        ]
        return Outcome(
            True, f"would bring up {', '.join(parts) or 'unreachable machines'}", changes=True
        )

    def run(self, context: Context) -> Outcome:
        from groundwork import lab  # podman and the mirror: only for lab stacks

        context.progress("lab: making sure the machines are up")
        # The removed nodes' machines stay until they are reset. The
        # pre-flight play asks every node over SSH next: an unchanged lab is
        # not asked twice.
        spec = with_removed(context.spec, context.members())
        state = lab.up(spec, progress=context.progress, check_nodes=False)
        if not state.up:
            return Outcome(False, "the lab is not healthy: run `groundwork lab status`")
        return Outcome(True, "machines up" if state.changed else "already up")

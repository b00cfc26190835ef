"""The stack's CAs and certificates on the controller (issues only what is
missing or whose request changed; a CA is never replaced)."""

from __future__ import annotations

from groundwork.phases.base import Context, Outcome, Phase
from groundwork.pki import ensure_pki, pki_dir


def ensure(context: Context) -> tuple[str, ...]:
    """Every certificate of the plan on disk; the files that changed."""
    directory = pki_dir(context.spec.name)
    changed = tuple(ensure_pki(directory, context.plan.certificates).changed)
    if changed:
        context.progress(f"pki: {len(changed)} change(s) under {directory}")
    return changed


class Pki(Phase):
    name = "pki"

    def run(self, context: Context) -> Outcome:
        changed = ensure(context)
        return Outcome(True, f"{len(changed)} file(s) issued" if changed else "unchanged")

"""The stack's CAs and certificates on the controller (issues only what is
missing or whose request changed; a CA is never replaced)."""

from __future__ import annotations

from groundwork.phases.base import Context, Outcome, Phase
from groundwork.pki import ensure_pki, pki_dir
from groundwork.pki.bundle import ensure_bundle
from groundwork.pki.store import load_bundle


def ensure(context: Context) -> tuple[str, ...]:
    """Every certificate of the plan on disk; the files that changed."""
    directory = pki_dir(context.spec.name)
    renew = context.options.renew_certificates
    changed = tuple(ensure_pki(directory, context.plan.certificates, renew=renew).changed)
    if changed:
        context.progress(f"pki: {len(changed)} change(s) under {directory}")
    return changed


class Pki(Phase):
    name = "pki"

    def preview(self, context: Context) -> Outcome | None:
        # The controller's files, not the nodes': what the nodes would get
        # from them, the site preview shows.
        directory = pki_dir(context.spec.name)
        renew = context.options.renew_certificates
        ensured = ensure_bundle(load_bundle(directory), context.plan.certificates, renew=renew)
        if not ensured.changed:
            return Outcome(True, "unchanged")
        lines = [f"{stem}: {ensured.reasons.get(stem, 'new')}" for stem in ensured.changed]
        message = f"would issue {len(lines)} under {directory} (on this machine)"
        return Outcome(True, message, "\n".join(lines), changes=True)

    def run(self, context: Context) -> Outcome:
        changed = ensure(context)
        return Outcome(True, f"{len(changed)} file(s) issued" if changed else "unchanged")

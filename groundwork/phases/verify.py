"""Run every node check of the stack (tests/infra over SSH, nodes in parallel)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip
from groundwork.verify import VerifyReport, verify


def failure_lines(report: VerifyReport) -> list[str]:
    """One line per failed check, after pytest's own error if it failed (pure)."""
    lines = [
        f"{r.node}: {r.check}: {r.outcome}" + (f": {r.message}" if r.message else "")
        for r in report.failures
    ]
    return ([report.error] if report.error else []) + lines


class Verify(Phase):
    name = "verify"
    # It reads the nodes and the cluster: a dry run runs it when nothing
    # before it would change.
    changes_nothing = True

    def should_run(self, context: Context) -> Decision:
        return RUN if context.options.verify else skip("not asked for (--no-verify)")

    def run(self, context: Context) -> Outcome:
        with tempfile.TemporaryDirectory(prefix="groundwork-verify-") as work:
            junit = Path(work) / "verify-junit.xml"
            # The Kubernetes layer's checks ask the addons (the netcheck pods):
            # not after `up --substrate-only`, nor in Pulumi's NodeVerification,
            # which the addon layers wait for.
            options = context.options
            kubernetes = options.kubernetes and options.addons
            report = verify(context.spec, junit=junit, kubernetes=kubernetes, limit=options.limit)
            context.verify_junit = junit.read_bytes() if junit.exists() else None
        context.report = report
        if report.ok:
            return Outcome(True, report.summary())
        return Outcome(False, report.summary(), "\n".join(failure_lines(report)))

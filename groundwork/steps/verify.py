"""The verify step: both front doors (CLI and Pulumi) call this."""

from __future__ import annotations

from pathlib import Path

from groundwork.spec import ClusterSpec
from groundwork.verify import VerifyReport
from groundwork.verify import verify as _run


def verify(spec: ClusterSpec, junit: Path | None = None, workers: int = 0) -> VerifyReport:
    """Run every node check of the stack, nodes in parallel; report per node (never
    raises for a failed check: read `report.ok`). workers>0 uses pytest-xdist."""
    return _run(spec, junit, workers)

"""Upstream's conformance suite judges the lab cluster: the focused set
(API machinery, ReplicaSets, ReplicationControllers, Jobs, StatefulSets,
Pods, ConfigMaps, Secrets, Services, DNS; the [Conformance] specs that are neither slow nor serial, less
those groundwork/conformance.py names as unable to run here, with why)
from e2e.test, built from the same pinned kubernetes module, must pass in
full. The whole set runs in bench/conformance.py.

The stack defaults to the lab stack; GROUNDWORK_K8S_LAB_STACK names another.
"""

from __future__ import annotations

import os

import pytest
from _lab import provision

from groundwork.conformance import (
    FOCUSED,
    FOCUSED_LABEL_FILTER,
    FOCUSED_PROCESSES,
    focused_skip,
    run,
)
from groundwork.paths import state_dir
from groundwork.spec import load_stack

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_K8S_LAB_STACK", "lab")
# The floor: at least this many conformance specs in the test command.
AT_LEAST = 40


def test_the_focused_conformance_specs_pass() -> None:
    spec = load_stack(STACK)
    summary = provision(spec)
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status
    report_dir = state_dir(spec.name) / "conformance"
    result = run(
        spec,
        focus=FOCUSED,
        skip=focused_skip(),
        report_dir=report_dir,
        label_filter=FOCUSED_LABEL_FILTER,
        processes=FOCUSED_PROCESSES,
        progress=print,
    )
    print(f"conformance: {result.summary()} (report: {result.report})")
    failures = "\n".join(
        f"{f.name}: {f.message[:500]}\n  its last log lines:\n{f.log_tail}" for f in result.failed
    )
    assert not result.failed, failures
    # What the suite made is gone: the faults tests that follow judge a
    # cluster holding only what the stack declares.
    assert not result.leftovers, "\n".join(result.leftovers)
    assert result.passed >= AT_LEAST, result.summary()

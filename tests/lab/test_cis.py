"""The CIS Kubernetes Benchmark judges the lab's nodes: kube-bench, built from
its pinned module, runs on every node with the targets its roles call for
(`groundwork cis`), and no check FAILs. Each WARN and each check skipped as
not applying here has its reason in groundwork/cis/benchmark.py and
docs/security.md. The counts are printed per node (`pytest -s`) and written
to <state dir>/<stack>/cis/report.json.

The stack defaults to the lab stack; GROUNDWORK_K8S_LAB_STACK names another.
"""

from __future__ import annotations

import json
import os

import pytest
from _lab import provision

from groundwork.cis.benchmark import NOT_APPLICABLE, WARN_REASONS
from groundwork.cis.report import problems, summary_line
from groundwork.cis.run import run
from groundwork.paths import state_dir
from groundwork.spec import load_stack

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_K8S_LAB_STACK", "lab")


def test_no_cis_check_fails_on_any_node() -> None:
    spec = load_stack(STACK)
    summary = provision(spec)
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status
    report = run(spec)
    directory = state_dir(spec.name) / "cis"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    for node in report.nodes:
        print(f"{node.node} ({','.join(node.targets)}): {summary_line(node)}, {node.seconds:.1f} s")
    assert {n.node for n in report.nodes} == {n.name for n in spec.nodes}
    assert report.ok, "\n".join(problems(report.nodes))
    # Every WARN is one whose reason is written down; every skip is ours.
    for node in report.nodes:
        unexplained = [f.id for f in node.with_status("WARN") if f.id not in WARN_REASONS]
        assert unexplained == [], f"{node.node}: WARN without a reason: {unexplained}"
        skipped = [f.id for f in node.with_status("INFO") if f.id not in NOT_APPLICABLE]
        assert skipped == [], f"{node.node}: INFO not skipped by Groundwork: {skipped}"

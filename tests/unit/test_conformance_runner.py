"""The conformance runner's pure parts: ginkgo's command line and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groundwork.conformance import (
    FOCUSED_LABEL_FILTER,
    ConformanceResult,
    SpecResult,
    ginkgo_argv,
    leftovers,
    parse_report,
)

REPORT = [
    {
        "SpecReports": [
            {"LeafNodeType": "SynchronizedBeforeSuite", "State": "passed"},
            {
                "LeafNodeType": "It",
                "ContainerHierarchyTexts": ["[sig-network] DNS"],
                "LeafNodeText": "should provide DNS for services [Conformance]",
                "State": "passed",
                "RunTime": 12_500_000_000,
            },
            {
                "LeafNodeType": "It",
                "ContainerHierarchyTexts": ["[sig-node] Pods"],
                "LeafNodeText": "should be updated [Conformance]",
                "State": "failed",
                "RunTime": 3_000_000_000,
                "Failure": {"Message": "  timed out waiting for pod  "},
                "CapturedGinkgoWriterOutput": "".join(f"line {n}\n" for n in range(50)),
            },
            {
                "LeafNodeType": "It",
                "ContainerHierarchyTexts": None,
                "LeafNodeText": "unrelated",
                "State": "skipped",
            },
        ]
    }
]


def test_the_report_gives_every_spec_with_its_state_time_and_failure() -> None:
    specs = parse_report(REPORT)
    assert specs == [
        SpecResult(
            "[sig-network] DNS should provide DNS for services [Conformance]", "passed", 12.5
        ),
        SpecResult(
            "[sig-node] Pods should be updated [Conformance]",
            "failed",
            3.0,
            "timed out waiting for pod",
            "\n".join(f"line {n}" for n in range(10, 50)),
        ),
        SpecResult("unrelated", "skipped", 0.0),
    ]
    result = ConformanceResult(specs, 60.0)
    assert (result.passed, len(result.failed), result.skipped) == (1, 1, 1)
    assert not result.ok
    assert result.summary() == "1 passed, 1 failed, 1 skipped in 60 s"


def test_a_run_that_selected_nothing_is_not_a_pass() -> None:
    assert not ConformanceResult([SpecResult("x", "skipped", 0)], 1.0).ok
    assert ConformanceResult([SpecResult("x", "passed", 1)], 1.0).ok


def test_ginkgo_runs_the_prebuilt_suite_against_the_cluster() -> None:
    argv = ginkgo_argv(
        Path("/b/ginkgo"),
        Path("/b/e2e.test"),
        Path("/s/admin.kubeconfig"),
        Path("/k/kubectl"),
        Path("/r"),
        focus=[r"\[sig-network\] DNS "],
        skip=["flaky"],
        processes=4,
        label_filter=FOCUSED_LABEL_FILTER,
    )
    binary = argv.index("/b/e2e.test")
    ginkgo_flags, suite_flags = argv[1:binary], argv[binary + 2 :]
    assert argv[0] == "/b/ginkgo" and argv[binary + 1] == "--"
    assert "--procs=4" in ginkgo_flags and "--json-report=/r/report.json" in ginkgo_flags
    assert r"--focus=\[sig-network\] DNS " in ginkgo_flags and "--skip=flaky" in ginkgo_flags
    assert "--label-filter=Conformance && !Slow && !Serial && !Disruptive" in ginkgo_flags
    assert "--kubeconfig=/s/admin.kubeconfig" in suite_flags
    assert "--kubectl-path=/k/kubectl" in suite_flags and "--provider=skeleton" in suite_flags


def test_a_namespace_the_run_left_names_the_pods_holding_it() -> None:
    namespaces: list[dict[str, Any]] = [
        {"metadata": {"name": "default"}, "status": {"phase": "Active"}},
        {"metadata": {"name": "secrets-6414"}, "status": {"phase": "Terminating"}},
    ]
    pods: list[dict[str, Any]] = [
        {
            "metadata": {
                "namespace": "secrets-6414",
                "name": "pod-secrets-1",
                "deletionTimestamp": "2026-12-07T15:01:02Z",
            },
            "spec": {"nodeName": "w2"},
            "status": {
                "phase": "Failed",
                "containerStatuses": [
                    {"name": "creates", "state": {"terminated": {"exitCode": 255}}},
                    {"name": "dels", "state": {"running": {}}},
                ],
            },
        },
        {"metadata": {"namespace": "default", "name": "echo-0"}, "spec": {}, "status": {}},
    ]
    assert leftovers({"default"}, namespaces, pods) == [
        "namespace secrets-6414 (Terminating)\n"
        "  pod secrets-6414/pod-secrets-1 on w2: Failed, deletion asked at "
        "2026-12-07T15:01:02Z; creates exited 255, dels running"
    ]
    assert leftovers({"default", "secrets-6414"}, namespaces, pods) == []


def test_a_run_that_left_a_namespace_is_not_a_pass() -> None:
    result = ConformanceResult(
        [SpecResult("x", "passed", 1)], 60.0, None, ["namespace a (Terminating)"]
    )
    assert not result.ok
    assert result.summary().endswith("; 1 of its namespaces not deleted after 300 s")

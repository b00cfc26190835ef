"""Upstream's conformance suite as the judge of a stack's cluster.

e2e.test and ginkgo are built from the same pinned kubernetes module as the
cluster (groundwork/build, component `conformance`); ginkgo runs e2e.test's
specs labelled `Conformance` in parallel processes against the cluster,
through the admin kubeconfig and the stack's endpoint, with the kubectl of
the same release. The result is read from ginkgo's JSON report: every spec
passed, failed or skipped, with its failure message.

Two selections:
- FOCUSED, what the test command runs: API machinery (quotas, watches,
  namespaces, CRDs, garbage collection, field validation, tables,
  discovery), ReplicaSets, ReplicationControllers, Jobs, StatefulSets, Pods,
  ConfigMaps, Secrets, Services and DNS (`[Conformance]` specs, neither
  slow nor serial);
- everything labelled Conformance (bench/conformance.py; about 450 specs).

Images: the lab's registry holds what can be built here (README: pause,
CoreDNS, agnhost and glibc-dns-testing, the last two on a Debian layer), and
stand-ins for what cannot: busybox (Debian's busybox-static 1.35, with
Debian's bash-static as sh, which passes every environment variable on), nginx
(Debian's nginx) and agnhost 2.55 (the agnhost built here). What a stand-in
does differently from upstream's image is listed in CANNOT_RUN_HERE, spec by
spec with the reason: the focused run leaves those specs out by name, the
full run counts them as failures.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundwork.build import BY_COMPONENT, build
from groundwork.kubeconfig import write_admin
from groundwork.pki import pki_dir
from groundwork.plan import build_plan
from groundwork.progress import Progress, silent
from groundwork.spec import ClusterSpec
from groundwork.verify.kube import KubeApi, KubeError, admin_credentials

# Areas of the focused run (ginkgo --focus regexes, ORed; the label filter
# keeps conformance specs only).
FOCUSED: tuple[str, ...] = (
    r"\[sig-api-machinery\] ResourceQuota ",
    r"\[sig-api-machinery\] Watchers ",
    r"\[sig-api-machinery\] Namespaces ",
    r"\[sig-api-machinery\] CustomResourceDefinition",
    r"\[sig-api-machinery\] Garbage collector ",
    r"\[sig-api-machinery\] FieldValidation ",
    r"\[sig-api-machinery\] Servers with support for Table",
    r"\[sig-api-machinery\] Discovery ",
    r"\[sig-apps\] ReplicaSet ",
    r"\[sig-apps\] ReplicationController ",
    r"\[sig-apps\] Job ",
    r"\[sig-node\] Pods ",
    r"\[sig-node\] ConfigMap ",
    r"\[sig-node\] Secrets ",
    r"\[sig-storage\] ConfigMap ",
    r"\[sig-storage\] Secrets ",
    r"\[sig-network\] Services ",
    r"\[sig-network\] DNS ",
    r"\[sig-apps\] StatefulSet ",
)
# Specs in the focused areas that cannot pass here, each with the reason
# (a substring of the spec's name -> why). The focused run skips them; the
# full run does not.
CANNOT_RUN_HERE: dict[str, str] = {}
# Conformance specs of the focused areas that take minutes each though not
# labelled Slow: the full run (bench/conformance.py) has them.
TOO_SLOW_FOR_THE_TEST_COMMAND: tuple[str, ...] = (
    "should contain environment variables for services",  # about 3 min
    "issue 500 podspec updates",  # about 5 min
    # About 4 min (245 s on 2026-12-07, 65% of the focused run's wall time
    # on 4 processes): it waits for the quota controller's full resync
    # (kube-controller-manager's --resource-quota-sync-period, 5 min).
    "should apply changes to a resourcequota status",
)
# Every conformance spec; the focused run leaves out the slow ones (minutes
# each) and those that must run alone.
LABEL_FILTER = "Conformance"
FOCUSED_LABEL_FILTER = "Conformance && !Slow && !Serial && !Disruptive"
DEFAULT_PROCESSES = 4
# The focused specs mostly wait (for the kubelet's sync of a volume, a
# rollout, a watch), so twice as many processes as the full run's shorten
# it on the lab's two cores: 265 s against 351 s with 4, 134 passed both
# times (2026-12-07).
FOCUSED_PROCESSES = 8
# e2e deletes each spec's namespace without waiting for it to go, so a run
# ends with dozens still terminating. The run waits for them (about 20 s on
# the lab): one that does not go holds a pod the cluster cannot finish, a
# fault of the cluster the next user of it would meet, so it fails the run.
CLEANUP_SECONDS = 300.0


class ConformanceError(Exception):
    """The suite could not be run (not a failed spec)."""


@dataclass(frozen=True)
class SpecResult:
    name: str
    state: str  # passed, failed, skipped, panicked, timedout, interrupted, pending
    seconds: float
    message: str = ""
    # The last lines the spec logged (ginkgo's captured writer), kept for a
    # failed spec: the message alone rarely says which step kept failing.
    log_tail: str = ""


# Enough of a failed spec's log to show its last retries and their errors.
LOG_TAIL_LINES = 40


@dataclass
class ConformanceResult:
    specs: list[SpecResult] = field(default_factory=list)
    seconds: float = 0.0
    report: Path | None = None
    # The namespaces the run made that were still there CLEANUP_SECONDS
    # after it, each with the pods holding it.
    leftovers: list[str] = field(default_factory=list)

    def count(self, *states: str) -> int:
        return sum(1 for s in self.specs if s.state in states)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> list[SpecResult]:
        return [s for s in self.specs if s.state not in ("passed", "skipped", "pending")]

    @property
    def skipped(self) -> int:
        return self.count("skipped", "pending")

    @property
    def ok(self) -> bool:
        return bool(self.specs) and not self.failed and self.passed > 0 and not self.leftovers

    def summary(self) -> str:
        left = (
            f"; {len(self.leftovers)} of its namespaces not deleted after {CLEANUP_SECONDS:.0f} s"
            if self.leftovers
            else ""
        )
        return (
            f"{self.passed} passed, {len(self.failed)} failed, {self.skipped} skipped "
            f"in {self.seconds:.0f} s{left}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": [
                {"name": s.name, "message": s.message, "log_tail": s.log_tail} for s in self.failed
            ],
            "skipped": self.skipped,
            "seconds": round(self.seconds, 1),
            "report": str(self.report) if self.report else None,
            "leftovers": self.leftovers,
        }


def spec_name(report: dict[str, Any]) -> str:
    texts = [*(report.get("ContainerHierarchyTexts") or []), report.get("LeafNodeText", "")]
    return " ".join(t for t in texts if t)


def parse_report(doc: Any) -> list[SpecResult]:
    """The `It` specs of a ginkgo JSON report (pure)."""
    out: list[SpecResult] = []
    for suite in doc or []:
        for spec in suite.get("SpecReports") or []:
            if spec.get("LeafNodeType") != "It":
                continue
            failure = spec.get("Failure") or {}
            runtime = spec.get("RunTime", 0) or 0
            log = str(spec.get("CapturedGinkgoWriterOutput") or "") if failure else ""
            out.append(
                SpecResult(
                    name=spec_name(spec),
                    state=str(spec.get("State", "unknown")),
                    seconds=runtime / 1e9,
                    message=str(failure.get("Message", "")).strip(),
                    log_tail="\n".join(log.rstrip().splitlines()[-LOG_TAIL_LINES:]),
                )
            )
    return out


def ginkgo_argv(
    ginkgo: Path,
    e2e_test: Path,
    kubeconfig: Path,
    kubectl: Path,
    report_dir: Path,
    focus: Sequence[str],
    skip: Sequence[str],
    processes: int,
    dry_run: bool = False,
    label_filter: str = LABEL_FILTER,
) -> list[str]:
    """ginkgo running the prebuilt e2e.test (pure)."""
    return [
        str(ginkgo),
        f"--procs={processes}",
        f"--label-filter={label_filter}",
        *(f"--focus={f}" for f in focus),
        *(f"--skip={s}" for s in skip),
        f"--json-report={report_dir / 'report.json'}",
        "--no-color",
        "--timeout=3h",
        *(["--dry-run"] if dry_run else []),
        str(e2e_test),
        "--",
        f"--kubeconfig={kubeconfig}",
        "--provider=skeleton",
        f"--kubectl-path={kubectl}",
        f"--report-dir={report_dir}",
        "--disable-log-dump",
    ]


def run(
    spec: ClusterSpec,
    focus: Sequence[str] = FOCUSED,
    skip: Sequence[str] = (),
    processes: int = DEFAULT_PROCESSES,
    report_dir: Path | None = None,
    dry_run: bool = False,
    progress: Progress = silent,
    timeout: float = 4 * 3600,
    label_filter: str = LABEL_FILTER,
) -> ConformanceResult:
    """Run the selected conformance specs against the stack's cluster."""
    suite = build(BY_COMPONENT["conformance"], progress)
    kubectl = build(BY_COMPONENT["kubernetes"], progress).path("kubectl")
    plan = build_plan(spec)
    kubeconfig = write_admin(spec, plan)
    directory = report_dir or Path(tempfile.mkdtemp(prefix="groundwork-conformance-"))
    directory.mkdir(parents=True, exist_ok=True)
    argv = ginkgo_argv(
        suite.path("ginkgo"),
        suite.path("e2e.test"),
        kubeconfig,
        kubectl,
        directory,
        focus,
        skip,
        processes,
        dry_run,
        label_filter,
    )
    api = KubeApi(plan.endpoint.url, admin_credentials(pki_dir(spec.name)))
    # A dry run makes no namespace: it has nothing to wait for.
    before: set[str] = set()
    if not dry_run:
        try:
            before = {n["metadata"]["name"] for n in api.items("/api/v1/namespaces")}
        except KubeError as err:
            raise ConformanceError(f"the cluster does not answer: {err}") from err
    progress(f"conformance: {len(focus) or 'all'} area(s), {processes} processes")
    started = time.monotonic()
    log = directory / "ginkgo.log"
    with log.open("wb") as out:
        try:
            proc = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise ConformanceError(
                f"the suite ran longer than {timeout:.0f} s (log: {log})"
            ) from err
    seconds = time.monotonic() - started
    report = directory / "report.json"
    if not report.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise ConformanceError(f"ginkgo exited {proc.returncode} without a report:\n{tail}")
    specs = parse_report(json.loads(report.read_text()))
    left: list[str] = []
    if not dry_run:
        progress("conformance: waiting for the suite's namespaces to be deleted")
        left = wait_for_cleanup(api, before, CLEANUP_SECONDS)
    return ConformanceResult(specs, seconds, report, left)


def describe_pod(pod: dict[str, Any]) -> str:
    """One line on a pod: where it runs, its phase, whether its deletion was
    asked, each container's state (pure)."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    states = []
    for c in status.get("containerStatuses") or []:
        state = c.get("state") or {}
        if "terminated" in state:
            states.append(f"{c.get('name')} exited {state['terminated'].get('exitCode')}")
        elif "waiting" in state:
            states.append(f"{c.get('name')} waiting ({state['waiting'].get('reason', '')})")
        else:
            states.append(f"{c.get('name')} running")
    deleting = (
        f", deletion asked at {meta['deletionTimestamp']}" if meta.get("deletionTimestamp") else ""
    )
    return (
        f"pod {meta.get('namespace')}/{meta.get('name')} on "
        f"{(pod.get('spec') or {}).get('nodeName') or '(no node)'}: "
        f"{status.get('phase', 'unknown')}{deleting}; {', '.join(states) or 'no containers'}"
    )


def leftovers(
    before: set[str], namespaces: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> list[str]:
    """The namespaces made since `before` that are still there, each with its
    phase and the pods in it (pure)."""
    out = []
    for ns in sorted(namespaces, key=lambda n: str(n["metadata"]["name"])):
        name = ns["metadata"]["name"]
        if name in before:
            continue
        phase = (ns.get("status") or {}).get("phase", "unknown")
        held = [describe_pod(p) for p in pods if p["metadata"].get("namespace") == name]
        out.append(f"namespace {name} ({phase})" + "".join(f"\n  {line}" for line in held))
    return out


def wait_for_cleanup(api: KubeApi, before: set[str], seconds: float) -> list[str]:
    """Wait until the namespaces made since `before` are gone: [] then, else
    what is left when `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            namespaces = api.items("/api/v1/namespaces")
            left = {n["metadata"]["name"] for n in namespaces} - before
            if not left:
                return []
            if time.monotonic() >= deadline:
                return leftovers(before, namespaces, api.items("/api/v1/pods"))
        except KubeError as err:
            if time.monotonic() >= deadline:
                return [f"the namespaces could not be listed: {err}"]
        time.sleep(2)


def focused_skip() -> tuple[str, ...]:
    """--skip regexes for the specs the focused run leaves out (by name)."""
    return tuple(re.escape(name) for name in (*CANNOT_RUN_HERE, *TOO_SLOW_FOR_THE_TEST_COMMAND))

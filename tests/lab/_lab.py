"""Helpers the lab test modules share: commands on a node, a converged lab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from groundwork.lab import ssh
from groundwork.lab.layout import layout
from groundwork.paths import state_dir
from groundwork.phases import UP, Context, Options, run
from groundwork.phases.addons import kubectl_process
from groundwork.progress import Progress, silent
from groundwork.runner import RunSummary
from groundwork.spec import ClusterSpec, Role
from groundwork.spec.model import VipEndpoint
from groundwork.verify import VerifyReport, verify


def on_node(
    spec: ClusterSpec, node: str, script: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a shell script on a lab node over SSH (pinned host key)."""
    argv = ssh.target(spec, node).argv([script])
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def must(spec: ClusterSpec, node: str, script: str, timeout: float = 120) -> str:
    """`on_node` that must succeed; its stdout."""
    out = on_node(spec, node, script, timeout)
    assert out.returncode == 0, f"{node}: {script}: {out.stdout}{out.stderr}"
    return out.stdout


def show(report: VerifyReport) -> str:
    """The report's failed checks as verify prints them (node, check, drift,
    message), and pytest's own error if it failed: what an assertion names."""
    console = Console(record=True, width=200)
    report.print_table(console, all_checks=False)
    return console.export_text() + report.error


def provision(
    spec: ClusterSpec,
    *,
    lab: bool = True,
    kubernetes: bool = True,
    replace_members: Sequence[str] = (),
    progress: Progress = silent,
    console: Console | None = None,
    full: bool = False,
) -> RunSummary:
    """The `up` pipeline without its checks (as `groundwork up --no-verify`):
    the playbook runs as one summary. A phase that failed before any playbook
    ran (lab, PKI, inventory) fails the test here, with its message."""
    options = Options(
        live=False,
        lab=lab,
        kubernetes=kubernetes,
        verify=False,
        replace_members=tuple(replace_members),
        full=full,
    )
    context = Context(spec, options, console or Console(width=160), progress)
    result = run(UP, context)
    summary = context.summary
    assert summary is not None, result.describe_failure()
    return summary


def converge(spec: ClusterSpec) -> None:
    """`up` without its checks; it must pass."""
    summary = provision(spec)
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status


def converge_and_verify(spec: ClusterSpec) -> None:
    """`up` (lab up, roles) then `verify`; both must pass."""
    converge(spec)
    report = verify(spec)
    assert report.ok, report.summary() + "\n" + show(report)


def kubectl_run(
    kubeconfig: Path, *args: str, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The kubectl built from the cluster's own module, as the stack's admin."""
    return kubectl_process(kubeconfig, list(args), timeout, stdin)


def k(kubeconfig: Path, *args: str, timeout: float = 120, stdin: str | None = None) -> str:
    """`kubectl_run` that must succeed; its stdout."""
    result = kubectl_run(kubeconfig, *args, timeout=timeout, stdin=stdin)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}{result.stdout}"
    return result.stdout


def k_json(kubeconfig: Path, *args: str) -> Any:
    return json.loads(k(kubeconfig, *args, "-o", "json"))


def podman(spec: ClusterSpec, *args: str) -> None:
    """podman on the lab's own storage (groundwork/lab/storage.py)."""
    argv = layout(spec).storage.podman(*args)
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


def container(spec: ClusterSpec, node: str) -> str:
    return layout(spec).node(node).container


def kill_with_its_monitor(spec: ClusterSpec, node: str) -> None:
    """SIGKILL to the machine's conmon, then to its init: as when every
    process of the host's session is killed at once. podman's record still
    says running (only conmon records an exit), and `lab up` must power the
    machine on anyway."""
    argv = layout(spec).storage.podman(
        "inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", container(spec, node)
    )
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout
    for pid in (int(p) for p in out.split()):
        os.kill(pid, signal.SIGKILL)


def record(spec: ClusterSpec, name: str, value: Any) -> None:
    """Add one measured figure to <state dir>/faults/measurements.json and print it."""
    directory = state_dir(spec.name) / "faults"
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / "measurements.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = value
    data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"[faults] {name} = {value}  ({path})")


def vip_holders(spec: ClusterSpec, vip: str) -> list[str]:
    holders = []
    for node in spec.nodes_with(Role.CONTROL_PLANE):
        out = on_node(spec, node.name, "ip -o -4 addr show")
        if out.returncode == 0 and f" {vip}/" in out.stdout:
            holders.append(node.name)
    return holders


def vip_of(spec: ClusterSpec) -> tuple[str, int]:
    endpoint = spec.control_plane.endpoint
    assert isinstance(endpoint, VipEndpoint), f"stack {spec.name}: the fault tests need a VIP"
    return str(endpoint.vip), endpoint.port


class ApiClient:
    """A client of the API through the control plane endpoint (the VIP), one
    request every 0.2 s while the `with` block runs: what a restart must not
    break. Each request is a new kubectl, so a new connection each time."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.requests = 0
        self.failures: list[str] = []
        # The longest time between two answered requests (seconds): what a
        # client that retries sees as the API's gap.
        self.longest_gap = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        answered = time.monotonic()
        while not self._stop.is_set():
            result = kubectl_run(
                self.kubeconfig, "get", "--raw=/api/v1/namespaces/default", timeout=60
            )
            self.requests += 1
            if result.returncode != 0:
                self.failures.append(result.stderr.strip())
            else:
                now = time.monotonic()
                self.longest_gap = max(self.longest_gap, now - answered)
                answered = now
            time.sleep(0.2)

    def __enter__(self) -> ApiClient:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=90)

    def assert_every_request_answered(self) -> None:
        assert self.requests > 10, "the client made too few requests to prove anything"
        failed = self.failures
        assert failed == [], f"{len(failed)} of {self.requests} requests failed: {failed[:3]}"
        print(f"{self.requests} requests through the endpoint, none failed")


def wait_for(what: str, check: Any, timeout: float = 180, every: float = 2.0) -> Any:
    """Poll `check()` until it returns something true; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")

"""Run the testinfra checks of tests/infra against a stack's nodes.

pytest runs in a subprocess; results are read back from its junit XML. The
nodes are checked in parallel inside that one process: before the first
check, threads gather every node's facts in one SSH round trip per node, start
the pod network probes on all nodes at once and ping between them (see
tests/infra/conftest.py); the checks then compare. On this 2-core host that
is 5x faster than pytest-xdist with a worker per node, whose interpreter
start-ups cost more CPU than the checks. `workers=N` still selects xdist
(`-n N --dist loadgroup`, one node's checks per worker) for large clusters. The spec is handed to
the checks as a stack file written from the validated spec, so a spec that
came from Pulumi config is checked exactly like one from a stack file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from groundwork.paths import data_dir, state_dir
from groundwork.spec import ClusterSpec
from groundwork.verify import connect
from groundwork.verify.report import VerifyReport, parse_junit_file

INFRA_DIR = data_dir() / "tests" / "infra"
STACK_ENV = "GROUNDWORK_VERIFY_STACK"
SSH_CONFIG_ENV = "GROUNDWORK_VERIFY_SSH_CONFIG"
KUBERNETES_ENV = "GROUNDWORK_VERIFY_KUBERNETES"
# The nodes whose checks run (`--limit`), comma-separated; all when unset.
LIMIT_ENV = "GROUNDWORK_VERIFY_NODES"


def stack_document(spec: ClusterSpec) -> dict[str, object]:
    """A stack file's content holding exactly this spec."""
    cluster = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {"config": {"groundwork:cluster": cluster}}


def write_stack_file(spec: ClusterSpec, directory: Path) -> Path:
    path = directory / f"Pulumi.{spec.name}.yaml"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(stack_document(spec), sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def worker_count(spec: ClusterSpec) -> int:
    """xdist workers for one process per node (plus one for cluster-wide checks)."""
    return len(spec.nodes) + 1


def pytest_argv(
    stack_file: Path, junit: Path, workers: int = 0, infra_dir: Path = INFRA_DIR
) -> list[str]:
    """workers=0: one process, nodes in parallel threads; N: pytest-xdist."""
    # Only the plugins the checks need: plugin autoload is off (see
    # pytest_env), which saves a second of imports.
    xdist = ["-p", "xdist.plugin", "-n", str(workers), "--dist", "loadgroup"] if workers else []
    return [
        sys.executable,
        "-m",
        "pytest",
        str(infra_dir),
        *xdist,
        f"--stack-file={stack_file}",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit1",
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "--tb=line",
        "-W",
        "ignore::pytest.PytestWarning",
    ]


def pytest_env(
    stack_file: Path, ssh_config: Path, kubernetes: bool = True, limit: tuple[str, ...] = ()
) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(LIMIT_ENV, None)
    if limit:
        env[LIMIT_ENV] = ",".join(limit)
    env.update(
        {
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            STACK_ENV: str(stack_file),
            SSH_CONFIG_ENV: str(ssh_config),
            KUBERNETES_ENV: "1" if kubernetes else "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def verify(
    spec: ClusterSpec,
    junit: Path | None = None,
    workers: int = 0,
    kubernetes: bool = True,
    limit: tuple[str, ...] = (),
) -> VerifyReport:
    """Check every node of the stack against its plan, and with `kubernetes`
    the Kubernetes layer (units, API, nodes, pods, pod network, Service and
    DNS, claims, certificates); never raises on a failed check. `limit`: only
    these nodes' checks, and the cluster's."""
    work = state_dir(spec.name) / "verify"
    work.mkdir(mode=0o700, parents=True, exist_ok=True)
    stack_file = write_stack_file(spec, work)
    known_hosts = connect.known_hosts_path(spec)
    if not known_hosts.exists():
        hint = "run `groundwork lab up`" if spec.lab is not None else "pin the nodes' host keys"
        return VerifyReport(
            stack=spec.name,
            error=f"no pinned host keys at {known_hosts}: {hint} (host keys are never "
            "accepted on first use)",
        )
    ssh_config = connect.write_ssh_config(spec)
    junit_path = junit if junit is not None else work / "junit.xml"
    junit_path.unlink(missing_ok=True)
    log = work / "pytest.log"
    argv = pytest_argv(stack_file, junit_path, workers)
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.run(
            argv,
            env=pytest_env(stack_file, ssh_config, kubernetes, limit),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data_dir(),
            check=False,
        )
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1) or not junit_path.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        return VerifyReport(
            stack=spec.name,
            seconds=seconds,
            error=f"pytest exited {proc.returncode} (log: {log})\n" + "\n".join(tail),
        )
    report = parse_junit_file(junit_path, spec.name)
    report.seconds = seconds
    if proc.returncode == 1 and report.ok:
        report.error = f"pytest reported a failure the junit file does not show (log: {log})"
    return report

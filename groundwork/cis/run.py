"""Run kube-bench on every node of a stack over its SSH (pinned host keys).

kube-bench and its cfg/ go to each node as one tar on ssh's stdin, into a
private temporary directory that is removed when the run ends; kube-bench
runs there as root with the node's targets and writes its JSON report,
which comes back on stdout. The nodes run in parallel.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from groundwork.build import BY_COMPONENT, build
from groundwork.cis.benchmark import node_targets, skip_ids
from groundwork.cis.report import CisReport, NodeReport, ReportError, parse_output
from groundwork.cis.source import COMPONENT, NodeFiles, for_install, tarball
from groundwork.progress import Progress, silent
from groundwork.spec import ClusterSpec

# kubectl for the cluster-wide checks, as the control_plane role installs it.
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
NODE_TIMEOUT = 300.0


def kube_bench_argv(benchmark: str, targets: tuple[str, ...], skip: list[str]) -> list[str]:
    """kube-bench in the directory the tar unpacks to (pure)."""
    argv = [
        f"./{COMPONENT}",
        "run",
        "--config-dir=cfg",
        "--config=cfg/config.yaml",
        f"--benchmark={benchmark}",
        f"--targets={','.join(targets)}",
        "--json",
        "--include-test-output",
        "--outputfile=report.json",
    ]
    if skip:
        argv.append(f"--skip={','.join(skip)}")
    return argv


def remote_script(argv: list[str], kubeconfig: str = "") -> str:
    """The shell script a node runs: unpack stdin into a private directory,
    run kube-bench there, print its report, remove the directory (pure).
    kube-bench's own log goes to stderr only when it wrote no report."""
    env = f"KUBECONFIG={shlex.quote(kubeconfig)} " if kubeconfig else ""
    return "\n".join(
        [
            "set -eu",
            "umask 077",
            "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "d=$(mktemp -d /tmp/groundwork-cis.XXXXXX)",
            "trap 'rm -rf \"$d\"' EXIT",
            'tar -xzf - -C "$d"',
            'cd "$d"',
            f"{env}{shlex.join(argv)} >log 2>&1 || true",
            "if test -s report.json; then cat report.json; echo; "
            "else tail -n 30 log >&2; exit 3; fi",
        ]
    )


def ssh_argv(ssh_config: Path, address: str, user: str, script: str) -> list[str]:
    """ssh running `script` as root on a node (sudo for another user) (pure)."""
    command = ["sh", "-c", script]
    if user != "root":
        command = ["sudo", "-n", *command]
    return ["ssh", "-F", str(ssh_config), address, "--", shlex.join(command)]


def run_node(
    spec: ClusterSpec, node: str, files: NodeFiles, bundle: bytes, ssh_config: Path
) -> NodeReport:
    found = next(n for n in spec.nodes if n.name == node)
    targets = node_targets(spec, node)
    argv = kube_bench_argv(files.benchmark, targets, skip_ids(targets, files.checks))
    kubeconfig = ADMIN_KUBECONFIG if "policies" in targets else ""
    command = ssh_argv(
        ssh_config, str(found.address), found.ssh.user, remote_script(argv, kubeconfig)
    )
    started = time.monotonic()
    try:
        out = subprocess.run(
            command, input=bundle, capture_output=True, timeout=NODE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return NodeReport(node, targets, error=f"no report within {NODE_TIMEOUT:.0f} s")
    seconds = time.monotonic() - started
    stdout = out.stdout.decode(errors="replace")
    if out.returncode != 0:
        lines = out.stderr.decode(errors="replace").strip().splitlines()
        detail = " | ".join(lines[-5:]) or f"ssh exited {out.returncode}"
        return NodeReport(node, targets, seconds=seconds, error=f"kube-bench: {detail}")
    try:
        findings = parse_output(stdout)
    except ReportError as err:
        return NodeReport(node, targets, seconds=seconds, error=str(err))
    return NodeReport(node, targets, tuple(findings), seconds)


def kube_bench_version(path: Path) -> str:
    out = subprocess.run(
        [str(path), "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return out.stdout.strip() or "unknown"


def run(spec: ClusterSpec, limit: tuple[str, ...] = (), progress: Progress = silent) -> CisReport:
    """kube-bench on every node (or those of `limit`), in parallel."""
    from groundwork.verify import connect

    started = time.monotonic()
    built = build(BY_COMPONENT[COMPONENT], progress)
    files = for_install(spec.kubernetes.version)
    progress(
        f"cis: {files.benchmark} (kube-bench's benchmark for Kubernetes {files.mapped_from}, "
        f"the newest it has; the cluster runs {spec.kubernetes.version})"
    )
    bundle = tarball(built, files)
    ssh_config = connect.write_ssh_config(spec)
    nodes = [n.name for n in spec.nodes if not limit or n.name in limit]
    with ThreadPoolExecutor(max_workers=min(len(nodes), 16) or 1) as pool:
        futures = [pool.submit(run_node, spec, n, files, bundle, ssh_config) for n in nodes]
        reports = tuple(f.result() for f in futures)
    for report in reports:
        progress(f"cis: {report.node} done in {report.seconds:.1f} s")
    return CisReport(
        spec.name,
        files.benchmark,
        files.mapped_from,
        kube_bench_version(built.path(COMPONENT)),
        reports,
        time.monotonic() - started,
    )

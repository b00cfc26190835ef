"""`pulumi up -s lab` for real: the pinned CLI built here, Groundwork's
language host, the dynamic providers over SSH (Ansible, testinfra) and the
Kubernetes provider against the lab's API, with the stack's state and
passphrase in its state directory (`groundwork pulumi`).

It runs after every lab module (tests/pulumi_up sorts after tests/lab): the
test command builds the Pulumi CLI and the Kubernetes provider in the
background meanwhile (scripts/test.sh), and the first fixture waits for that
build. One module, in order: the lab is handed from `groundwork up` to Pulumi
(destroy first: one stack, one front door), `pulumi up` brings the whole
cluster up, a preview expects no change and one changed replica count
previews exactly one update, the kubeconfig output works with kubectl,
`pulumi refresh` reports the drift verify finds and the next `pulumi up`
heals it, no secret is in plaintext in the state or the logs, the other
door is refused, and `pulumi destroy` resets the nodes behind the same
SSH check as `groundwork destroy`. The next lab module's `up` claims the
stack back.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import yaml

from groundwork import door, lab
from groundwork.build import PULUMI_RECIPES, build_all
from groundwork.inventory.fingerprint import provisioning_hash
from groundwork.lab import ssh
from groundwork.paths import PROJECT_ROOT, state_dir
from groundwork.phases import DESTROY, UP, Context, Options, run
from groundwork.phases.addons import kubectl
from groundwork.pulumi import workspace
from groundwork.pulumi.nodes import NodeVerificationProvider, VerificationError, cluster_value
from groundwork.spec import ClusterSpec, Role, load_stack
from groundwork.verify.expect import CONTAINERD_CONFIG

pytestmark = pytest.mark.lab

STACK = "lab"


def groundwork_pulumi(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    argv = [str(Path(sys.executable).parent / "groundwork"), "pulumi", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def must_pulumi(*args: str, timeout: float = 900) -> str:
    done = groundwork_pulumi(*args, timeout=timeout)
    assert done.returncode == 0, (
        f"pulumi {' '.join(args)}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


# Where a stack's secrets are meant to live, 0600 (the PKI, the passphrase,
# the kubeconfig, the lab's SSH key): the scans look everywhere else.
SECRET_HOMES = ("pki", "secrets", "lab/ssh")


def secret_needles(stack: str) -> dict[str, str]:
    """Fragments that only a leaked secret would contain: each private key's
    PEM body lines and a piece of its base64 (a kubeconfig's client-key-data),
    the Pulumi passphrase, the encryption-at-rest key (pure reading)."""
    base = state_dir(stack)
    needles: dict[str, str] = {}
    for key in sorted((base / "pki").rglob("*.key")):
        pem = key.read_text()
        name = str(key.relative_to(base))
        for line in pem.splitlines():
            if len(line) >= 40 and not line.startswith("-----"):
                needles[line] = name
        needles[base64.b64encode(pem.encode()).decode()[60:120]] = f"{name} (base64)"
    for name in ("pulumi-passphrase", "encryption-key"):
        value = (base / "secrets" / name).read_text().strip()
        needles[value] = f"secrets/{name}"
    return needles


def leaks(text: str, needles: dict[str, str]) -> list[str]:
    return sorted({source for needle, source in needles.items() if needle in text})


@contextmanager
def process_arguments() -> Iterator[set[str]]:
    """Every process's command line seen on this host while the block runs
    (/proc sampled every 0.1 s)."""
    seen: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                with suppress(OSError):  # the process ended meanwhile
                    seen.add(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()


def on_node(spec: ClusterSpec, node: str, script: str) -> subprocess.CompletedProcess[str]:
    argv = ssh.target(spec, node).argv([script])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def handed_to_pulumi() -> Iterator[ClusterSpec]:
    """The Pulumi CLI and provider built (waiting for the test command's
    background build); the lab's machines up, reset by the door that drove
    them, unclaimed."""
    build_all(PULUMI_RECIPES)
    spec = load_stack(STACK)
    assert lab.up(spec).up, "the lab did not come up"
    result = run(DESTROY, Context(spec, Options(live=False)))
    if not result.ok and "driven by `pulumi" in result.describe_failure():
        must_pulumi("destroy", "-s", STACK, "--yes")  # a run before this one left it to Pulumi
    else:
        assert result.ok, result.describe_failure()
    assert door.holder(STACK) is None
    yield spec
    held = door.holder(STACK)
    if held is not None and held[0] == "pulumi":  # a test failed before the destroy
        groundwork_pulumi("destroy", "-s", STACK, "--yes")


def test_pulumi_up_brings_up_the_whole_cluster(handed_to_pulumi: ClusterSpec) -> None:
    spec = handed_to_pulumi
    with process_arguments() as arguments:
        out = must_pulumi("up", "-s", STACK, "--yes", "--skip-preview")
    assert "kubernetes:apps/v1:StatefulSet" in out, out[-3000:]
    # No secret in any process's arguments while it ran (Ansible, ssh, the
    # CLI, its plugins, kubectl), nor in what it printed.
    needles = secret_needles(STACK)
    assert len(arguments) > 50, "the sampler saw too few processes to mean anything"
    assert not leaks("\n".join(arguments), needles)
    assert not leaks(out, needles)
    held = door.holder(STACK)
    assert held is not None and held[0] == "pulumi"
    # The passphrase never reaches argv: it is a 0600 file.
    passphrase = workspace.passphrase_file(STACK)
    assert passphrase.stat().st_mode & 0o777 == 0o600
    # The repository's stack file stays as committed: the salt is in the copy.
    assert "encryptionsalt" not in (PROJECT_ROOT / "stacks" / "Pulumi.lab.yaml").read_text()
    assert "encryptionsalt" in workspace.config_file(STACK).read_text()

    kubeconfig = Path(os.environ.get("TMPDIR", "/tmp")) / "groundwork-pulumi-door.kubeconfig"
    kubeconfig.write_text(
        must_pulumi("stack", "output", "-s", STACK, "kubeconfig", "--show-secrets")
    )
    kubeconfig.chmod(0o600)
    nodes = subprocess.run(
        [kubectl(), f"--kubeconfig={kubeconfig}", "get", "nodes", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    ready = {
        item["metadata"]["name"]
        for item in json.loads(nodes.stdout)["items"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in item["status"]["conditions"])
    }
    assert ready == {n.name for n in spec.nodes}
    kubeconfig.unlink()


def test_a_second_preview_expects_no_change_and_one_replica_is_one_update(
    handed_to_pulumi: ClusterSpec, tmp_path: Path
) -> None:
    must_pulumi("preview", "-s", STACK, "--expect-no-changes")
    salted = yaml.safe_load(workspace.config_file(STACK).read_text())
    workloads = salted["config"]["groundwork:cluster"]["workloads"]
    workloads[0]["replicas"] = workloads[0]["replicas"] + 1
    changed = tmp_path / "Pulumi.lab.yaml"
    changed.write_text(yaml.safe_dump(salted, sort_keys=False))
    out = must_pulumi("preview", "-s", STACK, "--config-file", str(changed), "--json")
    preview = json.loads(out)
    changed_steps = [
        (step["urn"].split("::")[-2].split("$")[-1], step["urn"].rsplit("::", 1)[-1])
        for step in preview["steps"]
        if step["op"] != "same"
    ]
    # The nodes are not touched: only the Kubernetes provider updates one object.
    assert changed_steps == [
        ("kubernetes:apps/v1:StatefulSet", "lab-workloads-objects:default/echo")
    ]
    assert preview["changeSummary"].get("update") == 1


def node_provisioning_outputs() -> dict[str, object]:
    state = json.loads(must_pulumi("stack", "export", "-s", STACK))
    (resource,) = [
        r
        for r in state["deployment"]["resources"]
        if r["type"] == "pulumi-python:dynamic/groundwork:NodeProvisioning"
    ]
    outputs: dict[str, object] = resource["outputs"]
    return outputs


def test_refresh_reports_the_drift_verify_finds_and_up_heals_it(
    handed_to_pulumi: ClusterSpec,
) -> None:
    spec = handed_to_pulumi
    worker = spec.nodes_with(Role.WORKER)[0].name
    # Not valid TOML any more (containerd keeps running on what it read).
    broken = on_node(spec, worker, f"printf '[plugins\\nbroken = \\n' >> {CONTAINERD_CONFIG}")
    assert broken.returncode == 0, broken.stderr
    must_pulumi("refresh", "-s", STACK, "--yes")
    drift = node_provisioning_outputs().get("drift")
    assert isinstance(drift, list) and drift, drift
    assert all(item.startswith(f"{worker}: ") for item in drift), drift
    # The next up provisions the nodes again, which restores the file.
    must_pulumi("up", "-s", STACK, "--yes", "--skip-preview")
    healed = on_node(spec, worker, f"grep -c '^broken = ' {CONTAINERD_CONFIG}")
    assert healed.stdout.strip() == "0", healed.stdout
    assert not node_provisioning_outputs().get("drift")
    must_pulumi("preview", "-s", STACK, "--expect-no-changes")


# --- the CI examples of docs/ci, run as written ------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def expand(text: str, values: dict[str, str]) -> str:
    """GitHub's `${{ ... }}` expressions replaced by their values; unknown ones
    fail the test (a workflow that needs something this runner lacks)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no value for ${{{{ {name} }}}}"
        return values[name]

    return EXPRESSION.sub(one, text)


def run_job(workflow: str, job: str, checkout: Path, values: dict[str, str]) -> str:
    """Run a job's `run:` steps in order, as a runner would: bash -e, the
    workflow's and the job's env (expressions expanded), in the checkout.
    `uses:` steps are the runner's own (checkout, setup-python, artifacts)."""
    document = yaml.safe_load((PROJECT_ROOT / "docs" / "ci" / "github" / workflow).read_text())
    spec = document["jobs"][job]
    env = {
        k: expand(str(v), values)
        for k, v in {**document.get("env", {}), **spec.get("env", {})}.items()
    }
    runner_temp = checkout.parent / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    base = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": os.environ["HOME"],
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(runner_temp / "output"),
        "GITHUB_PATH": str(runner_temp / "path"),
        # This runner's state directory is the lab's (the workflows name a
        # dedicated one for a real runner).
        "GROUNDWORK_STATE_DIR": str(state_dir(STACK).parent),
    }
    printed = []
    for step in spec["steps"]:
        if "run" not in step:
            continue
        step_env = {k: expand(str(v), values) for k, v in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", expand(step["run"], values)],
            cwd=checkout,
            env={**base, **env, "GROUNDWORK_STATE_DIR": base["GROUNDWORK_STATE_DIR"], **step_env},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        printed.append(done.stdout)
        assert done.returncode == 0, (
            f"{workflow} {job}: step {step.get('name', step.get('id'))!r} failed:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return "\n".join(printed)


def test_the_ci_examples_run_as_written_on_the_lab(
    handed_to_pulumi: ClusterSpec, tmp_path: Path
) -> None:
    """validate and preview (pull-request.yml) and deploy (deploy.yml) for the
    lab stack, on a checkout of the working tree with a venv of its own."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        source = PROJECT_ROOT / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    # The workflows install the Groundwork a user's requirements.txt pins
    # (docs/ci/requirements.txt): here, a wheel of this very copy.
    (checkout / "requirements.txt").write_text(f"groundwork @ {checkout.as_uri()}\n")
    _, known_hosts = ssh.key_paths(STACK)
    values = {
        "matrix.stack": STACK,
        "vars.PULUMI_BACKEND_URL": workspace.backend_dir(STACK).as_uri(),
        "vars.PULUMI_ORG": "",
        "secrets.PULUMI_ACCESS_TOKEN": "",
        "secrets.PULUMI_CONFIG_PASSPHRASE": workspace.passphrase_file(STACK).read_text().strip(),
        # The lab's machines take the lab's own key (cluster.nodes[].ssh.key: lab).
        "secrets.SSH_PRIVATE_KEY": "unused by the lab stack",
        "vars.SSH_KNOWN_HOSTS": known_hosts.read_text(),
    }
    run_job("pull-request.yml", "validate", checkout, values)
    previewed = run_job("pull-request.yml", "preview", checkout, values)
    assert resources_summary(previewed) == ["unchanged"], previewed[-2000:]
    deployed = run_job("deploy.yml", "up", checkout, values)
    assert resources_summary(deployed) == ["unchanged"], deployed[-2000:]


def resources_summary(output: str) -> list[str]:
    """The kinds of change in the engine's last "Resources:" block, e.g.
    ["unchanged"] or ["to update", "unchanged"] (the counts left out)."""
    kinds: list[str] = []
    for line in output.rsplit("Resources:", 1)[-1].splitlines()[1:]:
        found = re.match(r"^\s+[~+\-]?\s*\d+ (.+)$", line)
        if found is None:
            break
        kinds.append(found.group(1).strip())
    return kinds


def test_no_secret_in_plaintext_in_the_state_its_backups_or_the_logs(
    handed_to_pulumi: ClusterSpec,
) -> None:
    base = state_dir(STACK)
    needles = secret_needles(STACK)
    scanned = 0
    found: dict[str, list[str]] = {}
    for path in base.rglob("*"):
        relative = path.relative_to(base)
        if not path.is_file() or any(relative.is_relative_to(h) for h in SECRET_HOMES):
            continue
        scanned += 1
        text = path.read_bytes().decode(errors="replace")
        if "PRIVATE KEY-----" in text:
            found.setdefault(str(relative), []).append("a PEM private key")
        for source in leaks(text, needles):
            found.setdefault(str(relative), []).append(source)
    # The Pulumi state, its backups and history, the runs' logs are among them.
    assert any((base / "pulumi" / ".pulumi" / "backups").rglob("*.json"))
    assert scanned > 100, scanned
    assert not found, found


def test_the_other_door_is_refused_naming_the_one_that_drives(
    handed_to_pulumi: ClusterSpec,
) -> None:
    result = run(UP, Context(handed_to_pulumi, Options(live=False)))
    assert not result.ok
    failure = result.describe_failure()
    assert "driven by `pulumi up -s lab`" in failure and "pulumi destroy -s lab" in failure


def test_pulumi_destroy_resets_the_nodes_and_checks_ssh(handed_to_pulumi: ClusterSpec) -> None:
    spec = handed_to_pulumi
    out = must_pulumi("destroy", "-s", STACK, "--yes")
    assert "SSH after reset" in out and "new SSH session ok" in out, out[-3000:]
    assert door.holder(STACK) is None
    etcd_node = spec.nodes_with(Role.ETCD)[0].name
    after = on_node(spec, etcd_node, "systemctl is-active etcd; test -e /var/lib/etcd/member")
    assert after.returncode != 0 and "inactive" in after.stdout, after.stdout + after.stderr
    # The verification resource fails on such nodes, naming etcd.
    checks = {"cluster": cluster_value(spec), "provisioningHash": provisioning_hash(spec)}
    with pytest.raises(VerificationError, match="etcd"):
        NodeVerificationProvider().create(checks)

"""destroy: who must consent, the SSH check after the reset, the result, and
whether playbooks/reset.yml removes everything the roles install."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from groundwork.cli import main
from groundwork.paths import PROJECT_ROOT
from groundwork.phases.destroy import (
    Consent,
    DestroyResult,
    SshCheck,
    consent,
    ssh_check_argv,
    ssh_check_from,
)
from groundwork.runner import Failure, HostState, RunSummary
from groundwork.spec import load_stack

ROLES = PROJECT_ROOT / "roles"
RESET = PROJECT_ROOT / "playbooks" / "reset.yml"


def _summary(*, failures: tuple[Failure, ...] = (), rc: int = 0) -> RunSummary:
    hosts = (HostState("cp1", ok=3, done=True, failed=len(failures)),)
    status = "successful" if rc == 0 else "failed"
    return RunSummary("reset.yml", status, rc, hosts, failures, "/tmp/a", 1.0)


@pytest.mark.parametrize(
    ("stack", "yes", "interactive", "expected"),
    [
        ("lab", False, False, Consent.PROCEED),  # disposable machines: scripts just run
        ("prod", True, False, Consent.PROCEED),
        ("prod", False, True, Consent.ASK),
        ("prod", False, False, Consent.REFUSE),  # CI without --yes never destroys real machines
        ("dev", False, False, Consent.REFUSE),
    ],
)
def test_consent(stack: str, yes: bool, interactive: bool, expected: Consent) -> None:
    assert consent(load_stack(stack), yes, interactive) is expected


def test_destroy_of_a_real_stack_without_yes_touches_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # pytest's stdin is not a terminal: no question can be asked, so no.
    assert main(["destroy", "--stack", "prod"]) == 1
    err = capsys.readouterr().err
    assert "not destroying stack prod" in err
    assert "--yes" in err


def test_rebuild_of_a_real_stack_without_yes_touches_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rebuild", "--stack", "dev"]) == 1
    assert "not rebuilding stack dev" in capsys.readouterr().err


def test_help_lists_destroy_and_rebuild(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "destroy" in out
    assert "rebuild" in out


def test_ssh_check_opens_a_new_session() -> None:
    argv = ssh_check_argv(Path("/s/ssh_config"), "10.0.0.1")
    assert argv[:3] == ["ssh", "-F", "/s/ssh_config"]
    # A shared master connection opened before the reset would prove nothing.
    assert "ControlMaster=no" in argv
    assert "ControlPath=none" in argv
    assert argv[-2:] == ["10.0.0.1", "true"]


def test_ssh_check_verdicts() -> None:
    assert ssh_check_from("cp1", "10.0.0.1", 0, "").ok
    timeout = ssh_check_from("cp1", "10.0.0.1", None, "")
    assert not timeout.ok
    assert "no answer" in timeout.detail
    refused = ssh_check_from(
        "w1", "10.0.0.2", 255, "\nssh: connect to host 10.0.0.2 port 22: Connection refused\n"
    )
    assert (refused.ok, refused.detail) == (
        False,
        "ssh: connect to host 10.0.0.2 port 22: Connection refused",
    )
    assert ssh_check_from("w1", "10.0.0.2", 1, "").detail == "ssh exited 1"


def test_result_needs_the_run_and_every_ssh_check() -> None:
    good = (SshCheck("cp1", "10.0.0.1", True, "ok"),)
    assert DestroyResult("s", _summary(), good).ok
    assert DestroyResult("s", _summary(), good).problems() == []
    # No SSH check ran: nothing proves SSH survived.
    assert not DestroyResult("s", _summary(), ()).ok
    cut = (*good, SshCheck("w1", "10.0.0.2", False, "Connection refused"))
    result = DestroyResult("s", _summary(), cut)
    assert not result.ok
    assert result.problems() == ["w1: SSH after reset: Connection refused"]


def test_result_names_host_role_and_task_of_a_failed_reset() -> None:
    failure = Failure("w2", "", "Remove the CNI bridge", "exit 1: Cannot find device")
    result = DestroyResult(
        "s", _summary(failures=(failure,), rc=2), (SshCheck("w2", "a", True, ""),)
    )
    assert not result.ok
    assert result.problems() == [
        "w2: failed at task 'Remove the CNI bridge': exit 1: Cannot find device"
    ]


def test_nothing_to_reset_is_ok_only_with_a_reason() -> None:
    assert DestroyResult("s", None, nothing_to_do="the lab is not running").ok
    assert not DestroyResult("s", None).ok


# --- reset.yml against the roles -------------------------------------------------

# What the roles write and reset.yml keeps, on purpose (each with its reason).
KEPT = {
    "/etc/hosts": "a blockinfile block: reset removes the block, not the file",
    "/etc/fstab": "swap lines are commented out, not owned",
    "/etc/chrony/chrony.conf": "chrony's package conffile; chrony keeps running",
    "/etc/haproxy/haproxy.cfg": "haproxy's package conffile; haproxy is stopped and disabled",
    "/etc/bird/bird.conf": "bird2's package conffile; BIRD is stopped and disabled",
    "/etc/cni/net.d": "the CNI packages' directory (our conflist in it is removed)",
    "/opt/cni": "the usual parent of CNI plugins, which may hold others' (our link is removed)",
}

# Roles of site.yml and kubernetes.yml.
ROLE_NAMES = (
    "common",
    "container_runtime",
    "etcd",
    "apiserver_lb",
    "network",
    "control_plane",
    "node",
)
PATH_MODULES = {
    "ansible.builtin.template": "dest",
    "ansible.builtin.copy": "dest",
    "ansible.builtin.get_url": "dest",
    "ansible.builtin.file": "path",
    "ansible.builtin.replace": "path",
    "ansible.builtin.blockinfile": "path",
}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["dirname"] = os.path.dirname
    env.filters["basename"] = os.path.basename
    return env


def _defaults(role: str) -> dict[str, Any]:
    path = ROLES / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text()) or {}


def _render(env: jinja2.Environment, text: str, variables: dict[str, Any]) -> str | None:
    """Resolve a role path from its defaults (a few passes: defaults refer to
    defaults); None when it depends on the inventory or on facts."""
    for _ in range(4):
        if "{{" not in text:
            return text
        try:
            text = env.from_string(text).render(variables)
        except jinja2.UndefinedError:
            return None
    return None


def _tasks(role: str) -> Iterator[dict[str, Any]]:
    for path in sorted((ROLES / role / "tasks").glob("*.yml")):
        yield from yaml.safe_load(path.read_text()) or []
    handlers = ROLES / role / "handlers" / "main.yml"
    if handlers.exists():
        yield from yaml.safe_load(handlers.read_text()) or []


def _task_paths(task: dict[str, Any]) -> Iterator[str]:
    """The unrendered paths one task writes."""
    for module, key in PATH_MODULES.items():
        args = task.get(module)
        if isinstance(args, dict) and key in args and args.get("state") != "absent":
            yield str(args[key])
    # The roles' own module: many directories, links and files in one task.
    for module in ("groundwork_files", "groundwork.files"):
        args = task.get(module)
        if not isinstance(args, dict):
            continue
        for kind, key in (("directories", "path"), ("links", "dest"), ("files", "dest")):
            entries = args.get(kind)
            if isinstance(entries, list):
                yield from (str(e[key]) for e in entries if isinstance(e, dict) and key in e)


def _loop_items(env: jinja2.Environment, loop: Any, variables: dict[str, Any]) -> list[Any]:
    """A task's loop items: a literal list, or an expression over the defaults.
    An expression needing the inventory yields an undefined item (paths using
    it are not resolved)."""
    if isinstance(loop, list):
        return loop
    if loop is None:
        return [None]
    expression = str(loop).strip().removeprefix("{{").removesuffix("}}")
    try:
        value = env.compile_expression(expression)(**variables)
    except (jinja2.UndefinedError, jinja2.TemplateError):
        return [jinja2.StrictUndefined(name="item")]
    return list(value) if isinstance(value, list) else [jinja2.StrictUndefined(name="item")]


def _written_paths() -> dict[str, str]:
    """Absolute paths the roles create or change -> the role and task that does."""
    env = _env()
    found: dict[str, str] = {}
    for role in ROLE_NAMES:
        variables = _defaults(role)
        for task in _tasks(role):
            items = _loop_items(env, task.get("loop"), variables)
            for raw in _task_paths(task):
                for item in items:
                    path = _render(env, raw, {**variables, "item": item})
                    if path is not None and path.startswith("/"):
                        found.setdefault(path, f"{role}: {task.get('name')}")
    return found


def _reset_paths() -> list[str]:
    plays = yaml.safe_load(RESET.read_text())
    removed: list[str] = []
    for task in plays[0]["tasks"]:
        args = task.get("ansible.builtin.file")
        if isinstance(args, dict) and args.get("state") == "absent":
            loop = task.get("loop")
            if isinstance(loop, list):
                removed += [str(p) for p in loop]
            elif not str(args["path"]).startswith("{{"):
                removed.append(str(args["path"]))
    return removed


def test_the_role_paths_are_found() -> None:
    # The analysis below proves nothing if it finds nothing: the files every
    # stack gets must be among the paths it resolves.
    written = _written_paths()
    for path in (
        "/etc/containerd/config.toml",
        "/etc/etcd/etcd.conf.yml",
        "/etc/etcd/pki/server.key",
        "/etc/systemd/system/etcd.service",
        "/etc/cni/net.d/10-groundwork.conflist",
        "/etc/keepalived/keepalived.conf",
        "/etc/kubernetes/encryption-config.yaml",
        "/var/lib/kubelet/config.yaml",
    ):
        assert path in written, sorted(written)


def test_reset_removes_every_file_the_roles_write() -> None:
    removed = _reset_paths()

    def covered(path: str) -> bool:
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in removed)

    missed = {
        path: where
        for path, where in _written_paths().items()
        if not covered(path) and path not in KEPT and not _is_parent_of_removed(path, removed)
    }
    assert missed == {}, "reset.yml leaves these behind (add them, or to KEPT with a reason)"


def _is_parent_of_removed(path: str, removed: list[str]) -> bool:
    """A shared directory (/etc/systemd/system, /usr/local/bin) whose files we remove."""
    return any(r.startswith(path.rstrip("/") + "/") for r in removed) and path in {
        "/usr/local/bin",
        "/usr/local/sbin",
        "/etc/systemd/system",
    }


def test_reset_removes_what_verify_leaves_on_the_nodes() -> None:
    probe = (PROJECT_ROOT / "tests" / "infra" / "_probe.py").read_text()
    rootfs = re.search(r'^ROOTFS = "(.+)"$', probe, re.MULTILINE)
    namespace = re.search(r'^NAMESPACE = "(.+)"$', probe, re.MULTILINE)
    assert rootfs and namespace
    removed = _reset_paths()
    assert any(rootfs.group(1).startswith(r) for r in removed)
    assert namespace.group(1) in RESET.read_text()


def test_reset_never_flushes_the_firewall_or_touches_sshd() -> None:
    tasks = yaml.safe_load(RESET.read_text())[0]["tasks"]
    # The tasks, not the comments (which say what is never done).
    text = yaml.safe_dump(tasks)
    for forbidden in ("iptables", "flush ruleset", "nft flush", "sshd", "ssh.service", "ufw"):
        assert forbidden not in text
    names = [t.get("name", "") for t in tasks]
    # The last task opens a new SSH connection: a reset that cut SSH fails, naming the host.
    assert "ansible.builtin.wait_for_connection" in tasks[-1]
    assert names[-2:] == ["Close the SSH connection", "Prove a new SSH connection still works"]


def test_reset_stops_each_service_before_what_it_needs() -> None:
    """The API server after its clients and before etcd: stopped after etcd,
    its graceful shutdown hangs until systemd kills it (90 s per node)."""
    order = yaml.safe_load(RESET.read_text())[0]["vars"]["reset_stop_order"]
    position = {unit.removesuffix(".service"): i for i, unit in enumerate(order)}
    for client in ("kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager"):
        assert position[client] < position["kube-apiserver"]
    assert position["kube-apiserver"] < position["etcd"]
    assert max(position[u] for u in ("kubelet", "kube-proxy", "etcd")) < position["containerd"]
    # Every unit the roles install is stopped, or the timer that starts it.
    units = {p.rsplit("/", 1)[1] for p in _reset_paths() if p.endswith((".service", ".timer"))}
    for unit in units:
        assert {unit, unit.replace(".service", ".timer")} & set(order), unit

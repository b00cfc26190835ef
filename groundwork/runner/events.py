"""Fold ansible-runner events into per-host state and a final summary (pure).

Events are the dicts ansible-runner hands to `event_handler`; only their
`event` name and `event_data` are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Task results worth keeping as a failure's explanation, in order of preference.
_MESSAGE_KEYS = ("msg", "stderr", "reason", "stdout", "module_stderr", "module_stdout")
_MAX_MESSAGE = 600
# ansible.builtin.command's msg for any non-zero exit.
_COMMAND_FAILED = "non-zero return code"
# ...and for a command it skipped in check mode: a change it would make.
COMMAND_WOULD_RUN = "Command would have run if not in check mode"

# The modules through which the roles read a node, each returning a digest
# of what it saw (plugins/module_utils/groundwork_observe.py).
OBSERVING = ("groundwork_probe", "groundwork_files")
# Tasks that report ok without reading the node's state for the roles: an
# include decides on variables, the pre-flight judges the node before changes.
NOT_OBSERVING = ("include_role", "include_tasks", "groundwork_preflight")


@dataclass(frozen=True)
class Observation:
    """One observing task's read of a node: the module, the arguments that
    name what it read, and the digest of what it saw."""

    module: str
    task: str
    args: dict[str, Any]
    observed: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "task": self.task,
            "args": self.args,
            "observed": self.observed,
        }


def observation(task: str, action: str, result: dict[str, Any]) -> Observation | None:
    """The observation a task's result carries, or None when it carries none."""
    module = action.rsplit(".", 1)[-1]
    observed = result.get("observed")
    args = (result.get("invocation") or {}).get("module_args")
    if module not in OBSERVING or not isinstance(observed, str) or not isinstance(args, dict):
        return None
    if module == "groundwork_files":
        # What it manages, not the contents (masked in the result: keys travel in them).
        args = {
            "directories": [{"path": e["path"]} for e in args.get("directories") or []],
            "links": [{"dest": e["dest"]} for e in args.get("links") or []],
            "files": [{"dest": e["dest"]} for e in args.get("files") or []],
            "blocks": [
                {"path": e["path"], "marker": e["marker"]} for e in args.get("blocks") or []
            ],
        }
    return Observation(module, task, args, observed)


@dataclass
class HostState:
    name: str
    role: str = ""
    task: str = ""
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    done: bool = False
    changed_tasks: list[str] = field(default_factory=list)
    # Files the roles' groundwork_files calls wrote (their changed_paths).
    changed_paths: list[str] = field(default_factory=list)
    # What the roles' probes and file calls saw, in the order they ran.
    observations: list[Observation] = field(default_factory=list)
    # Tasks that reported ok without an observation of what they read: a run
    # with any cannot vouch for the node by its observations alone.
    unobserved: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "done" if self.done else "running"


@dataclass(frozen=True)
class Failure:
    host: str
    role: str
    task: str
    message: str
    unreachable: bool = False
    # The play it failed in: a run of several playbooks (playbooks/converge.yml)
    # tells which of them failed by it.
    play: str = ""

    def describe(self) -> str:
        where = f"role {self.role}, task {self.task!r}" if self.role else f"task {self.task!r}"
        what = "unreachable" if self.unreachable else "failed"
        return f"{self.host}: {what} at {where}: {self.message}"


@dataclass
class RunState:
    """Everything the live display and the summary need, updated per event."""

    hosts: dict[str, HostState] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    play: str = ""
    stats_seen: bool = False

    def host(self, name: str) -> HostState:
        if name not in self.hosts:
            self.hosts[name] = HostState(name)
        return self.hosts[name]

    def apply(self, event: dict[str, Any]) -> None:
        kind = str(event.get("event", ""))
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.play = str(data.get("play", ""))
            return
        if kind == "playbook_on_stats":
            self._apply_stats(data)
            return
        host_name = data.get("host")
        if not host_name or not kind.startswith("runner_"):
            return
        host = self.host(str(host_name))
        role = str(data.get("role") or "")
        task = str(data.get("task") or "")
        if kind == "runner_on_start":
            host.role, host.task = role, task
            return
        if kind in {"runner_item_on_ok", "runner_item_on_failed", "runner_item_on_skipped"}:
            return  # the task's own result event follows and is counted once
        result = data.get("res") or {}
        named = f"{role}: {task}" if role else task
        if kind == "runner_on_ok":
            action = str(data.get("resolved_action") or data.get("task_action") or "")
            seen = observation(named, action, result)
            if seen is not None:
                host.observations.append(seen)
            elif action.rsplit(".", 1)[-1] not in NOT_OBSERVING:
                host.unobserved.append(named)
            # Per-task counts for the live view; the final play recap overrides them.
            if result.get("changed"):
                host.changed += 1
                host.changed_tasks.append(named)
                host.changed_paths.extend(str(p) for p in result.get("changed_paths") or [])
            else:
                host.ok += 1
        elif kind == "runner_on_skipped":
            host.skipped += 1
            if result.get("msg") == COMMAND_WOULD_RUN:
                host.changed_tasks.append(named)
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            host.failed += 1
            if lost_connection(result):
                message = f"the node stopped answering (connection lost: {failure_message(result)})"
                self.failures.append(Failure(host.name, role, task, message, True, self.play))
            else:
                self.failures.append(
                    Failure(host.name, role, task, failure_message(result), play=self.play)
                )
        elif kind == "runner_on_unreachable":
            host.unreachable += 1
            message = unreachable_message(failure_message(result))
            self.failures.append(Failure(host.name, role, task, message, True, self.play))

    def _apply_stats(self, data: dict[str, Any]) -> None:
        self.stats_seen = True
        names: set[str] = set()
        for key in ("ok", "changed", "failures", "dark", "skipped", "processed"):
            names.update(str(k) for k in (data.get(key) or {}))
        for name in sorted(names):
            host = self.host(str(name))
            changed = int((data.get("changed") or {}).get(name, 0))
            # Ansible counts a changed task in both ok and changed.
            host.ok = int((data.get("ok") or {}).get(name, 0)) - changed
            host.changed = changed
            host.failed = int((data.get("failures") or {}).get(name, 0))
            host.unreachable = int((data.get("dark") or {}).get(name, 0))
            host.skipped = int((data.get("skipped") or {}).get(name, 0))
            host.done = True
            host.role, host.task = "", ""


# What mitogen says when the node behind a connection dies mid-task; Ansible
# reports it as a task failure, but it is an unreachable node.
_LOST_CONNECTION = (
    "mitogen.core.ChannelError",
    "mitogen.core.StreamError",
    "EOF on stream",
    "object has no attribute 'protocol'",
)


def unreachable_message(message: str) -> str:
    """Plain words for what an unreachable node's connection said."""
    if "password was requested" in message or "Permission denied" in message:
        # mitogen asks for a password once every key was refused.
        return f"the node refused the SSH key: check the node's ssh.key and ssh.user ({message})"
    return message


def lost_connection(result: dict[str, Any]) -> bool:
    text = " ".join(str(result.get(key, "")) for key in ("msg", "exception", "module_stderr"))
    return any(marker in text for marker in _LOST_CONNECTION)


def failure_message(result: dict[str, Any]) -> str:
    """The most useful plain-words line(s) of a failed task's result."""
    for key in _MESSAGE_KEYS:
        value = result.get(key)
        if (
            key == "msg"
            and value == _COMMAND_FAILED
            and (result.get("stderr") or result.get("stdout"))
        ):
            continue  # the command's own output says what failed; this does not
        if isinstance(value, str) and value.strip():
            text = " ".join(value.strip().split())
            if key in {"stderr", "stdout"} and result.get("rc") is not None:
                text = f"exit {result['rc']}: {text}"
            return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."
    if "rc" in result:
        return f"exit {result['rc']}"
    return "failed (no message)"


@dataclass(frozen=True)
class RunSummary:
    """The outcome of one playbook run."""

    playbook: str
    status: str  # ansible-runner's: successful, failed, timeout, canceled
    rc: int
    hosts: tuple[HostState, ...]
    failures: tuple[Failure, ...]
    artifact_dir: str
    seconds: float
    # What this run could not do and the user must know (e.g. the Kubernetes
    # layer skipped because its binaries are not available).
    not_installed: str = ""
    # Said after the run's change count (e.g. that no role ran, and why).
    note: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.rc == 0
            and self.status == "successful"
            and not self.failures
            and all(h.failed == 0 and h.unreachable == 0 for h in self.hosts)
        )

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)

    def changed_by_host(self) -> dict[str, int]:
        return {h.name: h.changed for h in self.hosts}

    def combine(self, later: RunSummary) -> RunSummary:
        """One summary of two consecutive runs (per-host counts added)."""
        hosts: dict[str, HostState] = {}
        for h in (*self.hosts, *later.hosts):
            total = hosts.setdefault(h.name, HostState(h.name, done=True))
            total.ok += h.ok
            total.changed += h.changed
            total.failed += h.failed
            total.unreachable += h.unreachable
            total.skipped += h.skipped
            total.changed_tasks.extend(h.changed_tasks)
            total.changed_paths.extend(h.changed_paths)
        return RunSummary(
            playbook=f"{self.playbook} + {later.playbook}",
            status=later.status if self.status == "successful" else self.status,
            rc=self.rc or later.rc,
            hosts=tuple(sorted(hosts.values(), key=lambda h: h.name)),
            failures=(*self.failures, *later.failures),
            artifact_dir=later.artifact_dir,
            seconds=self.seconds + later.seconds,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "status": self.status,
            "rc": self.rc,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "artifact_dir": self.artifact_dir,
            "hosts": {
                h.name: {
                    "ok": h.ok,
                    "changed": h.changed,
                    "failed": h.failed,
                    "unreachable": h.unreachable,
                    "skipped": h.skipped,
                    "changed_tasks": h.changed_tasks,
                    "changed_paths": h.changed_paths,
                }
                for h in self.hosts
            },
            "failures": [f.describe() for f in self.failures],
        }

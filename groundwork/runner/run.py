"""Run a playbook with ansible-runner against a stack's inventory.

Settings that make runs fast and safe come from here and ansible.cfg:
forks >= number of hosts, SSH pipelining, ControlPersist, host keys checked
against the stack's pinned known_hosts (the inventory's ssh args), facts
cached per stack. Every run keeps its full event log under
<state dir>/runner/artifacts/<ident>/ (the newest RUNS_KEPT runs).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ansible_mitogen
import ansible_runner
from rich.console import Console
from rich.live import Live

from groundwork.paths import data_dir
from groundwork.runner.display import live_table, print_summary
from groundwork.runner.events import RunState, RunSummary

# The checkout's, or the copies installed with the package (groundwork/paths.py).
PLAYBOOKS_DIR = data_dir() / "playbooks"
ANSIBLE_CFG = data_dir() / "ansible.cfg"
CALLBACK_PLUGINS_DIR = data_dir() / "plugins" / "callback"
RUNS_KEPT = 20
MIN_FORKS = 5


@dataclass(frozen=True)
class RunOptions:
    host_count: int
    limit: str | None = None
    extra_vars: dict[str, Any] | None = None
    live: bool = True  # a live table on a terminal; plain lines otherwise
    verbosity: int = 0
    # ansible-playbook --check: nothing changes, every change is reported.
    check: bool = False


# GROUNDWORK_STRATEGY=linear falls back to Ansible's own SSH connection
# (the default is mitogen, measured ~2.5x faster on a no-change run).
STRATEGY_ENV = "GROUNDWORK_STRATEGY"
# The strategy of site.yml's converge play, where each node goes at its own pace.
FREE_STRATEGY_ENV = "GROUNDWORK_FREE_STRATEGY"


def strategy_env() -> dict[str, str]:
    """Mitogen's strategy: one persistent Python per node instead of one per task."""
    if os.environ.get(STRATEGY_ENV, "mitogen") == "linear":
        return {"ANSIBLE_STRATEGY": "linear", FREE_STRATEGY_ENV: "free"}
    plugins = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    return {
        "ANSIBLE_STRATEGY_PLUGINS": str(plugins),
        "ANSIBLE_STRATEGY": "mitogen_linear",
        FREE_STRATEGY_ENV: "mitogen_free",
        # ansible-core warns that third-party strategies are deprecated (no
        # replacement is planned); the warning would fill every run's log.
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }


def runner_env(state: Path, forks: int) -> dict[str, str]:
    """Environment for ansible-playbook."""
    # ansible-playbook from the same environment as this Python.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return strategy_env() | {
        "PATH": path,
        "ANSIBLE_CONFIG": str(ANSIBLE_CFG),
        # ansible-runner appends its own callback directory to this variable,
        # which then hides ansible.cfg's callback_plugins: name ours here too.
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_PLUGINS_DIR),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_GATHERING": "smart",
        "ANSIBLE_CACHE_PLUGIN": "jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(state / "facts"),
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "86400",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_FORCE_COLOR": "False",
    }


# ansible-runner writes these under <private>/env/ on its first run unless
# told not to, and from then on reads them back over what each run passes:
# a later run got the first run's PATH and ANSIBLE_CONFIG (of a checkout
# since removed: "ansible-playbook not found") and its extra vars (a scale
# run's joining members).
RUNNER_ENV_FILES = ("envvars", "extravars", "passwords", "settings", "ssh_key", "cmdline")


def forget_env_files(private: Path) -> None:
    for name in RUNNER_ENV_FILES:
        (private / "env" / name).unlink(missing_ok=True)


def run_playbook(
    stack_state: Path,
    inventory: Path,
    playbook: str,
    options: RunOptions,
    console: Console | None = None,
) -> RunSummary:
    """Run playbooks/<playbook> (or a path) and return its summary; prints progress."""
    console = console or Console(highlight=False)
    path = Path(playbook) if "/" in playbook else PLAYBOOKS_DIR / playbook
    private = stack_state / "runner"
    private.mkdir(mode=0o700, parents=True, exist_ok=True)
    forget_env_files(private)
    forks = max(options.host_count, MIN_FORKS)
    ident = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{path.stem}"
    state = RunState()
    lock = threading.Lock()
    title = f"{path.name} on {inventory.name}"
    started = time.monotonic()
    printed: dict[str, str] = {}

    def plain_progress(event: dict[str, Any]) -> None:
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_start":
            host, role = str(data.get("host", "")), str(data.get("role") or "")
            if role and printed.get(host) != role:
                printed[host] = role
                console.print(f"  {host}: {role}")

    use_live = options.live and console.is_terminal
    live = Live(live_table(state, title), console=console, refresh_per_second=8, transient=True)

    def on_event(event: dict[str, Any]) -> bool:
        with lock:
            state.apply(event)
            if use_live:
                live.update(live_table(state, title))
            else:
                plain_progress(event)
        return True

    kwargs: dict[str, Any] = {
        "private_data_dir": str(private),
        "project_dir": str(data_dir()),
        "playbook": str(path),
        "inventory": str(inventory),
        "envvars": runner_env(stack_state, forks),
        "forks": forks,
        "ident": ident,
        "rotate_artifacts": RUNS_KEPT,
        "quiet": True,
        "event_handler": on_event,
        "verbosity": options.verbosity,
        # Each run's own environment and extra vars, never files kept from an
        # earlier run (see forget_env_files).
        "suppress_env_files": True,
    }
    if options.limit:
        kwargs["limit"] = options.limit
    if options.extra_vars:
        kwargs["extravars"] = options.extra_vars
    if options.check:
        kwargs["cmdline"] = "--check"
        title += " (check mode: nothing changes)"
    if not use_live:
        console.print(f"running {title} ({forks} forks)")
    runner: Any
    if use_live:
        with live:
            runner = ansible_runner.run(**kwargs)
    else:
        runner = ansible_runner.run(**kwargs)
    summary = RunSummary(
        playbook=path.name,
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else 1),
        hosts=tuple(sorted(state.hosts.values(), key=lambda h: h.name)),
        failures=tuple(state.failures),
        artifact_dir=str(runner.config.artifact_dir),
        seconds=time.monotonic() - started,
    )
    Path(summary.artifact_dir, "summary.json").write_text(
        json.dumps(summary.to_dict(), indent=2, sort_keys=True) + "\n"
    )
    print_summary(console, summary)
    return summary

"""Leave converged nodes alone: a no-change `up` without a run of the roles.

On a converged node every role reads the node (one groundwork_probe) and
compares its files (one groundwork_files call), then ends: what the roles do
is decided by those reads and by their inputs (the roles, the inventory, the
controller's certificates and keys). Both modules return a digest of what
they read (plugins/module_utils/groundwork_observe.py). After a run that
changed nothing on any node, `up` records each node's reads and digests
beside a digest of the inputs. The next `up`, when the inputs are the same,
makes the same reads on every node with the same code, in one SSH call per
node: where every digest is as recorded, the roles would read what they read
last time and again change nothing, so they are not run. One digest that
differs, one node that does not answer, any other input, and every role runs
on every node as usual. `up --full` always runs them.

Not run on that path: the pre-flight, which judges a node before it is
changed (none is); verify still checks every node and the cluster after it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import groundwork
from groundwork import yamlio
from groundwork.inventory.fingerprint import content_hash, tree_hash
from groundwork.paths import data_dir, state_dir, state_root
from groundwork.runner.events import Observation, RunSummary

RECORD = "converged.json"
# The code trees whose content shapes what the roles do (beside ansible.cfg).
CODE_INPUTS = ("playbooks", "roles", "plugins")
# The module_utils the reads need on the node, in import order.
NODE_UTILS = ("groundwork_fstab", "groundwork_observe", "groundwork_probing")
NODE_TIMEOUT = 30.0

# Runs on the node: Groundwork's module_utils from stdin as the modules import
# them (nothing is installed on the node), then each read, then the digests.
NODE_PROGRAM = r"""
import json, subprocess, sys, types
payload = json.loads(sys.stdin.read())
for name in ("ansible", "ansible.module_utils"):
    sys.modules[name] = types.ModuleType(name)
for name, source in payload["utils"]:
    module = types.ModuleType("ansible.module_utils." + name)
    exec(compile(source, name + ".py", "exec"), module.__dict__)
    sys.modules[module.__name__] = module
observe = sys.modules["ansible.module_utils.groundwork_observe"]
probing = sys.modules["ansible.module_utils.groundwork_probing"]
def run_command(argv, handle_exceptions=True):
    try:
        done = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    except OSError as err:
        if not handle_exceptions:
            raise
        return 127, "", str(err)
    return done.returncode, done.stdout, done.stderr
digests = []
for module, args in payload["reads"]:
    try:
        if module == "groundwork_probe":
            digests.append(observe.digest(probing.probe(args, run_command)))
        else:
            digests.append(observe.digest(observe.files_state(args)))
    except Exception as err:
        digests.append("error: %s: %s" % (type(err).__name__, err))
print(json.dumps(digests))
"""


@dataclass(frozen=True)
class Record:
    """What a run that changed nothing saw on each node, and its inputs."""

    inputs: str
    at: str
    hosts: dict[str, tuple[Observation, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "at": self.at,
            "hosts": {h: [o.to_dict() for o in seen] for h, seen in self.hosts.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        hosts = {
            str(host): tuple(
                Observation(str(o["module"]), str(o["task"]), dict(o["args"]), str(o["observed"]))
                for o in seen
            )
            for host, seen in data["hosts"].items()
        }
        return cls(str(data["inputs"]), str(data["at"]), hosts)


def record_path(stack: str) -> Path:
    return state_dir(stack) / RECORD


def read_record(stack: str) -> Record | None:
    try:
        return Record.from_dict(json.loads(record_path(stack).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(stack: str, record: Record) -> None:
    path = record_path(stack)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.to_dict(), indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def forget_record(stack: str) -> None:
    record_path(stack).unlink(missing_ok=True)


def controller_paths(inventory_text: str, root: Path) -> list[Path]:
    """The paths under the state root that an inventory names (pure): the
    certificates, keys and secrets the roles read on the controller."""
    pattern = re.compile(re.escape(str(root).rstrip("/")) + r"/[^\s'\",]+")
    return sorted({Path(m.group(0)) for m in pattern.finditer(inventory_text)})


def inputs_digest(inventory: Path) -> str:
    """sha256 of everything on the controller that shapes what the roles do:
    the roles, playbooks, plugins and ansible.cfg, Groundwork's own code, the
    stack's inventory, every controller file it names under the state root,
    and the versions of Python, Ansible and mitogen."""
    parts = [sys.version, version("ansible-core"), version("mitogen")]
    code = [data_dir() / name for name in CODE_INPUTS] + [Path(groundwork.__file__).parent]
    parts += [f"{root}={tree_hash(root)}" for root in code]
    inventory_text = "".join(
        p.read_text(errors="replace") for p in sorted(inventory.rglob("*.yml")) if p.is_file()
    )
    # Read anew each time: a run re-renders the inventory, a renewal rewrites the PKI.
    local = [data_dir() / "ansible.cfg", inventory, *controller_paths(inventory_text, state_root())]
    parts += [f"{path}={content_hash(path)}" for path in local]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def unrecordable(summary: RunSummary, hosts: Iterable[str]) -> str:
    """Why a run cannot vouch for its nodes' state, or "" when it can (pure):
    it passed, changed nothing, ran on every node, and every task that
    reported ok on a node was a read with its digest."""
    if not summary.ok:
        return "the run did not pass"
    ran = {h.name: h for h in summary.hosts}
    missing = sorted(set(hosts) - set(ran))
    if missing:
        return f"no task ran on {', '.join(missing)}"
    for host in summary.hosts:
        if host.changed:
            return f"{host.name} changed"
        if host.unobserved:
            return f"{host.name}: {host.unobserved[0]!r} reports no digest of what it read"
        if not host.observations:
            return f"{host.name}: nothing read"
    return ""


def node_payload(observations: Iterable[Observation]) -> str:
    utils = data_dir() / "plugins" / "module_utils"
    return json.dumps(
        {
            "utils": [[name, (utils / f"{name}.py").read_text()] for name in NODE_UTILS],
            "reads": [[o.module, o.args] for o in observations],
        }
    )


@dataclass(frozen=True)
class Connection:
    """How Ansible reaches one node, from the stack's inventory."""

    host: str
    address: str
    port: int
    user: str
    key: str | None
    common_args: str
    become: bool
    python: str

    def argv(self) -> list[str]:
        remote = f"{shlex.quote(self.python)} -c {shlex.quote(NODE_PROGRAM)}"
        if self.become:
            remote = f"sudo -n {remote}"
        argv = ["ssh", "-o", "BatchMode=yes", *shlex.split(self.common_args), "-p", str(self.port)]
        if self.key:
            argv += ["-i", self.key]
        return [*argv, f"{self.user}@{self.address}", remote]


def connections(inventory: Path) -> dict[str, Connection]:
    """Each host's connection settings, as ansible-playbook reads them from
    hosts.yml (the inventory Groundwork renders)."""
    document = yamlio.load((inventory / "hosts.yml").read_text())["all"]
    shared = document.get("vars") or {}
    found = {}
    for name, own in (document.get("hosts") or {}).items():
        settings = {**shared, **(own or {})}
        found[str(name)] = Connection(
            host=str(name),
            address=str(settings.get("ansible_host", name)),
            port=int(settings.get("ansible_port", 22)),
            user=str(settings.get("ansible_user", "root")),
            key=settings.get("ansible_ssh_private_key_file"),
            common_args=str(settings.get("ansible_ssh_common_args", "")),
            become=bool(settings.get("ansible_become", False)),
            python=str(settings.get("ansible_python_interpreter", "/usr/bin/python3")),
        )
    return found


def read_node(connection: Connection, observations: tuple[Observation, ...]) -> list[str]:
    """The node's digests of the recorded reads, in their order; an error
    string in place of a digest that could not be made."""
    try:
        done = subprocess.run(
            connection.argv(),
            input=node_payload(observations),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [f"error: no answer within {NODE_TIMEOUT:.0f} s"]
    if done.returncode != 0:
        return [f"error: exit {done.returncode}: {done.stderr.strip()[-300:]}"]
    try:
        digests = json.loads(done.stdout)
    except ValueError:
        return [f"error: unreadable answer: {done.stdout.strip()[-300:]}"]
    return [str(d) for d in digests]


def differences(recorded: tuple[Observation, ...], digests: list[str]) -> list[str]:
    """The recorded reads whose digest the node no longer gives (pure)."""
    if len(digests) != len(recorded):
        return [digests[0] if digests else "no answer"]
    return [o.task for o, d in zip(recorded, digests, strict=True) if d != o.observed]


@dataclass(frozen=True)
class Verdict:
    """Whether every node is as the record saw it, and if not, why."""

    unchanged: bool
    reasons: tuple[str, ...]
    seconds: float
    # The record the nodes were compared with (None when there was none).
    record: Record | None = None


def check(stack: str, inventory: Path) -> Verdict:
    """Every node's reads made again, all at once, against the record."""
    started = time.monotonic()

    record = read_record(stack)

    def verdict(unchanged: bool, *reasons: str) -> Verdict:
        return Verdict(unchanged, reasons, time.monotonic() - started, record)

    if record is None:
        return verdict(False, "no run that changed nothing is recorded")
    if inputs_digest(inventory) != record.inputs:
        return verdict(False, "the roles, the inventory or the controller's files changed")
    reachable = connections(inventory)
    if set(reachable) != set(record.hosts):
        return verdict(False, "the inventory's nodes are not the recorded ones")
    hosts = sorted(record.hosts)
    with ThreadPoolExecutor(max_workers=len(hosts) or 1) as pool:
        answers = list(pool.map(lambda h: read_node(reachable[h], record.hosts[h]), hosts))
    reasons = []
    for host, digests in zip(hosts, answers, strict=True):
        differ = differences(record.hosts[host], digests)
        if differ:
            reasons.append(
                f"{host}: {differ[0]}" + (f" (+{len(differ) - 1})" if len(differ) > 1 else "")
            )
    return verdict(not reasons, *reasons)


def record_run(stack: str, inventory: Path, summary: RunSummary) -> None:
    """Keep the reads of a run that can vouch for its nodes (see unrecordable)."""
    record = Record(
        inputs=inputs_digest(inventory),
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        hosts={h.name: tuple(h.observations) for h in summary.hosts},
    )
    write_record(stack, record)

"""Reset every node with playbooks/reset.yml, then prove that a new SSH
connection to each node still works.

Only the nodes are reset. The stack's state on the controller (the PKI, the
lab's SSH key) stays: a CA key cannot be recovered once deleted, and a later
`up` reuses it. The lab's machines stay too (`groundwork lab down` removes
them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rich.table import Table
from rich.text import Text

from groundwork import door
from groundwork.paths import state_dir
from groundwork.phases import inventory, pki
from groundwork.phases.base import Context, Outcome, Phase
from groundwork.runner import RunSummary, run_playbook
from groundwork.spec import ClusterSpec

RESET_PLAYBOOK = "reset.yml"
SSH_TIMEOUT = 30.0


class Consent(Enum):
    PROCEED = "proceed"
    ASK = "ask"
    REFUSE = "refuse"


def consent(spec: ClusterSpec, yes: bool, interactive: bool) -> Consent:
    """Whether destroying this stack needs the user's word (pure).

    A lab stack's machines are disposable and scripts (CI, rebuild) destroy
    them all the time: no question. Any other stack is real machines: --yes,
    or a question on a terminal; without either the answer is no.
    """
    if yes or spec.lab is not None:
        return Consent.PROCEED
    return Consent.ASK if interactive else Consent.REFUSE


@dataclass(frozen=True)
class SshCheck:
    node: str
    address: str
    ok: bool
    detail: str


def ssh_check_argv(ssh_config: Path, address: str) -> list[str]:
    """A new SSH session (no shared master connection) that runs `true` (pure)."""
    return [
        "ssh",
        "-F",
        str(ssh_config),
        "-o",
        "ControlMaster=no",
        "-o",
        "ControlPath=none",
        address,
        "true",
    ]


def ssh_check_from(node: str, address: str, returncode: int | None, stderr: str) -> SshCheck:
    """The verdict for one node from the ssh exit code (None: timed out) (pure)."""
    if returncode == 0:
        return SshCheck(node, address, True, "new SSH session ok")
    if returncode is None:
        return SshCheck(node, address, False, f"no answer within {SSH_TIMEOUT:.0f} s")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return SshCheck(node, address, False, lines[-1] if lines else f"ssh exited {returncode}")


def check_ssh(spec: ClusterSpec) -> tuple[SshCheck, ...]:
    """Open a new SSH session to every node in parallel (pinned host keys)."""
    from groundwork.verify import connect

    config = connect.write_ssh_config(spec)

    def one(name: str, address: str) -> SshCheck:
        try:
            out = subprocess.run(
                ssh_check_argv(config, address),
                capture_output=True,
                text=True,
                timeout=SSH_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ssh_check_from(name, address, None, "")
        return ssh_check_from(name, address, out.returncode, out.stderr)

    with ThreadPoolExecutor(max_workers=min(len(spec.nodes), 32)) as pool:
        futures = [pool.submit(one, n.name, str(n.address)) for n in spec.nodes]
        return tuple(f.result() for f in futures)


@dataclass(frozen=True)
class DestroyResult:
    stack: str
    # None when there was nothing to reset (a lab whose machines are gone).
    summary: RunSummary | None
    ssh: tuple[SshCheck, ...] = ()
    nothing_to_do: str = ""

    @property
    def ok(self) -> bool:
        if self.summary is None:
            return bool(self.nothing_to_do)
        return self.summary.ok and bool(self.ssh) and all(c.ok for c in self.ssh)

    def problems(self) -> list[str]:
        """Every reason the destroy did not succeed, one line each (pure)."""
        found: list[str] = []
        if self.summary is not None:
            found += [f.describe() for f in self.summary.failures]
            if not self.summary.ok and not self.summary.failures:
                found.append(f"{self.summary.playbook} ended {self.summary.status}")
        found += [f"{c.node}: SSH after reset: {c.detail}" for c in self.ssh if not c.ok]
        return found

    def outcome(self) -> Outcome:
        """The phase's outcome (pure)."""
        if self.summary is None:
            return Outcome(self.ok, self.nothing_to_do)
        if self.ok:
            return Outcome(True, f"{len(self.ssh)} node(s) reset, SSH answers on every one")
        problems = self.problems()
        message = f"{len(problems)} problem(s) resetting the nodes"
        return Outcome(False, message, "\n".join(problems))


def ssh_table(checks: Sequence[SshCheck]) -> Table:
    table = Table(title="SSH after reset", title_justify="left")
    for column in ("host", "address", "ssh", "detail"):
        table.add_column(column)
    for c in checks:
        verdict = Text("ok", style="green") if c.ok else Text("FAILED", style="red")
        table.add_row(c.node, c.address, verdict, c.detail)
    return table


def lab_machines_gone(spec: ClusterSpec) -> bool:
    """True for a lab stack none of whose machines is running."""
    if spec.lab is None:
        return False
    from groundwork.lab import nodes
    from groundwork.lab.layout import layout

    return not any(nodes.is_alive(c) for c in nodes.list_containers(layout(spec)))


def reset_inventory(context: Context) -> Path:
    """The inventory to reset: rendered exactly as `up` renders it (one rendering
    path). Rendering reads artifact checksums from the mirror, which a reset does
    not need: with the mirror gone, the inventory of the last `up` serves."""
    from groundwork.inventory import InventoryError, inventory_dir

    try:
        pki.ensure(context)
        return inventory.write(context)
    except InventoryError as err:
        previous = inventory_dir(context.spec.name)
        if not (previous / "hosts.yml").is_file():
            raise
        context.progress(f"inventory: cannot render ({err}); using the last one in {previous}")
        return previous


def destroy(context: Context) -> DestroyResult:
    """Reset every node of the stack, then check SSH to each; prints the run's
    per-host summary and the SSH table."""
    spec = context.spec
    if lab_machines_gone(spec):
        context.forget_members()  # no machines, no cluster: the next up bootstraps afresh
        return DestroyResult(
            spec.name,
            None,
            nothing_to_do=f"the lab of {spec.name} is not running: nothing to reset",
        )
    summary = run_playbook(
        state_dir(spec.name),
        reset_inventory(context),
        RESET_PLAYBOOK,
        context.run_options(),
        console=context.console,
    )
    context.runs.append(summary)
    checks = check_ssh(spec)
    context.console.print(ssh_table(checks))
    if summary.ok:
        # Every node is reset: the membership record describes a cluster that
        # is gone, and a member that joined later must not start as "existing".
        context.forget_members()
    return DestroyResult(spec.name, summary, checks)


class Destroy(Phase):
    name = "destroy"

    def run(self, context: Context) -> Outcome:
        result = destroy(context)
        if result.ok:
            # Nothing of either front door is left on the nodes.
            door.release(context.spec.name)
        return result.outcome()

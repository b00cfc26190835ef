"""What every phase is made of: the run's context, the decision to run, the outcome.

A phase is a small object with a `name`, `should_run(context)` and
`run(context) -> Outcome`; `groundwork.phases.runner.run` gives all of them
the same timing, progress lines, error translation, skips, dry-run and
JUnit. Phases hand their products (the inventory, the playbook runs, the
verify report) to the phases after them through the context.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from groundwork.applied import forget_applied, read_applied
from groundwork.converged import forget_record
from groundwork.door import Door, WrongDoor
from groundwork.etcd_backup import SnapshotError
from groundwork.inventory import InventoryError, RenderedInventory
from groundwork.lab.errors import LabError
from groundwork.paths import state_dir
from groundwork.pki import PkiError
from groundwork.plan import ClusterPlan, build_plan
from groundwork.plan.applied import RecordError
from groundwork.plan.membership import MembershipPlan, plan_membership
from groundwork.progress import Progress, silent
from groundwork.runner import RunOptions, RunSummary, run_playbook
from groundwork.spec import ClusterSpec
from groundwork.verify import VerifyReport

# What a phase may fail with that the user can act on from its message alone
# (a missing artifact, an unhealthy lab, a bad CA, an unreadable record): the
# runner turns it into the phase's failed outcome. Anything else is a bug and
# keeps its traceback.
STEP_ERRORS: tuple[type[Exception], ...] = (
    InventoryError,
    LabError,
    PkiError,
    RecordError,
    SnapshotError,
    WrongDoor,
)


@dataclass(frozen=True)
class Decision:
    """Whether a phase runs this time, and if not, why (shown and reported)."""

    run: bool
    reason: str = ""


RUN = Decision(True)


def skip(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class Outcome:
    """What one phase did: `message` in one line, `output` one detail per line."""

    ok: bool
    message: str = ""
    output: str = ""
    # A preview's verdict (dry run): running the phase would change something.
    changes: bool = False


def combined(runs: Sequence[RunSummary]) -> RunSummary:
    """Consecutive playbook runs as one summary (per-host counts added); at least one."""
    return functools.reduce(RunSummary.combine, runs)


def summary_outcome(summary: RunSummary) -> Outcome:
    """The outcome of a phase whose work is playbook runs (pure)."""
    if summary.ok:
        return Outcome(True, f"{summary.changed} change(s); logs: {summary.artifact_dir}")
    failed_hosts = len({f.host for f in summary.failures}) or "some"
    lines = [f.describe() for f in summary.failures]
    if not lines:
        bad = [h.name for h in summary.hosts if h.failed or h.unreachable]
        lines.append(f"{summary.playbook} ended {summary.status} (rc {summary.rc})")
        lines.append(f"failed or unreachable hosts: {', '.join(bad) or 'none reported'}")
    return Outcome(False, f"the roles failed on {failed_hosts} host(s)", "\n".join(lines))


@dataclass(frozen=True)
class Options:
    """How a run goes, as the user asked for it."""

    live: bool = True  # ansible-runner's live per-host table (on a terminal)
    lab: bool = True  # bring a lab stack's machines up first
    # Install Kubernetes (kubernetes.yml) after the substrate (site.yml).
    kubernetes: bool = True
    # Apply the addons with kubectl (the CLI door; Pulumi applies them itself).
    addons: bool = True
    verify: bool = True
    # etcd members whose machine lost its etcd data (`up --replace-member`).
    replace_members: tuple[str, ...] = ()
    # Where to write the run as JUnit XML (one case per phase, then every node check).
    junit: Path | None = None
    # Decide and report what would run; run only the phases that change nothing.
    dry_run: bool = False
    # ansible-playbook's -v count (`-v`, `-vv` on the command line).
    verbosity: int = 0
    # `etcd snapshot`: where to write it (default: the state directory);
    # `etcd restore`: the snapshot to restore.
    snapshot_file: Path | None = None
    # The front door running (groundwork/door.py): a stack is driven by one.
    door: Door = "groundwork"
    # `up --limit`: converge and check only these nodes (membership unchanged).
    limit: tuple[str, ...] = ()
    # `certs renew`: issue every leaf certificate anew (keys kept); the run
    # then rolls them out like any changed file, one restart at a time.
    renew_certificates: bool = False
    # `up --full`: run every role on every node, even when each node is as the
    # last run that changed nothing saw it (groundwork/converged.py).
    full: bool = False


@dataclass(eq=False)
class Context:
    """One run: the stack and its plan (built once), how to run, and what the
    phases found or made so far."""

    spec: ClusterSpec
    options: Options = field(default_factory=Options)
    console: Console = field(default_factory=lambda: Console(highlight=False))
    progress: Progress = silent
    plan: ClusterPlan = field(init=False)
    # Products of the phases, in the order they are made.
    inventory: Path | None = field(default=None, init=False)
    # The declared nodes plus the ones being removed: what removals run against.
    removal_inventory: RenderedInventory | None = field(default=None, init=False)
    # Kubernetes binaries without a sha256: the Kubernetes layer cannot run.
    kube_missing: tuple[str, ...] = field(default=(), init=False)
    # The run of site.yml and kubernetes.yml together (playbooks/converge.yml),
    # when the site phase ran both layers.
    converge_run: RunSummary | None = field(default=None, init=False)
    # No role ran: every node was as the last run that changed nothing saw it.
    nodes_left_alone: bool = field(default=False, init=False)
    # The release the cluster runs when the stack declares another (an upgrade).
    upgrade_from: str | None = field(default=None, init=False)
    runs: list[RunSummary] = field(default_factory=list, init=False)
    not_installed: str = field(default="", init=False)
    report: VerifyReport | None = field(default=None, init=False)
    verify_junit: bytes | None = field(default=None, init=False)
    # A dry run's phases that found something to change, in order.
    would_change: list[str] = field(default_factory=list, init=False)
    _members: MembershipPlan | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.plan = build_plan(self.spec)

    def members(self) -> MembershipPlan:
        """The applied record against the stack (reads one file, once per run)."""
        if self._members is None:
            record = read_applied(self.spec.name)
            self._members = plan_membership(
                record,
                self.spec,
                self.plan.etcd,
                self.options.replace_members,
                # A refusal names the way out through the door running.
                self.options.door,
            )
        return self._members

    def forget_members(self) -> None:
        """The cluster is gone (every node reset): drop the record, so the
        next up bootstraps afresh, and the plan read from it."""
        forget_applied(self.spec.name)
        self._members = None

    def run_options(self) -> RunOptions:
        limit = self.options.limit
        return RunOptions(
            host_count=len(limit or self.spec.nodes),
            live=self.options.live,
            verbosity=self.options.verbosity,
            limit=",".join(limit) or None,
            # A dry run's playbooks run in Ansible's check mode: the roles'
            # probes read, every change is only reported.
            check=self.options.dry_run,
        )

    def run_playbook(self, playbook: str, extra_vars: dict[str, Any] | None = None) -> RunSummary:
        """playbooks/<playbook> on the stack's inventory, with these extra vars."""
        if not self.options.dry_run:
            # A run that may change nodes ends what the last record vouched
            # for; a converge that changes nothing records anew.
            forget_record(self.spec.name)
        return run_playbook(
            state_dir(self.spec.name),
            self.rendered_inventory(),
            playbook,
            dataclasses.replace(self.run_options(), extra_vars=extra_vars),
            console=self.console,
        )

    def rendered_inventory(self) -> Path:
        if self.inventory is None:
            raise RuntimeError("no inventory yet: the inventory phase runs before this one")
        return self.inventory

    @property
    def summary(self) -> RunSummary | None:
        """Every playbook run of this run as one summary; None when none ran."""
        if not self.runs:
            return None
        return dataclasses.replace(combined(self.runs), not_installed=self.not_installed)


class Phase(Protocol):
    """One step of a run, in a file of its own (groundwork/phases/<name>.py).

    Phases subclass this for its defaults: a phase runs every time unless its
    `should_run` says why not, and changes something unless it says so.
    """

    name: str
    # True for a phase that only reads and decides (a check): dry-run runs it.
    changes_nothing: bool = False

    def should_run(self, context: Context) -> Decision:
        return RUN

    def run(self, context: Context) -> Outcome: ...

    def preview(self, context: Context) -> Outcome | None:
        """A dry run's answer: what `run` would change, found without changing
        anything on the nodes. None when the phase cannot tell: the dry run
        reports it as planned, and the checks after it as planned too."""
        return None

"""ansible-runner: run a playbook against a stack's inventory, show it live, summarize it."""

from groundwork.runner.events import Failure, HostState, RunState, RunSummary
from groundwork.runner.run import PLAYBOOKS_DIR, RunOptions, run_playbook

__all__ = [
    "PLAYBOOKS_DIR",
    "Failure",
    "HostState",
    "RunOptions",
    "RunState",
    "RunSummary",
    "run_playbook",
]

"""Where Groundwork keeps per-stack state and shared caches.

State (PKI, SSH keys, known_hosts, run logs) is per stack and holds secrets,
so it lives outside the repository with 0700 directories. The cache (lab
image, artifact mirror) is shared by every stack and every clone on a host,
so a warm CI machine does not rebuild it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = PROJECT_ROOT / "stacks"  # the checkout's own examples
INVENTORIES_DIR = PROJECT_ROOT / "inventories"


def stacks_dir() -> Path:
    """Where `--stack NAME` finds stacks/Pulumi.NAME.yaml: `--stacks-dir`
    (which sets GROUNDWORK_STACKS_DIR, so the Pulumi program the CLI starts
    reads the same folder), else ./stacks in the current folder, else the
    checkout's stacks/."""
    given = os.environ.get("GROUNDWORK_STACKS_DIR")
    if given:
        return Path(given)
    here = Path.cwd() / "stacks"
    return here if here.is_dir() else STACKS_DIR


def state_root() -> Path:
    """Where every stack's state directory is."""
    return Path(os.environ.get("GROUNDWORK_STATE_DIR", "/var/lib/groundwork"))


def state_dir(stack: str) -> Path:
    """The private state directory of one stack (created 0700 on demand)."""
    path = state_root() / stack
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """The host-wide cache for the lab image and the artifact mirror."""
    path = Path(os.environ.get("GROUNDWORK_CACHE_DIR", "/var/cache/groundwork"))
    path.mkdir(parents=True, exist_ok=True)
    return path

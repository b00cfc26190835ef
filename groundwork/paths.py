"""Where Groundwork finds the files it runs, and keeps per-stack state and
shared caches.

The files it runs but does not import (roles, playbooks, plugins,
templates, ...: `SHIPPED`) are at the top of the repository, the layout the
design names. An installed wheel has no repository: the build copies them
into the package (setup.py), and `data_dir()` alone decides which of the two
a run uses.

State (PKI, SSH keys, known_hosts, run logs) is per stack and holds secrets,
so it lives outside the repository with 0700 directories. The cache (lab
image, artifact mirror) is shared by every stack and every clone on a host,
so a warm CI machine does not rebuild it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

# What a run reads from the repository's top, relative to it: the build
# ships exactly these in the wheel (setup.py reads this tuple).
SHIPPED: tuple[str, ...] = (
    "roles",
    "playbooks",
    "plugins",  # Ansible modules, action, callback and filter plugins, module_utils
    "ansible.cfg",  # its paths are relative to itself: it moves with the roles
    "templates",  # Kubernetes objects (groundwork/manifests)
    "components",  # the Go modules `groundwork build` builds
    "tests/infra",  # the node checks `verify` runs
    "Pulumi.yaml",  # the Pulumi project `groundwork pulumi` runs in
    "__main__.py",
)
# The package's folder for them in a wheel (a folder, not a package: nothing
# in it is imported as groundwork.*).
SHARE_NAME = "_share"

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


@functools.cache
def data_dir() -> Path:
    """The folder holding `SHIPPED`: the checkout when Groundwork runs from one
    (an editable install too, so an edit to a role takes effect at once),
    else the copy installed with the package."""
    if (_CHECKOUT / "roles").is_dir() and (_CHECKOUT / "ansible.cfg").is_file():
        return _CHECKOUT
    return _PACKAGE / SHARE_NAME


# The same folder, under the name older code and the tests use; in a checkout
# it is the checkout.
PROJECT_ROOT = data_dir()


def stacks_dir() -> Path:
    """Where `--stack NAME` finds stacks/Pulumi.NAME.yaml: `--stacks-dir`
    (which sets GROUNDWORK_STACKS_DIR, so the Pulumi program the CLI starts
    reads the same folder), else ./stacks in the current folder, else the
    checkout's example stacks/ when running from a checkout (an installed
    Groundwork ships no stacks: ./stacks, where `init` writes one)."""
    given = os.environ.get("GROUNDWORK_STACKS_DIR")
    if given:
        return Path(given)
    here = Path.cwd() / "stacks"
    if here.is_dir() or data_dir() != _CHECKOUT:
        return here
    return _CHECKOUT / "stacks"


def inventories_dir() -> Path:
    """inventories/ beside the stacks folder: each stack's inventory, with its
    hand-kept group_vars/all/overrides.yml, lives and is committed with the
    stacks (in a checkout, the checkout's inventories/), never inside an
    installed package."""
    return stacks_dir().absolute().parent / "inventories"


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

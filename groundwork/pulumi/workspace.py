"""Where `pulumi` keeps a stack's state and secrets here, and the environment
it runs in (`groundwork pulumi ARGS`).

- **State:** a local (file) backend per stack, `<state>/<stack>/pulumi`, 0700
  like the rest of the stack's state. `PULUMI_BACKEND_URL` set by the user
  wins: a team points it at a shared object store (docs/pulumi.md).
- **Secrets:** the passphrase provider, with a random passphrase made on first
  use in `<state>/<stack>/secrets/pulumi-passphrase` (0600), handed to the
  CLI as `PULUMI_CONFIG_PASSPHRASE_FILE`: never in argv, never in a log.
  `PULUMI_CONFIG_PASSPHRASE(_FILE)` set by the user wins.
- **Stack config:** the passphrase provider keeps its salt in the stack's
  config file. The repository's `stacks/Pulumi.<stack>.yaml` is what people
  edit and commit, and a salt of one machine's passphrase does not belong in
  it, so each run gives the CLI (`--config-file`) a copy in the backend
  directory: the repository's file as it is now, plus the salt kept there.
- **Offline:** the built CLI and plugins first on PATH, no plugin download,
  no update check (groundwork/build/tools.py).
- **gRPC fork support off** in the providers: they fork Ansible (below).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from groundwork.paths import state_dir
from groundwork.spec.load import stack_path

BACKEND_DIR = "pulumi"
PASSPHRASE_FILE = "pulumi-passphrase"
SALT_KEY = "encryptionsalt:"
# The subcommands that read the stack's config (and take --config-file) and
# drive or plan its resources (refused on a stack `groundwork up` drives).
STACK_COMMANDS = frozenset({"up", "update", "preview", "refresh", "destroy", "import", "watch"})
# Flags of the pulumi CLI that take a value, so that the subcommand is found
# after them (`pulumi -C DIR up`).
GLOBAL_VALUED_FLAGS = frozenset({"-C", "--cwd", "--color", "--profiling", "--tracing"})


def backend_dir(stack: str) -> Path:
    path = state_dir(stack) / BACKEND_DIR
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def passphrase_file(stack: str) -> Path:
    """The stack's passphrase file, made (0600) with a random passphrase on first use."""
    directory = state_dir(stack) / "secrets"
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / PASSPHRASE_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return path


def salt_line(text: str) -> str | None:
    """The passphrase provider's salt line of a stack config file (pure)."""
    for line in text.splitlines():
        if line.startswith(SALT_KEY):
            return line
    return None


def merged_config(repository_text: str, previous_text: str | None) -> str:
    """The repository's stack file with the salt this machine's state uses (pure)."""
    body = "\n".join(line for line in repository_text.splitlines() if not line.startswith(SALT_KEY))
    salt = salt_line(previous_text or "") or salt_line(repository_text)
    return f"{body}\n{salt}\n" if salt else f"{body}\n"


def config_copy(stack: str) -> Path:
    """Where the copy of the stack file the CLI reads and salts is kept."""
    return backend_dir(stack) / f"Pulumi.{stack}.yaml"


def config_file(stack: str) -> Path:
    """Write and return the copy of the stack file the CLI reads and salts."""
    path = config_copy(stack)
    previous = path.read_text() if path.exists() else None
    path.write_text(merged_config(stack_path(stack).read_text(), previous))
    return path


def environment(stack: str, base: Mapping[str, str], bin_dirs: Sequence[Path]) -> dict[str, str]:
    """The CLI's environment for this stack: offline, its backend and passphrase."""
    from groundwork.build.tools import pulumi_env

    env = pulumi_env(base, bin_dirs)
    # The dynamic providers run Ansible, which forks, inside a process serving
    # gRPC. gRPC's fork handlers then race its own threads (a child failed at
    # once with "epoll_wait error: Bad file descriptor"); the children only
    # exec, so they need none of gRPC's state.
    env.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    env.setdefault("PULUMI_BACKEND_URL", backend_dir(stack).as_uri())
    if "PULUMI_CONFIG_PASSPHRASE" not in env:
        env.setdefault("PULUMI_CONFIG_PASSPHRASE_FILE", str(passphrase_file(stack)))
    return env


def subcommand(args: Sequence[str]) -> str | None:
    """The pulumi subcommand in args: the first word that is not a flag or a
    flag's value (pure)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in GLOBAL_VALUED_FLAGS
        else:
            return arg
    return None


def stack_of(args: Sequence[str]) -> str | None:
    """The stack named by -s/--stack in args (pure)."""
    for i, arg in enumerate(args):
        if arg in ("-s", "--stack") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--stack="):
            return arg.split("=", 1)[1]
    return None


def stack_name(reference: str) -> str:
    """The stack's own name in a Pulumi stack reference (`org/prod`, `org/project/prod`):
    the name of its file in stacks/ and of its state directory (pure)."""
    return reference.rsplit("/", 1)[-1]


def argv(stack: str, args: Sequence[str], config: Path) -> list[str]:
    """The pulumi command line: args, reading the stack's config copy where
    the subcommand reads config (pure)."""
    command = ["pulumi", *args]
    if subcommand(args) in STACK_COMMANDS and not any(
        a == "--config-file" or a.startswith("--config-file=") for a in args
    ):
        command += ["--config-file", str(config)]
    return command

"""`groundwork pulumi ARGS`: the pinned Pulumi CLI, with the stack's local
state, its passphrase and nothing fetched (groundwork/pulumi/workspace.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from groundwork import door, paths
from groundwork.cli.common import Subparsers, add_verb, fail
from groundwork.pulumi import workspace
from groundwork.spec.load import stack_path


def _run_quiet(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env=env,
        cwd=paths.data_dir(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def project_stack_file(stack: str) -> Path:
    """The file `pulumi stack init` writes the salt into: the Pulumi project's
    stackConfigDir (stacks/ beside Pulumi.yaml), which is the repository's
    stack file only when the stacks are the checkout's own."""
    return paths.data_dir() / "stacks" / f"Pulumi.{stack}.yaml"


def ensure_stack(reference: str, env: dict[str, str]) -> None:
    """Create the stack in its backend on first use (passphrase secrets,
    unless the environment names another provider's key), keeping the
    project's stack files as they were: the salt the CLI writes moves to the
    stack's config copy (workspace.config_file)."""
    stack = workspace.stack_name(reference)
    listed = _run_quiet(["pulumi", "stack", "ls", "--all", "--json"], env)
    if listed.returncode != 0:
        fail(f"pulumi stack ls failed: {listed.stderr.strip()}")
    names = {str(s.get("name")) for s in json.loads(listed.stdout or "[]")}
    if reference in names or any(workspace.stack_name(n) == stack for n in names):
        return
    repository = stack_path(stack)
    written = project_stack_file(stack)
    folder_existed = written.parent.is_dir()
    existed = written.is_file()
    before = written.read_text() if existed else ""
    made = _run_quiet(
        [
            "pulumi",
            "stack",
            "init",
            reference,
            "--secrets-provider",
            env.get("GROUNDWORK_PULUMI_SECRETS_PROVIDER", "passphrase"),
            "--non-interactive",
        ],
        env,
    )
    after = written.read_text() if written.is_file() else before
    if after != before:
        if existed:
            written.write_text(before)
        else:  # a file the CLI made in an installed Groundwork's project
            written.unlink()
            if not folder_existed:
                written.parent.rmdir()
        workspace.config_copy(stack).write_text(
            workspace.merged_config(repository.read_text(), after)
        )
    if made.returncode != 0:
        fail(f"pulumi stack init {stack} failed: {made.stderr.strip()}")


def _run(args: argparse.Namespace) -> int:
    from groundwork.build.tools import ToolsMissing, bin_dirs
    from groundwork.spec import load_stack

    passed: list[str] = [a for a in args.pulumi_args if a != "--"] if args.pulumi_args else []
    reference = workspace.stack_of(passed)
    if reference is None:
        fail("name the stack: groundwork pulumi up -s STACK", "stacks are in stacks/")
    # `-s org/prod` on a shared backend: the stack file and state are prod's.
    stack = workspace.stack_name(reference)
    load_stack(stack)  # every problem of the stack file, with its path, before anything runs
    verb = workspace.subcommand(passed)
    if verb in workspace.STACK_COMMANDS:
        try:
            door.check(stack, "pulumi")
        except door.WrongDoor as err:
            fail(str(err))
    try:
        directories = bin_dirs()
    except ToolsMissing as err:
        fail(str(err))
    # The language host and the dynamic-provider launcher are in the venv.
    venv = Path(sys.prefix) / "bin"
    env = workspace.environment(stack, os.environ, [*directories, venv])
    # The program runs in the project's folder (below), where ./stacks is not
    # the user's: it gets the folder this command read the stack from.
    env["GROUNDWORK_STACKS_DIR"] = str(paths.stacks_dir().absolute())
    # The dynamic providers' Python when Pulumi.yaml names no virtualenv (an
    # installed Groundwork's: setup.py): the one running Groundwork.
    env["PULUMI_PYTHON_CMD"] = sys.executable
    ensure_stack(reference, env)
    command = workspace.argv(stack, passed, workspace.config_file(stack))
    os.chdir(paths.data_dir())
    os.execvpe(command[0], command, env)


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "pulumi",
        summary="run the pinned Pulumi CLI on a stack (local state, its passphrase, offline)",
        description=(
            "Run `pulumi ARGS` with the CLI and plugins built here, the stack's state in "
            "a local backend under its state directory, and its secrets under a passphrase "
            "made on first use (0600, never in argv or logs). The stack is created in the "
            "backend on first use. Nothing is downloaded: no plugin, no update check. "
            "PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE), when set, win "
            "(a team's shared backend: docs/pulumi.md). A stack that `groundwork up` "
            "drives is refused: one stack, one front door."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork lab up --stack lab          # the machines first\n"
            "  groundwork pulumi up -s lab --yes\n"
            "  groundwork pulumi preview -s lab --expect-no-changes\n"
            "  groundwork pulumi stack output -s lab kubeconfig --show-secrets\n"
            "  groundwork pulumi destroy -s lab --yes"
        ),
        stack=False,
    )
    parser.add_argument(
        "pulumi_args",
        nargs=argparse.REMAINDER,
        metavar="ARGS",
        help="the pulumi command line, with -s STACK (for example: up -s lab --yes)",
    )
    parser.set_defaults(func=_run)

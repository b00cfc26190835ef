"""`groundwork lab up|replace|down|status|ssh`: the lab stack's machines on this host."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from groundwork import lab
from groundwork.cli.common import (
    Parser,
    Subparsers,
    add_stack_options,
    add_verb,
    console,
    fail,
    load_spec_from_args,
    print_json,
    timed_progress,
)
from groundwork.lab import ssh
from groundwork.lab.errors import LabError
from groundwork.lab.state import LabState
from groundwork.lab.status import table
from groundwork.lock import StackBusy, stack_lock
from groundwork.spec import Role


def _report(state: LabState) -> None:
    console.print(table(state))
    for note in state.notes:
        console.print(f"[yellow]note[/yellow] {note}")


def cmd_up(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    start = time.monotonic()
    try:
        with stack_lock(spec.name, "lab up"):
            state = lab.up(spec, artifacts_dir=args.artifacts, progress=timed_progress())
    except (LabError, StackBusy) as err:
        return fail(str(err))
    _report(state)
    verb = "is up" if state.changed else "was already up (nothing changed)"
    console.print(f"lab {state.stack} {verb} in {time.monotonic() - start:.1f} s")
    if not state.up:
        return fail(
            "the lab is not healthy", "see the table above; `groundwork lab down` then `up`"
        )
    return 0


def cmd_replace(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    start = time.monotonic()
    try:
        with stack_lock(spec.name, "lab replace"):
            state = lab.replace(spec, args.node, progress=timed_progress())
    except (LabError, StackBusy) as err:
        return fail(str(err))
    _report(state)
    console.print(
        f"{args.node} is a new machine with an empty disk ({time.monotonic() - start:.1f} s)"
    )
    if any(n.name == args.node for n in spec.nodes if Role.ETCD in n.roles):
        console.print(
            f"it was an etcd member: run `groundwork up --stack {spec.name} "
            f"--replace-member {args.node}` to re-add it"
        )
    return 0 if state.up else fail("the lab is not healthy", "see the table above")


def cmd_down(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    try:
        with stack_lock(spec.name, "lab down"):
            lab.down(spec, progress=timed_progress())
        left = lab.leftovers(spec)
    except (LabError, StackBusy) as err:
        return fail(str(err))
    if left:
        return fail(f"left behind: {', '.join(left)}", "remove them with podman and retry")
    console.print(f"lab {spec.name} is down: nothing left")
    return 0


def state_document(state: LabState) -> dict[str, Any]:
    """`lab status --output json`: every field of the state, plus the verdict."""
    return {**dataclasses.asdict(state), "up": state.up}


def cmd_status(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args, show_warnings=args.output != "json")
    try:
        state = lab.status(spec)
    except LabError as err:
        return fail(str(err))
    if args.output == "json":
        print_json(state_document(state))
    else:
        _report(state)
    return 0 if state.up else 1


def ssh_command(args: argparse.Namespace) -> tuple[argparse.Namespace, list[str]]:
    """The stack options and the remote command of `lab ssh` (pure).

    argparse hands everything after NODE to the command, stack options
    included (`lab ssh cp1 --stack-file F -- cmd`): those before `--` are
    taken back as options.
    """
    command = list(args.command)
    if "--" in command:
        split = command.index("--")
        options = Parser(add_help=False)
        add_stack_options(options)
        args = options.parse_args(command[:split], namespace=args)
        command = command[split + 1 :]
    return args, command


def cmd_ssh(args: argparse.Namespace) -> int:
    args, command = ssh_command(args)
    spec = load_spec_from_args(args, show_warnings=False)
    try:
        target = ssh.target(spec, args.node)
    except LabError as err:
        return fail(str(err))
    if not target.known_hosts.exists():
        return fail(f"lab {spec.name} is not up", "run `groundwork lab up` first")
    argv = target.argv(command, batch=bool(command))
    os.execvp(argv[0], argv)


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "lab",
        summary="create, inspect and remove the lab machines on this host",
        description=(
            "The lab turns a stack's `lab` block into machines on this host: privileged "
            "podman containers booting systemd on an internal network with no route out, "
            "reachable over SSH with pinned host keys, plus an offline artifact mirror "
            "on the lab gateway. Needs root and podman."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork lab up\n"
            "  groundwork lab status --output json\n"
            "  groundwork lab ssh cp1 -- systemctl is-system-running\n"
            "  groundwork lab replace w2\n"
            "  groundwork lab down\n"
            "\nEach subverb has its own --help."
        ),
        stack=False,
    )
    verbs = parser.add_subparsers(dest="lab_verb", metavar="SUBVERB", required=True)

    up = add_verb(
        verbs,
        "up",
        summary="create or repair the lab (a no-op when it is already up)",
        description=(
            "Build (or reuse the cached) node image and artifact mirror, create the lab "
            "network and nodes, pin their host keys and start the mirror. Running it on "
            "a lab that is up changes nothing and reports the lab."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork lab up\n"
            "  groundwork lab up --artifacts ~/kubernetes-1.36.4-bin\n"
            "\nExit codes: 0 the lab is up, 1 it is not (the table says which part), "
            "2 invalid stack."
        ),
        run=cmd_up,
    )
    up.add_argument(
        "--artifacts",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            "directory with official kube-apiserver, kube-controller-manager, "
            "kube-scheduler, kubelet, kube-proxy (and optionally kubectl) for linux/amd64; "
            "each must match the sha256 pinned in groundwork/versions.py"
        ),
    )

    replace = add_verb(
        verbs,
        "replace",
        summary="swap one machine for a new one with an empty disk",
        description=(
            "Remove NODE's machine with its disk and make a new one at the same address, "
            "as when a failed disk is swapped. A machine that is only off (a power cut, "
            "`systemctl poweroff`) needs no replacing: `lab up` powers it on with its disk."
        ),
        epilog=(
            "Example:\n  groundwork lab replace w2\n"
            "\nAn etcd member replaced this way rejoins with "
            "`groundwork up --replace-member NODE`.\n"
            "\nExit codes: 0 the lab is up, 1 it is not, 2 invalid stack."
        ),
        run=cmd_replace,
    )
    replace.add_argument("node", metavar="NODE", help="the node to replace")

    add_verb(
        verbs,
        "down",
        summary="remove the lab: nodes, network, mirror process, state",
        description="Remove every node, the lab network and the mirror process; "
        "the image and mirror caches are kept for the next `up`.",
        epilog="Example:\n  groundwork lab down --stack lab\n"
        "\nExit codes: 0 nothing is left, 1 something was left behind (it is named).",
        run=cmd_down,
    )

    add_verb(
        verbs,
        "status",
        summary="show each node's address, roles, state and reachability",
        description="A table of node, address, roles, systemd state, SSH reachable and "
        "mirror reachable. Exit 0 when the lab is fully up, 1 otherwise.",
        epilog="Examples:\n  groundwork lab status\n"
        "  groundwork lab status --output json | jq '.up'\n"
        "\nExit codes: 0 fully up, 1 not (or podman failed), 2 invalid stack.",
        output="one row per node",
        run=cmd_status,
    )

    ssh_p = add_verb(
        verbs,
        "ssh",
        summary="open a shell on a node, or run a command there (after --)",
        description="SSH to a lab node with the lab key and its pinned host key "
        "(StrictHostKeyChecking=yes). Without a command, an interactive shell.",
        epilog="Examples:\n  groundwork lab ssh cp1\n"
        "  groundwork lab ssh w1 -- systemctl status containerd\n"
        "\nExit code: the remote command's.",
        run=cmd_ssh,
    )
    ssh_p.add_argument("node", metavar="NODE", help="node name from the stack")
    ssh_p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD",
        help="command to run on the node, after `--` (default: a login shell)",
    )

"""`groundwork init`: scaffold a stack, and pin its nodes' host keys once a
person has compared their fingerprints."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from groundwork import paths
from groundwork.cli.common import Subparsers, add_verb, console, err_console, fail
from groundwork.init import (
    Answers,
    HostKey,
    InitError,
    NodeAnswer,
    built_versions,
    parse_node,
    scan_host_keys,
    stack_document,
    stack_text,
)
from groundwork.spec import parse_cluster


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "init",
        summary="scaffold a stack for your machines and pin their host keys",
        description=(
            "Write stacks/Pulumi.NAME.yaml for machines of your own: the nodes, the control "
            "plane endpoint, the pod network and the site mirror, with the versions this "
            "checkout builds. The stack is validated before it is written, and an existing "
            "file is never overwritten. Then each node's host key is scanned (ssh-keyscan) and "
            "its SHA256 fingerprint shown: compare each with the node's console "
            "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) before you accept, as a scan "
            "crosses the network. Accepted keys go to <state dir>/NAME/ssh/known_hosts. "
            "Missing answers are asked for on a terminal."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork init site --node cp1=10.20.0.11:cp --node w1=10.20.0.21 "
            "--endpoint-dns api.site.internal --mirror http://mirror.site.internal/groundwork\n"
            "  groundwork init site --node cp1=10.20.0.11:cp --mirror http://m/g --endpoint-dns api "
            "--no-scan   # pin the host keys yourself (README)\n"
            "  groundwork init                          # asks for every answer\n"
            "\nExit codes: 0 written, 1 a scan or a refused fingerprint, 2 the answers make an "
            "invalid stack (nothing written)."
        ),
        run=run_init,
        stack=False,
        yes=True,
    )
    parser.add_argument("name", nargs="?", help="the stack's name (lowercase, digits, '-')")
    parser.add_argument(
        "--node",
        action="append",
        default=[],
        metavar="NAME=ADDRESS[:ROLES]",
        help="a node; ROLES: cp (control plane and etcd member), control-plane, etcd, worker "
        "(default), comma-separated; repeat for each node",
    )
    endpoint = parser.add_mutually_exclusive_group()
    endpoint.add_argument("--endpoint-vip", metavar="IP", help="a VIP the control plane holds")
    endpoint.add_argument("--endpoint-dns", metavar="NAME", help="a DNS name of the control plane")
    parser.add_argument("--mirror", metavar="URL", help="the site mirror the nodes install from")
    parser.add_argument("--plugin", default="flannel", help="network plugin (default flannel)")
    parser.add_argument("--backend", default="vxlan", help="its backend (default vxlan)")
    parser.add_argument("--node-cidr", help="the nodes' network (default: the /24 they share)")
    parser.add_argument("--ssh-user", default="root", help="SSH user on the nodes (default root)")
    parser.add_argument("--ssh-key", help="SSH private key for the nodes")
    parser.add_argument("--ssh-port", type=int, default=22, help="SSH port (default 22)")
    parser.add_argument(
        "--no-scan", action="store_true", help="write the stack only; pin host keys yourself"
    )
    parser.add_argument(
        "--stack-file", type=Path, help="where to write it (default: <stacks dir>/Pulumi.NAME.yaml)"
    )


def _ask(question: str) -> str:
    if not sys.stdin.isatty():
        return ""
    return input(f"{question}: ").strip()


def answers_from(args: argparse.Namespace) -> Answers:
    name = args.name or _ask("stack name")
    node_texts = list(args.node)
    while not args.node and sys.stdin.isatty():
        text = _ask("node NAME=ADDRESS[:ROLES] (empty line: done)")
        if not text:
            break
        node_texts.append(text)
    vip, dns = args.endpoint_vip, args.endpoint_dns
    if not (vip or dns):
        answer = _ask("control plane endpoint (an IP for a VIP, else a DNS name)")
        vip, dns = (answer, None) if answer[:1].isdigit() else (None, answer or None)
    mirror = args.mirror or _ask("site mirror URL")
    missing = [
        flag
        for flag, value in (("NAME", name), ("--node", node_texts), ("--mirror", mirror))
        if not value
    ]
    if missing:
        raise InitError(f"missing: {', '.join(missing)} (or run on a terminal to be asked)")
    nodes: tuple[NodeAnswer, ...] = tuple(parse_node(t) for t in node_texts)
    return Answers(
        name=name,
        nodes=nodes,
        mirror=mirror,
        endpoint_vip=vip,
        endpoint_dns=dns,
        plugin=args.plugin,
        backend=args.backend,
        node_cidr=args.node_cidr,
        ssh_user=args.ssh_user,
        ssh_key=args.ssh_key,
        ssh_port=args.ssh_port,
    )


def run_init(args: argparse.Namespace) -> int:
    try:
        answers = answers_from(args)
        document = stack_document(answers, built_versions())
    except InitError as err:
        return fail(str(err))
    parse_cluster(document, "the answers")  # every problem, exit 2, nothing written
    target = args.stack_file or paths.stacks_dir() / f"Pulumi.{answers.name}.yaml"
    if target.exists():
        return fail(f"{target} exists: nothing was written", "choose another name or --stack-file")
    keys = [] if args.no_scan else _scan(answers)
    if keys and not _accepted(keys, args.yes):
        return fail("fingerprints not accepted: nothing was written")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(stack_text(document, datetime.date.today().isoformat()))
    console.print(f"wrote {target}")
    known_hosts = paths.state_root() / answers.name / "ssh" / "known_hosts"
    if keys:
        paths.state_dir(answers.name)  # 0700
        _pin(known_hosts, keys)
        console.print(f"pinned {len(keys)} host key(s) in {known_hosts}")
    else:
        console.print(f"host keys: pin them in {known_hosts} (README: Host keys)")
    console.print(f"next: groundwork validate --stack-file {target}, then groundwork up")
    return 0


def _scan(answers: Answers) -> list[HostKey]:
    keys: list[HostKey] = []
    problems: list[str] = []
    for node in answers.nodes:
        try:
            keys += scan_host_keys(node.address, answers.ssh_port)
        except InitError as err:
            problems.append(str(err))
    if problems:
        fail("; ".join(problems), "check the addresses and that sshd runs, or use --no-scan")
    return keys


def _accepted(keys: list[HostKey], yes: bool) -> bool:
    for key in keys:
        err_console.print(f"  {key.host}  {key.kind}  {key.fingerprint}")
    if yes:
        err_console.print("accepted without asking (--yes): the scan crossed the network")
        return True
    return _ask("do these match each node's own fingerprint? (yes/no)") == "yes"


def _pin(known_hosts: Path, keys: list[HostKey]) -> None:
    """Add the keys; a host already pinned keeps its line (a changed key is
    the user's to replace, never ours to overwrite)."""
    known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = known_hosts.read_text().splitlines() if known_hosts.exists() else []
    pinned = {line.split()[0] for line in lines if line.strip()}
    for key in keys:
        if key.host in pinned:
            err_console.print(f"{key.host} is already pinned in {known_hosts}: kept as it was")
        else:
            lines.append(key.line)
    known_hosts.write_text("\n".join(lines) + "\n")
    known_hosts.chmod(0o600)

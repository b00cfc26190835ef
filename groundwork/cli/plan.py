"""`groundwork validate` and `groundwork plan`: read a stack, never a host."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.table import Table

from groundwork.cli.common import add_stack_options, console, fail, load_spec_from_args
from groundwork.plan import ClusterPlan, build_plan


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate",
        help="check a stack declaration (no host is contacted)",
        description=(
            "Parse and validate a stack's groundwork:cluster value. Every problem is "
            "listed at once, one per line, starting with its config path "
            "(e.g. `cluster.network.podCidr: overlaps cluster.network.serviceCidr "
            "10.96.0.0/12`). Warnings go to stderr. No host is contacted."
        ),
        epilog="Exit codes: 0 valid, 2 invalid, 1 the stack could not be read.",
    )
    add_stack_options(validate)
    validate.set_defaults(func=run_validate)

    plan = subparsers.add_parser(
        "plan",
        help="show what a stack derives to: subnets, MTU, endpoint, ports, etcd, kernel",
        description=(
            "Validate a stack, then print its plan: nodes with roles, addresses and pod "
            "subnets; the network (plugin, backend, pod MTU, CIDRs); the control plane "
            "endpoint; the ports to open between node roles; etcd members; kernel modules "
            "and sysctls. No host is contacted."
        ),
        epilog=(
            "Exit codes: 0 ok, 2 invalid stack (every problem listed with its path), "
            "1 other failures. With --output json only JSON is written to stdout."
        ),
    )
    add_stack_options(plan)
    plan.add_argument(
        "--output",
        "-o",
        choices=("table", "json"),
        default="table",
        help="table (default, readable) or json (the same data, for scripts)",
    )
    plan.set_defaults(func=run_plan)


def run_validate(args: argparse.Namespace) -> int:
    try:
        spec = load_spec_from_args(args)
    except (OSError, UnicodeError) as err:
        return fail(f"cannot read the stack: {err}", "check the path given to --stack/--stack-file")
    console.print(f"stack {spec.name} is valid ({len(spec.nodes)} nodes)")
    return 0


def run_plan(args: argparse.Namespace) -> int:
    try:
        spec = load_spec_from_args(args)
    except (OSError, UnicodeError) as err:
        return fail(f"cannot read the stack: {err}", "check the path given to --stack/--stack-file")
    plan = build_plan(spec)
    if args.output == "json":
        print(json.dumps(plan.to_dict(), indent=2))
    else:
        for table in tables(plan):
            console.print(table)
    return 0


def tables(plan: ClusterPlan) -> list[Table]:
    """The plan as rich tables, in reading order."""
    nodes = Table(title=f"Nodes of {plan.name} (Kubernetes {plan.kubernetes_version})")
    for column in ("name", "address", "roles", "pod subnet"):
        nodes.add_column(column)
    for node in plan.nodes:
        subnet = str(node.pod_subnet) if node.pod_subnet else "- (no kubelet)"
        nodes.add_row(node.name, str(node.address), ", ".join(node.roles), subnet)

    net = plan.network
    network = Table(title="Network", show_header=False)
    network.add_column("setting")
    network.add_column("value")
    for key, value in (
        ("plugin", net.plugin),
        ("backend", net.backend),
        ("node MTU", str(net.node_mtu)),
        ("pod MTU", f"{net.pod_mtu} ({net.encapsulation_overhead} bytes of encapsulation)"),
        ("pod CIDR", f"{net.pod_cidr} (/{net.node_subnet_size} per node)"),
        ("service CIDR", str(net.service_cidr)),
        ("kubernetes service", str(net.kubernetes_service_ip)),
        ("cluster DNS", f"{net.cluster_dns_ip} ({net.cluster_domain})"),
        ("kube-proxy", net.kube_proxy),
    ):
        network.add_row(key, value)

    ep = plan.endpoint
    endpoint = Table(title="Control plane endpoint", show_header=False)
    endpoint.add_column("setting")
    endpoint.add_column("value")
    endpoint.add_row("kind", ep.kind)
    endpoint.add_row("url", ep.url)
    endpoint.add_row("kube-apiserver port", str(ep.apiserver_port))
    endpoint.add_row("haproxy + keepalived", "yes" if ep.haproxy else "no")

    ports = Table(title="Ports to open")
    for column in ("to", "port", "from", "purpose"):
        ports.add_column(column)
    for rule in plan.ports:
        ports.add_row(rule.destination, rule.label, ", ".join(rule.sources), rule.purpose)

    etcd = Table(title=f"etcd {plan.etcd.version} (token {plan.etcd.initial_cluster_token})")
    for column in ("member", "peer URL", "client URL"):
        etcd.add_column(column)
    for member in plan.etcd.members:
        etcd.add_row(member.name, member.peer_url, member.client_url)

    kernel = Table(title="Kernel (every kubelet node)")
    for column in ("kind", "setting", "why"):
        kernel.add_column(column)
    for module in plan.kernel_modules:
        kernel.add_row("module", module.name, module.reason)
    for sysctl in plan.sysctls:
        kernel.add_row("sysctl", f"{sysctl.key} = {sysctl.value}", sysctl.reason)

    return [nodes, network, endpoint, ports, etcd, kernel]

"""`groundwork validate` and `groundwork plan`: read a stack, never a host."""

from __future__ import annotations

import argparse
from typing import Any

from rich.markup import escape
from rich.table import Table

from groundwork.cli.common import (
    Subparsers,
    add_verb,
    console,
    err_console,
    load_spec_from_args,
    print_json,
    problems_json,
    stack_file,
)
from groundwork.phases.pinned_bundles import unpinned_bundles
from groundwork.plan import ClusterPlan, bgp, build_plan, underlay
from groundwork.spec import ClusterSpec, warnings


def register(subparsers: Subparsers) -> None:
    add_verb(
        subparsers,
        "validate",
        summary="check a stack declaration (no host is contacted)",
        description=(
            "Parse and validate a stack's groundwork:cluster value. Every problem is "
            "listed at once, one per line, starting with its config path "
            "(e.g. `cluster.network.podCidr: overlaps cluster.network.serviceCidr "
            "10.96.0.0/12`). Warnings go to stderr. No host is contacted."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork validate --stack prod\n"
            "  groundwork validate --stack-file ../site/Pulumi.edge.yaml --output json\n"
            "\nExit codes: 0 valid, 2 invalid, 1 the stack could not be read."
        ),
        output="one line per problem",
        run=run_validate,
    )
    add_verb(
        subparsers,
        "plan",
        summary="show what a stack derives to: subnets, MTU, endpoint, ports, etcd, kernel",
        description=(
            "Validate a stack, then print its plan: nodes with roles, addresses and pod "
            "subnets; the network (plugin, backend, pod MTU, CIDRs); the control plane "
            "endpoint; the ports to open between node roles; etcd members; kernel modules "
            "and sysctls. No host is contacted. To see what `up` would change on each "
            "host instead, run `groundwork up --dry-run`."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork plan --stack prod\n"
            "  groundwork plan --stack prod --output json | jq '.nodes[].pod_subnet'\n"
            "\nExit codes: 0 ok, 2 invalid stack (every problem listed with its path), "
            "1 other failures. With --output json only JSON is written to stdout."
        ),
        output="readable tables",
        run=run_plan,
    )


def valid_document(spec: ClusterSpec, source: str) -> dict[str, Any]:
    """`validate --output json` for a valid stack (warnings included: they are
    legal but questionable, and a script may want to fail on them), and what
    only the Pulumi door installs."""
    return {
        "valid": True,
        "source": source,
        "stack": spec.name,
        "nodes": len(spec.nodes),
        "warnings": problems_json(warnings(spec)),
        "pulumi_door_only": unpinned_bundles(spec, build_plan(spec)),
    }


def run_validate(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    if args.output == "json":
        print_json(valid_document(spec, str(stack_file(args))))
    else:
        for line in unpinned_bundles(spec, build_plan(spec)):
            err_console.print(
                f"[yellow]note[/yellow] {escape(line)}: `groundwork up` refuses it before "
                "touching anything; `groundwork pulumi up` fetches it at install time"
            )
        console.print(f"stack {spec.name} is valid ({len(spec.nodes)} nodes)")
    return 0


def plan_document(spec: ClusterSpec, plan: ClusterPlan) -> dict[str, Any]:
    """`plan --output json`: the plan, how each node is reached over SSH (so a
    CI job can put its key where the stack says, without importing
    Groundwork), and the stack's warnings (as validate's)."""
    ssh = [
        {"node": n.name, "user": n.ssh.user, "port": n.ssh.port, "key": n.ssh.key}
        for n in spec.nodes
    ]
    return {**plan.to_dict(), "ssh": ssh, "warnings": problems_json(warnings(spec))}


def run_plan(args: argparse.Namespace) -> int:
    spec = load_spec_from_args(args)
    plan = build_plan(spec)
    if args.output == "json":
        print_json(plan_document(spec, plan))
    else:
        for table in tables(plan, spec):
            console.print(table)
    return 0


def pod_routing(spec: ClusterSpec, plan: ClusterPlan, name: str) -> str:
    """How a node's pods are reached, for the backends whose nodes hold more
    than a subnet: macvlan's shim and pod range, BGP's sessions (pure)."""
    shim = underlay.planned(spec, plan, name)
    if shim is not None:
        return f"{underlay.SHIM_DEVICE} {shim.shim}, pods {shim.range_start}-{shim.range_end}"
    speaker = bgp.planned(spec, plan, name)
    if speaker is not None:
        peers = ", ".join(f"{s.address} (AS {s.asn})" for s in speaker.sessions)
        return f"BIRD AS {speaker.asn}, peers {peers}"
    return ""


def tables(plan: ClusterPlan, spec: ClusterSpec) -> list[Table]:
    """The plan as rich tables, in reading order."""
    nodes = Table(title=f"Nodes of {plan.name} (Kubernetes {plan.kubernetes_version})")
    routing = {n.name: pod_routing(spec, plan, n.name) for n in plan.nodes}
    shown = any(routing.values())
    for column in (
        "name",
        "address",
        "roles",
        "pod subnet",
        *(["pods reached by"] if shown else []),
    ):
        nodes.add_column(column)
    for node in plan.nodes:
        subnet = str(node.pod_subnet) if node.pod_subnet else "- (no kubelet)"
        extra = [routing[node.name]] if shown else []
        nodes.add_row(node.name, str(node.address), ", ".join(node.roles), subnet, *extra)

    net = plan.network
    network = Table(title="Network", show_header=False)
    network.add_column("setting")
    network.add_column("value")
    for key, value in (
        ("plugin", net.plugin.value),
        ("backend", net.backend.value),
        ("node MTU", str(net.node_mtu)),
        ("pod MTU", f"{net.pod_mtu} ({net.encapsulation_overhead} bytes of encapsulation)"),
        ("pod CIDR", f"{net.pod_cidr} (/{net.node_subnet_size} per node)"),
        ("service CIDR", str(net.service_cidr)),
        ("kubernetes service", str(net.kubernetes_service_ip)),
        ("cluster DNS", f"{net.cluster_dns_ip} ({net.cluster_domain})"),
        ("kube-proxy", net.kube_proxy.value),
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
    for filesystem in plan.kernel_filesystems:
        # Not loaded by any role: only checked, so the row says what happens instead.
        why = (
            f"{filesystem.reason} ({filesystem.field}); the pre-flight refuses a kernel without it"
        )
        kernel.add_row("filesystem", filesystem.name, why)

    return [nodes, network, endpoint, ports, etcd, kernel]

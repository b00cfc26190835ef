"""Each network backend on a lab of its own, brought up as a user would.

`groundwork up --stack S` on a stack of stacks/ creates its three machines
(beside the `lab` stack's), builds and serves the backend's components, runs
the roles and the addons, then `verify`: pod-to-pod across every pair of
nodes, a Service by ClusterIP and by DNS name from each node, and the plan's
pod MTU on the wire (a don't-fragment ping of exactly that size crosses
between nodes, one of a byte more is refused). Then this module checks, on
each node, that the backend itself carries the packets: flannel's VXLAN
device and routes through it, host-gw's routes through the other nodes'
addresses, the macvlan underlay's pods on the lab network itself, reached
from the host with no route at all, or the bgp backend's routes learned by
BIRD over sessions established with every other node. Each lab is taken down at the end (its
machines go; the cache stays).

Before the first `up`, a copy of the VXLAN stack declaring WireGuard is
refused by the pre-flight, naming the node, the stack field and the device
type this kernel lacks, before any role has run.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from groundwork.lab import router
from groundwork.lab.layout import layout
from groundwork.manifests.netcheck import NAME as NETCHECK
from groundwork.manifests.netcheck import NAMESPACE as NETCHECK_NAMESPACE
from groundwork.manifests.netcheck import PORT as NETCHECK_PORT
from groundwork.paths import PROJECT_ROOT
from groundwork.phases import UP, Context, Options, run
from groundwork.pki import pki_dir
from groundwork.plan import build_plan
from groundwork.plan.underlay import SHIM_DEVICE, planned
from groundwork.progress import silent
from groundwork.spec import ClusterSpec, load_stack
from groundwork.spec.model import Backend
from groundwork.verify.kube import KubeApi, admin_credentials

pytestmark = pytest.mark.lab

GROUNDWORK = str(Path(sys.executable).parent / "groundwork")


def groundwork(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GROUNDWORK, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def on_node(stack: str, node: str, script: str) -> str:
    done = groundwork("lab", "ssh", node, "--stack", stack, "--", script, timeout=60)
    assert done.returncode == 0, f"{stack} {node}: {script}: {done.stdout}{done.stderr}"
    return done.stdout


def subnet_env(stack: str, node: str) -> dict[str, str]:
    """flanneld's lease on the node (/run/flannel/subnet.env)."""
    text = on_node(stack, node, "cat /run/flannel/subnet.env")
    return dict(line.split("=", 1) for line in text.split() if "=" in line)


def test_a_backend_the_kernel_cannot_serve_is_refused_before_any_role_runs(
    tmp_path: Path,
) -> None:
    source = PROJECT_ROOT / "stacks" / "Pulumi.lab-flannel.yaml"
    doc = yaml.safe_load(source.read_text())
    doc["config"]["groundwork:cluster"]["network"]["backend"] = "wireguard"
    copy = tmp_path / source.name
    copy.write_text(yaml.safe_dump(doc))
    done = groundwork("up", "--stack-file", str(copy), timeout=1800)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    for node in ("cp1", "w1", "w2"):
        assert f"{node}" in out
    assert "the kernel cannot create a wireguard device" in out, out
    assert "cluster.network.backend" in out, out
    # Refused at the pre-flight: no role ran, so no node has a kubelet unit.
    for node in ("cp1", "w1", "w2"):
        units = on_node("lab-flannel", node, "ls /etc/systemd/system")
        assert "kubelet.service" not in units and "containerd.service" not in units


@pytest.fixture(scope="module", params=["lab-flannel", "lab-hostgw", "lab-underlay", "lab-bgp"])
def backend_lab(request: pytest.FixtureRequest) -> Iterator[ClusterSpec]:
    stack = str(request.param)
    spec = load_stack(stack)
    try:
        done = groundwork("up", "--stack", stack)
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
        yield spec
    finally:
        groundwork("lab", "down", "--stack", stack, timeout=300)


def test_the_backend_carries_pod_traffic_between_every_pair_of_nodes(
    backend_lab: ClusterSpec,
) -> None:
    spec = backend_lab
    if spec.network.resolved_backend() is Backend.MACVLAN:
        underlay_carries_pod_traffic(spec)
        return
    if spec.network.resolved_backend() is Backend.BGP:
        bgp_carries_pod_traffic(spec)
        return
    stack = spec.name
    nodes = [n.name for n in spec.nodes]
    address = {n.name: str(n.address) for n in spec.nodes}
    leases = {node: subnet_env(stack, node) for node in nodes}
    pod_cidr = spec.network.pod_cidr[0]
    for node, lease in leases.items():
        leased = ipaddress.ip_interface(lease["FLANNEL_SUBNET"]).network
        assert leased.subnet_of(pod_cidr), f"{node}: {leased} outside {pod_cidr}"  # type: ignore[arg-type]
    vxlan = spec.network.resolved_backend() is Backend.VXLAN
    for node in nodes:
        links = json.loads(on_node(stack, node, "ip -d -j link show"))
        flannel_link = next((link for link in links if link["ifname"] == "flannel.1"), None)
        if vxlan:
            assert flannel_link is not None, f"{node}: no flannel.1 device"
            assert flannel_link["linkinfo"]["info_kind"] == "vxlan"
            assert flannel_link["mtu"] == spec.network.node_mtu - 50
            assert leases[node]["FLANNEL_MTU"] == str(spec.network.node_mtu - 50)
        else:
            assert flannel_link is None, f"{node}: host-gw made a VXLAN device"
            assert leases[node]["FLANNEL_MTU"] == str(spec.network.node_mtu)
        for peer in nodes:
            if peer == node:
                continue
            peer_subnet = ipaddress.ip_interface(leases[peer]["FLANNEL_SUBNET"]).network
            route = on_node(stack, node, f"ip route show {peer_subnet}").strip()
            if vxlan:
                assert "dev flannel.1" in route, f"{node} -> {peer}: {route!r}"
            else:
                assert f"via {address[peer]}" in route, f"{node} -> {peer}: {route!r}"


def underlay_carries_pod_traffic(spec: ClusterSpec) -> None:
    """macvlan: each pod holds an address of its node's range of the lab
    network on a macvlan device; no node has a route for another node's
    pods (the network is on-link); the host, a machine on that network with
    no route to any pod, fetches from every netcheck pod by its address."""
    plan = build_plan(spec)
    stack = spec.name
    api = KubeApi(plan.endpoint.url, admin_credentials(pki_dir(stack)))
    pods = api.get(f"/api/v1/namespaces/{NETCHECK_NAMESPACE}/pods")["items"]
    by_node = {p["spec"]["nodeName"]: p for p in pods if p["status"].get("podIP")}
    assert sorted(by_node) == sorted(n.name for n in spec.nodes), sorted(by_node)
    for node in spec.nodes:
        underlay = planned(spec, plan, node.name)
        assert underlay is not None
        pod = by_node[node.name]
        ip = ipaddress.IPv4Address(pod["status"]["podIP"])
        assert underlay.range_start <= ip <= underlay.range_end, f"{node.name}: pod at {ip}"
        assert ip in underlay.network
        # The pod's interface is a macvlan device on the node's interface.
        links = json.loads(on_node(stack, node.name, "ip -d -j link show"))
        shim = next(link for link in links if link["ifname"] == SHIM_DEVICE)
        assert shim["linkinfo"]["info_kind"] == "macvlan"
        assert shim["linkinfo"]["info_data"]["mode"] == "bridge"
        routes = on_node(stack, node.name, "ip -4 route show proto 201").split("\n")
        others = [str(o.pod_subnet) for o in plan.nodes if o.name != node.name]
        assert not [r for r in routes if r.split(" ")[0] in others], routes
        # From the host: on-link, by the pod's own address.
        host = subprocess.run(
            ["ip", "-4", "route", "get", str(ip)], capture_output=True, text=True, check=True
        ).stdout
        assert " via " not in host, host
        with urllib.request.urlopen(f"http://{ip}:{NETCHECK_PORT}/hostname", timeout=5) as answer:
            assert answer.read().decode().strip() == pod["metadata"]["name"]
        assert pod["metadata"]["name"].startswith(NETCHECK)


def bird_routes(stack: str, node: str) -> dict[str, str]:
    """The routes BIRD gave the node's kernel: destination -> gateway."""
    routes = json.loads(on_node(stack, node, "ip -j -4 route show proto bird") or "[]")
    return {r["dst"]: r.get("gateway", "") for r in routes}


def bgp_carries_pod_traffic(spec: ClusterSpec) -> None:
    """bgp: on each node BIRD has a session Established with every other
    node, and the kernel routes each other node's pod subnet through that
    node's address as BIRD learned it (proto bird), with no static route.
    The lab's router (BIRD on the gateway, a declared peer) learned every
    node's subnet from that node. BIRD stopped on one node: the others and
    the router withdraw its routes at once (its pods become unreachable,
    which verify names); `up` starts it again and every node has learned
    every route back before `up` ends."""
    plan = build_plan(spec)
    stack = spec.name
    subnets = {n.name: (str(n.pod_subnet), str(n.address)) for n in plan.nodes if n.pod_subnet}
    for node in subnets:
        protocols = on_node(stack, node, "birdc -r show protocols")
        established = {
            line.split()[0]
            for line in protocols.splitlines()
            if line.rstrip().endswith("Established")
        }
        assert established == {"peer_0", *(f"mesh_{o}" for o in subnets if o != node)}, protocols
        expected = {subnet: via for other, (subnet, via) in subnets.items() if other != node}
        assert bird_routes(stack, node) == expected
        assert (
            on_node(stack, node, "ip -4 route show proto 201 root 10.0.0.0/8").count("via") == 0
        ), "a static pod route on a bgp node"
    # The lab's router on the gateway (network.bgp.peers) learned every
    # node's subnet from that node, over a session of its own with each.
    lab = layout(spec)
    announced = {subnet: via for subnet, via in subnets.values()}
    assert router.learned_routes(lab) == announced
    stopped = "w2"
    on_node(stack, stopped, "systemctl stop bird")
    withdrawn = subnets[stopped][0]
    for node in subnets:
        if node != stopped:
            assert withdrawn not in bird_routes(stack, node), f"{node} kept {withdrawn}"
    assert withdrawn not in router.learned_routes(lab)
    done = groundwork("up", "--stack", stack)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    for node in subnets:
        expected = {subnet: via for other, (subnet, via) in subnets.items() if other != node}
        assert bird_routes(stack, node) == expected, node
    deadline = time.monotonic() + 20
    while router.learned_routes(lab) != announced and time.monotonic() < deadline:
        time.sleep(1)
    assert router.learned_routes(lab) == announced


def test_a_no_change_up_changes_nothing(backend_lab: ClusterSpec) -> None:
    spec = backend_lab
    options = Options(live=False, lab=True, kubernetes=True, verify=False)
    context = Context(spec, options, Console(width=160), silent)
    result = run(UP, context)
    summary = context.summary
    assert summary is not None and summary.ok, result.describe_failure()
    changed = {h.name: h.changed_tasks for h in summary.hosts if h.changed}
    assert changed == {}, f"a no-change up changed something: {changed}"


def test_destroy_leaves_nothing_of_the_backend_on_the_nodes(backend_lab: ClusterSpec) -> None:
    """A rebuild onto another backend starts from clean nodes: reset.yml
    removes flannel's device, its routes (host-gw's have no protocol of
    their own), its nftables tables and its CNI configuration, which would
    otherwise sort before the next plugin's and take every new pod; the
    macvlan backend's shim (with it, the route to the node's pods); and the
    bgp backend's BIRD, stopped, its learned routes withdrawn."""
    spec = backend_lab
    stack = spec.name
    done = groundwork("destroy", "--stack", stack, "--yes", timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    pod_cidr = spec.network.pod_cidr[0]
    for node in (n.name for n in spec.nodes):
        left = on_node(
            stack,
            node,
            "ip -o link show flannel.1 2>/dev/null; ip -o link show gw-shim 2>/dev/null; "
            "ip -4 route show proto bird; systemctl is-active bird 2>/dev/null | grep -x active; "
            f"ip -4 route show root {pod_cidr}; "
            "nft list tables 2>/dev/null | grep flannel; "
            "find /etc/cni/net.d /run/flannel -mindepth 1 2>/dev/null; true",
        )
        assert left.strip() == "", f"{stack} {node} keeps: {left}"

"""The bridge plugin's macvlan backend: pods on the nodes' own network.
Validation, the plan of each node's shim and pod range, the inventory, the
pre-flight's device probe and what verify expects."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from _stacks import declared, problems

from groundwork import preflight
from groundwork.inventory.render import Connection, hosts
from groundwork.plan import build_plan, kernel
from groundwork.plan.underlay import planned, underlay_node
from groundwork.spec import load_stack
from groundwork.spec.model import Backend, KubeProxyMode, Plugin
from groundwork.verify.expect import expectations

STACK = "lab-underlay"


def test_the_lab_underlay_stack_is_valid_and_its_pods_live_on_the_lab_network() -> None:
    spec = load_stack(STACK)
    assert (spec.network.plugin, spec.network.resolved_backend()) == (
        Plugin.BRIDGE,
        Backend.MACVLAN,
    )
    assert spec.lab is not None
    assert spec.network.pod_cidr[0].subnet_of(spec.lab.subnet)  # type: ignore[arg-type]
    # Nothing to encapsulate: pods get the network's MTU.
    assert build_plan(spec).network.pod_mtu == spec.network.node_mtu


def test_a_pod_cidr_outside_the_nodes_network_is_refused() -> None:
    cluster = declared(STACK)
    cluster["network"]["podCidr"] = "10.244.0.0/16"
    assert problems(cluster) == [
        "cluster.network.podCidr: 10.244.0.0/16 is not inside cluster.lab.subnet 10.80.0.0/16: "
        "with the macvlan backend pods live on the nodes' network, so podCidr must be a range "
        "of it that no node or router uses"
    ]


def test_the_lab_gateway_inside_the_pod_cidr_is_refused_with_the_other_problems() -> None:
    cluster = declared(STACK)
    cluster["network"]["podCidr"] = "10.80.0.0/17"
    found = problems(cluster)
    assert (
        "cluster.lab.gateway: 10.80.0.1 is inside podCidr 10.80.0.0/17: a pod would get the lab "
        "gateway's address"
    ) in found
    # Every node address and the VIP sit in that range too: each is named.
    assert (
        "cluster.nodes[0].address: 10.80.0.11 is inside cluster.network.podCidr 10.80.0.0/17"
        in found
    )
    assert any(p.startswith("cluster.controlPlane.endpoint.vip") for p in found), found


def test_the_pod_cidr_still_may_not_overlap_the_service_cidr() -> None:
    cluster = declared(STACK)
    cluster["network"]["serviceCidr"] = "10.80.192.0/18"
    found = problems(cluster)
    assert any("overlaps cluster.network.serviceCidr" in p for p in found), found


def test_without_a_lab_the_nodes_network_must_be_declared() -> None:
    cluster = declared(STACK)
    del cluster["lab"]
    cluster["artifacts"] = {"source": "mirror", "mirror": "http://mirror.example"}
    cluster["controlPlane"] = {"endpoint": {"dns": "api.example"}}
    cluster["containerRuntime"].pop("registryMirrors")
    found = problems(cluster)
    assert (
        "cluster.network.nodeCidr: required with the macvlan backend: pods get addresses of the "
        "nodes' network, from podCidr inside it"
    ) in found


def test_the_static_routes_backend_still_refuses_a_pod_cidr_inside_the_nodes_network() -> None:
    cluster = declared(STACK)
    cluster["network"]["backend"] = "static-routes"
    found = problems(cluster)
    assert "cluster.network.podCidr: overlaps cluster.lab.subnet 10.80.0.0/16" in found


def test_each_node_gets_a_shim_at_the_first_address_of_its_range() -> None:
    node = underlay_node(
        IPv4Network("10.80.0.0/16"),
        IPv4Network("10.80.149.0/24"),
        IPv4Address("10.80.0.21"),
        IPv4Address("10.80.0.10"),
    )
    assert node.shim == IPv4Interface("10.80.149.1/24")
    assert (node.range_start, node.range_end) == (
        IPv4Address("10.80.149.2"),
        IPv4Address("10.80.149.254"),
    )
    # Pods reach their own node and the VIP (which macvlan cannot reach on
    # the parent) and everything off the network through the shim.
    assert [str(n) for n in node.via_shim] == ["0.0.0.0/0", "10.80.0.21/32", "10.80.0.10/32"]


def test_the_inventory_hands_the_role_each_nodes_underlay() -> None:
    spec = load_stack(STACK)
    plan = build_plan(spec)
    connection = Connection(known_hosts=Path("/state/ssh/known_hosts"), lab_key=Path("/state/id"))
    doc = hosts(spec, plan, connection)
    host_vars = doc["all"]["hosts"]
    assert host_vars["w1"]["gw_underlay"] == {
        "device": "gw-shim",
        "network": "10.80.0.0/16",
        "shim": "10.80.149.1/24",
        "gateway": "10.80.149.1",
        "range_start": "10.80.149.2",
        "range_end": "10.80.149.254",
        "routes": ["0.0.0.0/0", "10.80.0.21/32", "10.80.0.10/32"],
    }
    # Not on another backend.
    lab = load_stack("lab")
    assert planned(lab, build_plan(lab), "w1") is None


def test_the_kernel_needs_macvlan_and_no_bridge() -> None:
    names = [
        m.name
        for m in kernel.kernel_modules(Plugin.BRIDGE, Backend.MACVLAN, KubeProxyMode.NFTABLES)
    ]
    assert "macvlan" in names and "bridge" not in names


def test_the_preflight_creates_a_macvlan_device_on_the_interface_holding_the_address() -> None:
    argv = preflight.link_probe_command("macvlan", "10.80.0.21")
    script = argv[-1]
    assert "ip -o -4 addr show to 10.80.0.21" in script
    assert "type macvlan mode bridge" in script and script.endswith("ip link del gw-probe0")


def test_verify_expects_the_shim_and_no_static_routes() -> None:
    spec = load_stack(STACK)
    expect = expectations(spec)
    w1 = expect.node("w1")
    assert w1.underlay is not None and str(w1.underlay.shim) == "10.80.149.1/24"
    assert all(n.routes == () for n in expect.nodes)

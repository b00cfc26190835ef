"""The bridge plugin's bgp backend: BIRD on every node that runs pods, a full
iBGP mesh plus the stack's routers. The plan of each node's sessions, the
inventory, the packages and ports, BIRD's configuration and what verify
expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from _stacks import declared

from groundwork.inventory.render import Connection, hosts
from groundwork.lab import router as lab_router
from groundwork.paths import PROJECT_ROOT
from groundwork.plan import bgp, build_plan, ports
from groundwork.spec import load_stack, parse_cluster
from groundwork.spec.model import Backend, Plugin
from groundwork.verify.expect import expectations

STACK = "lab-bgp"
ROLES = PROJECT_ROOT / "roles"


def test_the_lab_bgp_stack_routes_with_bgp_at_the_full_mtu() -> None:
    spec = load_stack(STACK)
    assert (spec.network.plugin, spec.network.resolved_backend()) == (Plugin.BRIDGE, Backend.BGP)
    assert build_plan(spec).network.pod_mtu == spec.network.node_mtu


def test_each_node_peers_with_every_other_node_and_the_declared_routers() -> None:
    cluster = declared(STACK)
    cluster["network"]["bgp"] = {"asn": 64600, "peers": [{"address": "10.81.0.1", "asn": 64512}]}
    spec = parse_cluster(cluster)
    node = bgp.planned(spec, build_plan(spec), "w1")
    assert node is not None
    assert (node.router_id, node.asn, node.announce) == ("10.81.0.21", 64600, "10.247.21.0/24")
    assert [(s.protocol, s.address, s.asn) for s in node.sessions] == [
        ("mesh_cp1", "10.81.0.11", 64600),
        ("mesh_w2", "10.81.0.22", 64600),
        ("peer_0", "10.81.0.1", 64512),
    ]


def test_bird_protocol_names_take_any_node_name() -> None:
    assert bgp.protocol_name("mesh", "rack-2.w10") == "mesh_rack_2_w10"


def test_the_inventory_gives_bird_and_its_settings_only_to_bgp_nodes() -> None:
    connection = Connection(known_hosts=Path("/state/ssh/known_hosts"), lab_key=Path("/state/id"))
    spec = load_stack(STACK)
    w1 = hosts(spec, build_plan(spec), connection)["all"]["hosts"]["w1"]
    assert w1["gw_bgp"] == {
        "router_id": "10.81.0.21",
        "asn": 64512,
        "announce": "10.247.21.0/24",
        "sessions": [
            {"protocol": "mesh_cp1", "address": "10.81.0.11", "asn": 64512},
            {"protocol": "mesh_w2", "address": "10.81.0.22", "asn": 64512},
            {"protocol": "peer_0", "address": "10.81.0.1", "asn": 64513},
        ],
    }
    assert "bird2" in w1["gw_node_packages"]
    lab = load_stack("lab")
    other = hosts(lab, build_plan(lab), connection)["all"]["hosts"]["w1"]
    assert "gw_bgp" not in other and "bird2" not in other["gw_node_packages"]


def test_bgp_opens_tcp_179_to_the_nodes_and_the_declared_routers() -> None:
    rules = build_plan(load_stack(STACK)).ports
    bgp_rules = [r for r in rules if r.port == 179]
    assert bgp_rules and all(r.protocol == "tcp" for r in bgp_rules)
    assert {r.purpose for r in bgp_rules} == {"BIRD BGP (routes to pod subnets)"}
    assert [r for r in bgp_rules if ports.BGP_PEERS in r.sources]
    cluster = declared(STACK)
    cluster["network"]["bgp"] = {"asn": 64512}
    rules = build_plan(parse_cluster(cluster)).ports
    assert not [r for r in rules if r.port == 179 and ports.BGP_PEERS in r.sources]


def test_a_lab_stack_peering_with_its_gateway_gets_the_labs_router() -> None:
    spec = load_stack(STACK)
    router = lab_router.planned(spec)
    assert router is not None
    assert (router.address, router.asn, router.cluster_asn) == ("10.81.0.1", 64513, 64512)
    assert [(s.protocol, s.address) for s in router.sessions] == [
        ("node_cp1", "10.81.0.11"),
        ("node_w1", "10.81.0.21"),
        ("node_w2", "10.81.0.22"),
    ]
    conf = lab_router.config(router)
    assert conf.count("strict bind on;") == 3 and "local 10.81.0.1 as 64513;" in conf
    # It learns; it announces nothing and touches no kernel table.
    assert "export none;" in conf and "protocol kernel" not in conf
    assert "direct;" not in conf  # eBGP: BIRD's own defaults for a neighbour on the link
    # A router elsewhere is the site's own: the lab runs none.
    cluster = declared(STACK)
    cluster["network"]["bgp"]["peers"] = [{"address": "192.0.2.1", "asn": 65000}]
    other = parse_cluster(cluster)
    assert lab_router.planned(other) is None


def render_bird(node: dict[str, Any]) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    text = (ROLES / "network" / "templates" / "bird.conf.j2").read_text()
    return env.from_string(text).render(
        ansible_managed="Ansible managed", network_node_address="10.81.0.21", network_bgp=node
    )


def test_bird_announces_the_pod_subnet_and_exports_only_bgp_routes_to_the_kernel() -> None:
    node = {
        "router_id": "10.81.0.21",
        "asn": 64512,
        "announce": "10.247.21.0/24",
        "sessions": [
            {"protocol": "mesh_cp1", "address": "10.81.0.11", "asn": 64512},
            {"protocol": "peer_0", "address": "192.0.2.1", "asn": 65000},
        ],
    }
    conf = render_bird(node)
    assert "router id 10.81.0.21;" in conf
    assert "route 10.247.21.0/24 blackhole;" in conf
    assert "export where source = RTS_BGP;" in conf
    mesh = conf[conf.index("protocol bgp mesh_cp1") : conf.index("protocol bgp peer_0")]
    assert "neighbor 10.81.0.11 as 64512;" in mesh
    assert "direct;" in mesh and "gateway direct;" in mesh
    # A router of another AS: eBGP, its own next hop rules.
    router = conf[conf.index("protocol bgp peer_0") :]
    assert "neighbor 192.0.2.1 as 65000;" in router and "direct;" not in router
    assert conf.count("export filter announce_pods;") == 2


def test_verify_expects_every_other_nodes_subnet_learned_and_no_static_route() -> None:
    expect = expectations(load_stack(STACK))
    w1 = expect.node("w1")
    assert w1.bgp is not None and w1.routes == ()
    assert [(r.node, r.subnet, r.via) for r in w1.routes_over_bgp] == [
        ("cp1", "10.247.11.0/24", "10.81.0.11"),
        ("w2", "10.247.22.0/24", "10.81.0.22"),
    ]

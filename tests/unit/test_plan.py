"""The plan: pure derivations from the three stacks, and IPAM stability."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundwork import preflight
from groundwork.plan import build_plan, certs, endpoint, etcd, ipam, kernel, mtu, ports
from groundwork.spec import SpecError, load_stack, parse_cluster
from groundwork.spec.model import (
    Backend,
    DnsEndpoint,
    KubeProxyMode,
    LoadBalancerEndpoint,
    Plugin,
    VipEndpoint,
)
from groundwork.spec.rules import pod_subnet_collisions

POD = IPv4Network("10.244.0.0/16")


def labels(plan_ports: tuple[ports.PortRule, ...], destination: str) -> set[str]:
    return {r.label for r in plan_ports if r.destination == destination}


# --- ipam ----------------------------------------------------------------


def test_lab_subnets_follow_the_last_octet() -> None:
    plan = build_plan(load_stack("lab"))
    subnets = {n.name: str(n.pod_subnet) for n in plan.nodes}
    assert subnets == {
        "cp1": "10.244.11.0/24",
        "cp2": "10.244.12.0/24",
        "cp3": "10.244.13.0/24",
        "w1": "10.244.21.0/24",
        "w2": "10.244.22.0/24",
    }


def test_subnet_for_wraps_modulo_the_slot_count() -> None:
    # a /22 pod CIDR holds 4 /24s: the slot is the address mod 4
    pod = IPv4Network("10.1.0.0/22")
    assert ipam.slot_count(pod, 24) == 4
    assert ipam.subnet_for(pod, 24, IPv4Address("192.168.0.7")) == IPv4Network("10.1.3.0/24")
    assert ipam.subnet_for(pod, 26, IPv4Address("10.0.0.1")) == IPv4Network("10.1.0.64/26")


def test_subnet_larger_than_pod_cidr_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        ipam.slot_count(POD, 15)


def test_collisions_pair_each_later_node_with_the_first_holder() -> None:
    addresses = {
        "a": IPv4Address("10.0.0.5"),
        "b": IPv4Address("10.0.1.5"),  # same last octet as a
        "c": IPv4Address("10.0.2.5"),
        "d": IPv4Address("10.0.0.6"),
    }
    subnet = IPv4Network("10.244.5.0/24")
    assert ipam.collisions(POD, 24, addresses) == [("a", "b", subnet), ("a", "c", subnet)]


def test_identical_addresses_are_not_a_collision() -> None:
    addresses = {"a": IPv4Address("10.0.0.5"), "b": IPv4Address("10.0.0.5")}
    assert ipam.collisions(POD, 24, addresses) == []


addresses_strategy = st.dictionaries(
    keys=st.from_regex(r"n[0-9]{1,4}", fullmatch=True),
    values=st.integers(min_value=0, max_value=2**32 - 1).map(IPv4Address),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    base=addresses_strategy,
    extra=addresses_strategy,
    removed=st.sets(st.from_regex(r"n[0-9]{1,4}", fullmatch=True), max_size=10),
    prefix=st.integers(min_value=8, max_value=24),
    delta=st.integers(min_value=0, max_value=8),
)
def test_ipam_is_stable_under_adding_and_removing_nodes(
    base: dict[str, IPv4Address],
    extra: dict[str, IPv4Address],
    removed: set[str],
    prefix: int,
    delta: int,
) -> None:
    pod = IPv4Network((int(IPv4Address("10.0.0.0")) >> (32 - prefix) << (32 - prefix), prefix))
    size = min(prefix + delta, 30)
    before = ipam.allocate(pod, size, base)
    grown = ipam.allocate(pod, size, {**extra, **base})
    shrunk = ipam.allocate(pod, size, {k: v for k, v in base.items() if k not in removed})
    for name, subnet in before.items():
        assert grown[name] == subnet
        if name not in removed:
            assert shrunk[name] == subnet
    for subnet in grown.values():
        assert subnet.prefixlen == size
        assert subnet.subnet_of(pod)
    # distinct unless collisions (or identical addresses) explain it
    clashing = {later for _, later, _ in ipam.collisions(pod, size, base)}
    seen: dict[IPv4Network, IPv4Address] = {}
    for name, subnet in before.items():
        if name in clashing:
            continue
        assert subnet not in seen or seen[subnet] == base[name], (name, subnet)
        seen[subnet] = base[name]
    # every reported collision is real
    for first, later, subnet in ipam.collisions(pod, size, base):
        assert before[first] == before[later] == subnet


def _cluster(nodes: list[dict[str, object]], **network: object) -> dict[str, object]:
    return {
        "name": "t",
        "nodes": nodes,
        "controlPlane": {"endpoint": {"dns": "api.t.example"}},
        "network": {"nodeCidr": "10.0.0.0/16", **network},
        # No upstream release is pinned: validate refuses `source: upstream`.
        "artifacts": {"source": "mirror", "mirror": "http://mirror.t.example"},
    }


def test_rule_reports_colliding_nodes_with_paths() -> None:
    value = _cluster(
        [
            {"name": "cp1", "address": "10.0.0.11", "roles": ["control-plane", "etcd"]},
            {"name": "w1", "address": "10.0.1.11", "roles": ["worker"]},
        ]
    )
    with pytest.raises(SpecError) as caught:
        parse_cluster(value)
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "cluster.nodes[1].address: gets pod subnet 10.244.11.0/24, the same as "
        "cluster.nodes[0] (cp1); a node's pod subnet comes from the last 8 bits of its "
        "address, so give the nodes addresses that differ there, or use a larger podCidr "
        "or smaller node subnets (a larger nodeSubnetSize)"
    ]


def test_rule_ignores_etcd_only_nodes_and_accepts_a_wide_pod_cidr() -> None:
    nodes: list[dict[str, object]] = [
        {"name": "cp1", "address": "10.0.0.11", "roles": ["control-plane"]},
        {"name": "e1", "address": "10.0.1.11", "roles": ["etcd"]},
        {"name": "w1", "address": "10.0.2.12", "roles": ["worker"]},
    ]
    spec = parse_cluster({**_cluster(nodes), "etcd": {"topology": "external"}})
    assert list(pod_subnet_collisions(spec)) == []
    plan = build_plan(spec)
    assert plan.node("e1").pod_subnet is None
    assert not plan.node("e1").runs_kubelet
    assert str(plan.node("w1").pod_subnet) == "10.244.12.0/24"


def test_pod_cidr_wide_enough_for_the_node_network_never_collides() -> None:
    # 2**(26-10) slots cover every address of a /16 node network
    nodes: list[dict[str, object]] = [
        {"name": "cp1", "address": "10.10.0.11", "roles": ["control-plane", "etcd"]},
        {"name": "w1", "address": "10.10.1.11", "roles": ["worker"]},
    ]
    spec = parse_cluster(
        _cluster(nodes, nodeCidr="10.10.0.0/16", podCidr="100.64.0.0/10", nodeSubnetSize=26)
    )
    subnets = {n.name: str(n.pod_subnet) for n in build_plan(spec).nodes}
    assert subnets == {"cp1": "100.64.2.192/26", "w1": "100.64.66.192/26"}


# --- mtu -----------------------------------------------------------------


@pytest.mark.parametrize(("stack", "expected"), [("lab", 1500), ("dev", 1450), ("prod", 9000)])
def test_pod_mtu_of_the_stacks(stack: str, expected: int) -> None:
    assert build_plan(load_stack(stack)).pod_mtu == expected


@pytest.mark.parametrize(
    ("plugin", "backend", "expected"),
    [
        (Plugin.FLANNEL, Backend.WIREGUARD, 1420),
        (Plugin.CALICO, Backend.IPIP, 1480),
        (Plugin.CILIUM, Backend.GENEVE, 1450),
        (Plugin.KUBE_ROUTER, Backend.BGP, 1500),
    ],
)
def test_pod_mtu_subtracts_the_encapsulation(
    plugin: Plugin, backend: Backend, expected: int
) -> None:
    assert mtu.pod_mtu(1500, plugin, backend) == expected


# --- endpoint and ports --------------------------------------------------


def test_vip_endpoint_moves_the_apiserver_behind_haproxy() -> None:
    plan = endpoint.endpoint_plan(VipEndpoint.model_validate({"vip": "10.0.0.10"}))
    assert (plan.kind, plan.url, plan.apiserver_port, plan.haproxy) == (
        "vip",
        "https://10.0.0.10:6443",
        6444,
        True,
    )
    clash = endpoint.endpoint_plan(VipEndpoint.model_validate({"vip": "10.0.0.10", "port": 6444}))
    assert clash.apiserver_port == 6443


def test_dns_and_load_balancer_endpoints_serve_the_apiserver_directly() -> None:
    dns = endpoint.endpoint_plan(DnsEndpoint(dns="api.example", port=443))
    assert (dns.url, dns.apiserver_port, dns.haproxy) == ("https://api.example:443", 443, False)
    lb = endpoint.endpoint_plan(LoadBalancerEndpoint.model_validate({"loadBalancer": "10.1.1.1"}))
    assert (lb.kind, lb.url, lb.apiserver_port) == ("loadBalancer", "https://10.1.1.1:6443", 6443)


def test_lab_ports_include_the_control_plane_and_vrrp_but_no_backend() -> None:
    rules = build_plan(load_stack("lab")).ports
    assert {"6443/tcp", "6444/tcp", "proto 112 (vrrp)", "10257/tcp", "10259/tcp"} <= labels(
        rules, "control-plane"
    )
    assert labels(rules, "etcd") == {"2379/tcp", "2380/tcp"}
    assert labels(rules, "worker") == {
        "10250/tcp",
        "10256/tcp",
        "30000-32767/tcp",
        "30000-32767/udp",
    }


def test_dev_ports_have_flannel_vxlan_and_the_apiserver_on_the_endpoint_port() -> None:
    rules = build_plan(load_stack("dev")).ports
    assert "8472/udp" in labels(rules, "worker")
    cp = labels(rules, "control-plane")
    assert "6443/tcp" in cp and "6444/tcp" not in cp and "proto 112 (vrrp)" not in cp
    assert "179/tcp" not in cp


def test_prod_ports_have_calico_bgp_from_the_routers() -> None:
    rules = build_plan(load_stack("prod")).ports
    bgp = [r for r in rules if r.label == "179/tcp"]
    assert {r.destination for r in bgp} == {"control-plane", "worker"}
    assert all(ports.BGP_PEERS in r.sources for r in bgp)
    assert "5473/tcp" in labels(rules, "worker")
    assert "8472/udp" not in labels(rules, "worker")
    assert {"7946/tcp", "7946/udp"} <= labels(rules, "worker")  # MetalLB


@pytest.mark.parametrize(
    ("plugin", "backend", "present", "absent"),
    [
        (Plugin.FLANNEL, Backend.WIREGUARD, {"51820/udp"}, {"8472/udp"}),
        (Plugin.FLANNEL, Backend.HOST_GW, set(), {"8472/udp", "51820/udp"}),
        (Plugin.CALICO, Backend.IPIP, {"179/tcp", "proto 4 (ipip)"}, {"4789/udp"}),
        (Plugin.CALICO, Backend.VXLAN, {"4789/udp"}, {"179/tcp", "proto 4 (ipip)"}),
        (Plugin.CILIUM, Backend.VXLAN, {"4240/tcp", "8472/udp"}, {"6081/udp"}),
        (Plugin.CILIUM, Backend.GENEVE, {"4240/tcp", "6081/udp"}, {"8472/udp"}),
        (Plugin.KUBE_ROUTER, Backend.IPIP, {"179/tcp", "proto 4 (ipip)"}, set()),
        (Plugin.BRIDGE, Backend.STATIC_ROUTES, set(), {"179/tcp", "8472/udp"}),
    ],
)
def test_backend_ports(
    plugin: Plugin, backend: Backend, present: set[str], absent: set[str]
) -> None:
    found = {r.label for r in ports.backend_ports(plugin, backend, bgp_peers=False)}
    assert present <= found
    assert not absent & found


def test_no_kube_proxy_no_health_port() -> None:
    with_proxy = {r.label for r in ports.node_ports(KubeProxyMode.NFTABLES)}
    without = {r.label for r in ports.node_ports(KubeProxyMode.NONE)}
    assert with_proxy - without == {"10256/tcp"}


# --- kernel --------------------------------------------------------------


def _module_names(plugin: Plugin, backend: Backend, proxy: KubeProxyMode) -> set[str]:
    return {m.name for m in kernel.kernel_modules(plugin, backend, proxy)}


def test_kernel_modules_per_choice() -> None:
    dev = _module_names(Plugin.FLANNEL, Backend.VXLAN, KubeProxyMode.NFTABLES)
    assert {"br_netfilter", "overlay", "vxlan", "nf_tables"} <= dev
    assert "ip_vs" not in dev
    ipvs = _module_names(Plugin.CALICO, Backend.IPIP, KubeProxyMode.IPVS)
    assert {"ipip", "ip_vs", "ip_vs_rr", "ip_set"} <= ipvs and "vxlan" not in ipvs
    assert "wireguard" in _module_names(Plugin.FLANNEL, Backend.WIREGUARD, KubeProxyMode.IPTABLES)
    assert "geneve" in _module_names(Plugin.CILIUM, Backend.GENEVE, KubeProxyMode.NONE)
    for module in kernel.kernel_modules(Plugin.CALICO, Backend.BGP, KubeProxyMode.IPVS):
        assert module.reason


def test_nfs_classes_need_the_kernels_nfs_client() -> None:
    assert build_plan(load_stack("lab")).kernel_filesystems == ()  # local-path only
    # prod: local-path first, then the nfs class shared.
    (nfs,) = build_plan(load_stack("prod")).kernel_filesystems
    assert nfs == kernel.KernelFilesystem(
        "nfs", "cluster.storage.classes[1].driver", "storage class shared"
    )
    # Every filesystem the plan can ask for, the pre-flight can probe.
    assert set(kernel._DRIVER_FILESYSTEMS.values()) <= set(preflight.FILESYSTEMS)


def test_sysctls_per_choice() -> None:
    lab = {s.key: s.value for s in build_plan(load_stack("lab")).sysctls}
    assert lab["net.ipv4.ip_forward"] == "1"
    assert lab["net.bridge.bridge-nf-call-iptables"] == "1"
    assert lab["vm.overcommit_memory"] == "1"
    assert "net.ipv4.conf.all.rp_filter" not in lab
    prod = {s.key: s.value for s in build_plan(load_stack("prod")).sysctls}
    assert prod["net.ipv4.conf.all.rp_filter"] == "1"


# --- etcd ----------------------------------------------------------------


def test_lab_etcd_initial_cluster() -> None:
    plan = build_plan(load_stack("lab")).etcd
    assert plan.initial_cluster == (
        "cp1=https://10.77.0.11:2380,cp2=https://10.77.0.12:2380,cp3=https://10.77.0.13:2380"
    )
    assert plan.servers == (
        "https://10.77.0.11:2379,https://10.77.0.12:2379,https://10.77.0.13:2379"
    )
    assert plan.version == "3.6.17"


def test_etcd_token_is_deterministic_and_per_cluster() -> None:
    assert etcd.cluster_token("lab") == etcd.cluster_token("lab")
    assert etcd.cluster_token("lab") != etcd.cluster_token("prod")
    assert etcd.cluster_token("lab").startswith("lab-etcd-")


# --- certificates --------------------------------------------------------


def _certs(stack: str) -> dict[str, certs.CertificateRequest]:
    return {c.name: c for c in build_plan(load_stack(stack)).certificates}


def test_apiserver_sans_for_a_vip() -> None:
    api = _certs("lab")["kube-apiserver"]
    assert {"10.77.0.10", "10.96.0.1", "127.0.0.1", "10.77.0.11", "10.77.0.13"} <= set(api.ip_sans)
    assert "10.77.0.21" not in api.ip_sans  # workers do not serve the API
    assert {
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "cp1",
        "cp2",
        "cp3",
    } <= set(api.dns_sans)
    assert api.usages == frozenset({"server"})
    assert api.ca == "cluster"


def test_apiserver_sans_for_a_dns_endpoint() -> None:
    api = _certs("dev")["kube-apiserver"]
    assert "api.dev.example.internal" in api.dns_sans
    assert "api.dev.example.internal" not in api.ip_sans


def test_etcd_and_kubelet_certificates() -> None:
    lab = _certs("lab")
    server = lab["cp2-server"]
    assert set(server.ip_sans) == {"10.77.0.12", "127.0.0.1"}
    assert set(server.dns_sans) == {"cp2", "localhost"}
    assert server.ca == "etcd" and server.stem == "etcd/cp2-server"
    assert "cp2-peer" in lab and "healthcheck-client" in lab and "apiserver-etcd-client" in lab
    kubelet = lab["kubelet-w1"]
    assert (kubelet.common_name, kubelet.organization) == ("system:node:w1", ("system:nodes",))
    assert kubelet.ip_sans == ("10.77.0.21",)
    assert sum(1 for name in lab if name.startswith("kubelet-")) == 5
    assert lab["kube-proxy"].organization == ("system:node-proxier",)
    assert len(lab) == len({c.name for c in build_plan(load_stack("lab")).certificates})


# --- the whole plan ------------------------------------------------------


@pytest.mark.parametrize("stack", ["lab", "dev", "prod"])
def test_plan_to_dict_is_json(stack: str) -> None:
    plan = build_plan(load_stack(stack))
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["name"] == stack
    assert data["pod_mtu"] == plan.pod_mtu
    assert [n["name"] for n in data["nodes"]] == [n.name for n in plan.nodes]
    assert data["endpoint"]["url"] == plan.endpoint.url
    assert data["etcd"]["initial_cluster"] == plan.etcd.initial_cluster
    assert len(data["ports"]) == len(plan.ports)
    assert {"label", "sources", "destination", "protocol"} <= set(data["ports"][0])


def test_plan_imports_without_a_cycle() -> None:
    import subprocess
    import sys

    for module in ("groundwork.plan", "groundwork.spec.rules", "groundwork.plan.ipam"):
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)

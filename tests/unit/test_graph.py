"""`groundwork graph` and render_svg: a deterministic, escaped, readable SVG."""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ET
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork.cli import main
from groundwork.graph import layout as geo
from groundwork.graph import render_svg
from groundwork.graph.draw import fit
from groundwork.graph.panels import panels
from groundwork.graph.scene import scene, tier, zones
from groundwork.graph.wires import Segment, node_wires
from groundwork.plan import ClusterPlan, NodePlan, build_plan
from groundwork.spec import ClusterSpec, load_stack, parse_cluster
from groundwork.spec.load import stack_path

SVG = "{http://www.w3.org/2000/svg}"
STACKS = sorted(p.name.split(".")[1] for p in stack_path("lab").parent.glob("Pulumi.*.yaml"))


def _load(stack: str) -> tuple[ClusterSpec, ClusterPlan]:
    spec = load_stack(stack)
    return spec, build_plan(spec)


def _texts(svg: str) -> list[str]:
    """Every piece of text a reader can see or hover (text and title elements)."""
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}title")]


def _prod_cluster() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(stack_path("prod").read_text())["config"]
    cluster: dict[str, Any] = config["groundwork:cluster"]
    return cluster


def _big_cluster(workers: int, zoned: bool = True) -> ClusterSpec:
    """The prod stack's control plane and `workers` workers (at most 150);
    `zoned`: in prod's racks (the workers all in rack-a), else in no zone."""
    cluster = _prod_cluster()
    template = cluster["nodes"][3]
    nodes = cluster["nodes"][:3]
    for i in range(workers):
        nodes.append({**template, "name": f"prod-worker-{i:02d}", "address": f"10.30.0.{100 + i}"})
    if not zoned:
        nodes = [{k: v for k, v in n.items() if k != "labels"} for n in nodes]
    cluster["nodes"] = nodes
    return parse_cluster(cluster)


def _classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in _classes(g)]


def _rect(element: ET.Element) -> tuple[int, int, int, int]:
    """x, y, width, height of an element's (first) rect."""
    rect = element if element.tag == f"{SVG}rect" else element.find(f"{SVG}rect")
    assert rect is not None
    x, y, w, h = (int(rect.get(k, "")) for k in ("x", "y", "width", "height"))
    return x, y, w, h


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and x + w <= ox + ow and oy <= y and y + h <= oy + oh


def _apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]


def _node_boxes(root: ET.Element) -> dict[str, tuple[int, int, int, int]]:
    boxes = {}
    for group in _groups(root, "node"):
        title = group.find(f"{SVG}title")
        assert title is not None and title.text
        boxes[title.text.split()[0]] = _rect(group)
    return boxes


def _cards(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-key", ""): g for g in _groups(root, "card")}


def _card_texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text")]


def _lines(root: ET.Element, kind: str) -> list[ET.Element]:
    return [line for g in _groups(root, f"wires-{kind}") for line in g.iter(f"{SVG}line")]


def _stubs(root: ET.Element, kind: str) -> set[str]:
    """The nodes (or cards) a kind of line starts from."""
    return {line.get("data-from", "") for line in _lines(root, kind)} - {""}


def _into(root: ET.Element, kind: str) -> set[str]:
    """The cards a kind of line leads into."""
    return {line.get("data-to", "") for line in _lines(root, kind)} - {""}


def test_the_repository_has_the_three_stacks() -> None:
    assert {"lab", "dev", "prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_renders_with_every_node_fact(stack: str) -> None:
    spec, plan = _load(stack)
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert int(root.get("width", "0")) > 0 and int(root.get("height", "0")) > 0
    text = "\n".join(_texts(svg))
    for node in plan.nodes:
        assert node.name in text
        assert str(node.address) in text
        if node.pod_subnet is not None:
            assert str(node.pod_subnet) in text
    assert plan.endpoint.url in text
    assert plan.network.plugin in text and plan.network.backend in text
    for member in plan.etcd.members:
        assert member.peer_url in text
    for sc in spec.storage.classes:
        assert sc.name in text
    assert f"gateway {spec.gateway.controller}" in text


def test_the_vip_and_the_dns_endpoint_are_drawn() -> None:
    assert "https://10.30.0.10:6443" in _texts(render_svg(*_load("prod")))
    dev = "\n".join(_texts(render_svg(*_load("dev"))))
    assert "api.dev.example.internal" in dev and "API endpoint (DNS)" in dev


def test_port_panels_list_every_rule_of_their_role() -> None:
    spec, plan = _load("prod")
    by_title = {p.title: p for p in panels(spec, plan, scene(spec, plan), with_ports=True)}
    for role in ("control-plane", "etcd", "worker"):
        rows = by_title[f"Ports open on {role} nodes"].rows
        expected = [r for r in plan.ports if r.destination == role]
        assert [row.key for row in rows] == [r.label for r in expected]
        assert all(row.value.startswith("from ") for row in rows)
    assert any(row.key == "179/tcp" and "bgp-peers" in row.value for row in rows)


def test_etcd_members_wear_a_badge_and_nothing_else_does() -> None:
    spec, plan = _load("prod")
    root = ET.fromstring(render_svg(spec, plan))
    badged = set()
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        title = group.find(f"{SVG}title")
        assert title is not None and title.text
        texts = [t.text for t in group.iter(f"{SVG}text")]
        if "etcd" in texts:
            badged.add(title.text.split()[0])
    assert badged == {m.name for m in plan.etcd.members}


@pytest.mark.parametrize("ports", [False, True], ids=["default", "ports"])
@pytest.mark.parametrize("stack", STACKS)
def test_same_input_gives_the_same_bytes(stack: str, ports: bool) -> None:
    spec, plan = _load(stack)
    first = render_svg(spec, plan, ports=ports)
    again_spec, again_plan = _load(stack)
    assert render_svg(again_spec, again_plan, ports=ports) == first
    assert render_svg(spec, plan, ports=ports).encode() == first.encode()


def test_names_are_escaped() -> None:
    spec, plan = _load("lab")
    odd = dataclasses.replace(plan.nodes[0], name='a<&b>"c')
    plan = dataclasses.replace(plan, name="x&y", nodes=(odd, *plan.nodes[1:]))
    svg = render_svg(spec, plan)
    assert "a&lt;&amp;b&gt;" in svg and "x&amp;y" in svg
    assert "<&" not in svg
    texts = _texts(svg)  # parses, and reads back as written
    assert any('a<&b>"c' in t for t in texts)
    assert any(t.startswith("x&y") for t in texts)


def test_control_characters_cannot_break_the_document() -> None:
    spec, plan = _load("lab")
    odd = dataclasses.replace(plan.nodes[0], name="bell\x07")
    svg = render_svg(spec, dataclasses.replace(plan, nodes=(odd, *plan.nodes[1:])))
    ET.fromstring(svg)


@pytest.mark.parametrize("zoned", [False, True], ids=["plain", "zoned"])
def test_fifty_nodes_wrap_into_rows_and_stay_inside_the_picture(zoned: bool) -> None:
    spec = _big_cluster(47, zoned)
    plan = build_plan(spec)
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    width, height = int(root.get("width", "0")), int(root.get("height", "0"))
    boxes = _node_boxes(root)
    assert len(boxes) == 50
    for x, y, w, h in boxes.values():
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
    rows: dict[int, int] = {}
    for _, y, _, _ in boxes.values():
        rows[y] = rows.get(y, 0) + 1
    # All zones together never take more than MAX_COLUMNS columns; one zone
    # alone takes them all.
    assert max(rows.values()) <= geo.MAX_COLUMNS
    assert (max(rows.values()) == geo.MAX_COLUMNS) is not zoned
    assert width <= 1500
    # Readable: a box is as wide for 50 nodes as for 5.
    assert {w for _, _, w, _ in boxes.values()} == {geo.BOX_W}
    for a, b in itertools.combinations(boxes.values(), 2):
        assert _apart(a, b), (a, b)
    text = "\n".join(_texts(svg))
    assert all(n.name in text and str(n.pod_subnet) in text for n in plan.nodes)


def _shape(workers: int, zoned: bool) -> geo.Layout:
    zone_counts = [[2, 0, workers], [1, 0, 3]] if zoned else [[3, 0, workers]]
    return geo.layout(
        tiers=("control-plane", "etcd", "worker"),
        zones=zone_counts,
        framed=zoned,
        lanes=4,
        gateway=4,
        workloads=[(3, False), (3, True), (3, True)],
        classes=[2, 2],
        outside=[(2, False), (2, False), (3, False), (2, False), (2, True)],
        panel_rows=[7, 3, 12, 1, 0],
    )


@pytest.mark.parametrize("zoned", [False, True], ids=["plain", "zoned"])
@pytest.mark.parametrize("workers", [1, 6, 7, 60])
def test_layout_boxes_never_overlap(workers: int, zoned: bool) -> None:
    shape = _shape(workers, zoned)
    nodes = [b for z in shape.zones for t in z.tiers for b in t.boxes]
    assert shape.band is not None and shape.band.gateway is not None
    band = [shape.band.gateway, *shape.band.workloads, *shape.band.classes]
    boxes = [*nodes, shape.endpoint, *band, *shape.outside, *shape.panels]
    for a, b in itertools.combinations(boxes, 2):
        apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
        assert apart, (a, b)
    for box in boxes:
        assert box.x >= geo.MARGIN and box.x + box.w <= shape.width - geo.MARGIN
        assert box.bottom <= shape.height
    frame = shape.frame
    for box in [*nodes, *band]:
        assert frame.x < box.x and box.right < frame.right
        assert frame.y < box.y and box.bottom < frame.bottom
    for zone in shape.zones:  # zones side by side, each holding its own nodes
        for box in (b for t in zone.tiers for b in t.boxes):
            assert zone.frame.x <= box.x and box.right <= zone.frame.right
            assert zone.frame.y < box.y and box.bottom < zone.frame.bottom
    for a, b in itertools.combinations([z.frame for z in shape.zones], 2):
        assert a.right <= b.x
    for box in shape.outside:  # right of the channel, which is right of the cluster
        assert box.x > max(shape.trunks) > min(shape.trunks) > frame.right
    # The gateway stands beside the workloads it routes to: level lines.
    gateway, routed = shape.band.gateway, shape.band.workloads[1:]
    assert all(gateway.y <= w.cy <= gateway.bottom for w in routed)
    # The NFS server (the last card, beside the band) is level with the classes.
    assert shape.outside[-1].y >= shape.band.top


def test_tiers_line_up_across_zones_so_a_lane_is_one_line() -> None:
    shape = _shape(5, zoned=True)
    pitch = geo.BOX_H + geo.lane_height(4)
    assert [t.label_y for t in shape.zones[0].tiers] == [t.label_y for t in shape.zones[1].tiers]
    for tier_a, tier_b in zip(shape.zones[0].tiers, shape.zones[1].tiers, strict=True):
        first = tier_a.label_y - geo.TIER_LABEL_H + 8 + geo.TIER_LABEL_H
        for box in (*tier_a.boxes, *tier_b.boxes):
            assert (box.y - first) % pitch == 0, (tier_a.key, box)


def test_zone_columns_go_where_they_shorten_the_picture() -> None:
    assert geo.zone_columns([[2, 0, 4], [1, 0, 4]]) == (2, 2)  # prod
    assert geo.zone_columns([[3, 0, 2]]) == (3,)  # the lab: no more than it needs
    assert geo.zone_columns([[2, 0, 2], [1, 0, 2], [0, 0, 4]]) == (1, 1, 2)
    assert geo.zone_columns([[0, 0, 1]] * 6) == (1,) * 6  # a column each, over budget
    assert sum(geo.zone_columns([[3, 0, 50]])) == geo.MAX_COLUMNS


def test_long_names_keep_both_ends_and_the_full_name_in_the_tooltip() -> None:
    name = "rack-a-very-long-worker-name-that-goes-on-07"
    assert len(fit(name, 160, 13, middle=True)) <= int(160 / (13 * 0.605))
    cut = fit(name, 160, 13, middle=True)
    assert cut.startswith("rack-a") and cut.endswith("-07") and "\u2026" in cut
    assert fit("short", 160, 13) == "short"

    spec, plan = _load("lab")
    long = dataclasses.replace(plan.nodes[3], name=name)
    svg = render_svg(spec, dataclasses.replace(plan, nodes=(*plan.nodes[:3], long, plan.nodes[4])))
    texts = _texts(svg)
    assert name not in [t for t in texts if not t.startswith(name + " ")]  # drawn cut
    assert any(t.startswith(f"{name} 10.77.0.21") for t in texts)  # tooltip whole


def _etcd_only_node(plan: ClusterPlan) -> NodePlan:
    """The lab's cp1 as an etcd member only, at another address."""
    return dataclasses.replace(
        plan.nodes[0],
        name="e1",
        address=IPv4Address("10.77.0.31"),
        roles=("etcd",),
        pod_subnet=None,
    )


def test_etcd_only_nodes_get_their_own_tier() -> None:
    spec, plan = _load("lab")
    etcd_only = _etcd_only_node(plan)
    plan = dataclasses.replace(plan, nodes=(*plan.nodes, etcd_only))
    assert tier(etcd_only) == "etcd"
    text = "\n".join(_texts(render_svg(spec, plan)))
    assert "etcd only (no kubelet)" in text and "pods none (no kubelet)" in text


def _frames(root: ET.Element) -> dict[str, tuple[int, int, int, int]]:
    return {
        r.get("data-zone", ""): _rect(r)
        for r in root.iter(f"{SVG}rect")
        if "zone-frame" in _classes(r)
    }


def _cluster_frame(root: ET.Element) -> tuple[int, int, int, int]:
    (frame,) = [r for r in root.iter(f"{SVG}rect") if r.get("stroke-dasharray")]
    return _rect(frame)


def test_prod_nodes_are_framed_by_their_zone() -> None:
    spec, plan = _load("prod")
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    frames = _frames(root)
    assert set(frames) == {"rack-a", "rack-b"}
    texts = _texts(svg)
    assert "zone rack-a (6 nodes)" in texts and "zone rack-b (5 nodes)" in texts
    boxes = _node_boxes(root)
    for node in spec.nodes:
        zone = node.labels["topology.kubernetes.io/zone"]
        assert _inside(boxes[node.name], frames[zone]), node.name
        assert not any(_inside(boxes[node.name], f) for z, f in frames.items() if z != zone)
    assert _apart(frames["rack-a"], frames["rack-b"])
    assert all(_inside(f, _cluster_frame(root)) for f in frames.values())


def test_nodes_without_a_zone_get_their_own_group_last() -> None:
    cluster = _prod_cluster()
    for node in cluster["nodes"][5:9]:  # prod-w3 .. prod-w6
        del node["labels"]
    spec = parse_cluster(cluster)
    plan = build_plan(spec)
    assert [z.name for z in zones(spec, plan)] == ["rack-a", "rack-b", ""]
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    frames, boxes = _frames(root), _node_boxes(root)
    assert set(frames) == {"rack-a", "rack-b", ""}
    assert "no zone (4 nodes)" in _texts(svg)
    for name in ("prod-w3", "prod-w4", "prod-w5", "prod-w6"):
        assert _inside(boxes[name], frames[""])
    assert frames[""][0] > frames["rack-b"][0] > frames["rack-a"][0]


def test_a_stack_without_zones_keeps_the_plain_layout() -> None:
    spec, plan = _load("lab")
    svg = render_svg(spec, plan)
    assert [z.name for z in zones(spec, plan)] == [""]
    assert _frames(ET.fromstring(svg)) == {}
    assert not any(t.startswith(("zone ", "no zone")) for t in _texts(svg))


def test_prod_workloads_are_drawn_with_their_gateway_hostname_and_class() -> None:
    spec, plan = _load("prod")
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    cards = _cards(root)
    postgres = _card_texts(cards["workload:data/postgres"])
    assert postgres == [
        "postgres",
        "data, \u00d73, pg:5432",
        "registry.prod.example.internal/postgres:17",
        "100Gi per pod from local-path",
    ]
    uploads = _card_texts(cards["workload:web/uploads"])
    assert uploads[:2] == ["uploads", "web, \u00d72, http:8080"]
    assert "50Gi per pod from shared" in uploads
    gateway = _card_texts(cards["gateway"])
    assert gateway[0] == "gateway envoy-gateway"
    assert gateway[2:] == ["LB addresses: metallb (l2)", "pool public:", "10.30.0.200-10.30.0.250"]

    # The gateway's line into uploads: level, edge to edge, its hostname above.
    (route,) = _lines(root, "route")
    assert (route.get("data-from"), route.get("data-to")) == ("gateway", "workload:web/uploads")
    gx, gy, gw, gh = _rect(cards["gateway"])
    ux, _, _, _ = _rect(cards["workload:web/uploads"])
    assert route.get("y1") == route.get("y2") and gy < int(route.get("y1", "")) < gy + gh
    assert int(route.get("x1", "")) == gx + gw and int(route.get("x2", "")) == ux
    (label,) = [t.text for g in _groups(root, "wires-route") for t in g.iter(f"{SVG}text")]
    assert label == "uploads.example.com/"

    volumes = {(line.get("data-from"), line.get("data-to")) for line in _lines(root, "volume")}
    assert volumes == {
        ("workload:data/postgres", "class:local-path"),
        ("workload:web/uploads", "class:shared"),
    }
    assert _card_texts(cards["class:shared"]) == ["shared", "nfs", "reclaim Retain"]
    assert _card_texts(cards["class:local-path"])[:2] == ["local-path", "local-path, default"]
    for key in ("gateway", "workload:data/postgres", "class:shared"):
        assert _inside(_rect(cards[key]), _cluster_frame(root))


def test_lab_workload_and_its_hostname() -> None:
    root = ET.fromstring(render_svg(*_load("lab")))
    cards = _cards(root)
    assert _card_texts(cards["workload:default/echo"])[:2] == [
        "echo",
        "default, \u00d72, http:8080",
    ]
    assert _card_texts(cards["gateway"]) == [
        "gateway traefik",
        "Gateway groundwork",
        "no load balancer: node ports",
    ]
    labels = [t.text for g in _groups(root, "wires-route") for t in g.iter(f"{SVG}text")]
    assert labels == ["echo.lab.internal/"]
    assert _into(root, "volume") == {"class:local"}


def test_the_machines_outside_prod_are_boxes_beside_the_cluster() -> None:
    spec, plan = _load("prod")
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    cards = _cards(root)
    expected = {
        "bgp:10.30.0.1": ["BGP router", "10.30.0.1", "AS 64500, peers with AS 64512"],
        "bgp:10.30.0.2": ["BGP router", "10.30.0.2", "AS 64500, peers with AS 64512"],
        "mirror": ["artifact mirror", "https://mirror.prod.example.internal", "/groundwork"],
        "registry:https://registry.prod.example.internal": [
            "registry mirror",
            "https://registry.prod.example.internal",
            "mirrors docker.io, registry.k8s.io",
        ],
        "nfs:nfs.prod.example.internal": [
            "NFS server",
            "nfs.prod.example.internal",
            "exports /exports/k8s",
        ],
    }
    fx, _, fw, _ = _cluster_frame(root)
    for key, facts in expected.items():
        texts = _card_texts(cards[key])
        assert all(fact in texts for fact in facts), (key, texts)
        assert _rect(cards[key])[0] > fx + fw, key  # outside the cluster's frame
    assert "outside the cluster" in _texts(svg)
    # Drawn, so no longer written: no peer rows, no storage or gateway panel.
    texts = _texts(svg)
    assert "BGP peer" not in texts
    assert not {"Storage classes", "Gateway and load balancer"} & set(texts)


def test_the_lab_mirror_and_registry_are_on_the_lab_gateway() -> None:
    cards = _cards(ET.fromstring(render_svg(*_load("lab"))))
    assert set(cards) >= {"mirror", "registry:http://10.77.0.1:5000"}
    assert _card_texts(cards["mirror"])[:2] == ["lab mirror (this host)", "http://10.77.0.1:8080"]
    assert _card_texts(cards["registry:http://10.77.0.1:5000"]) == [
        "lab registry (this host)",
        "http://10.77.0.1:5000",
        "mirrors docker.io, registry.k8s.io",
    ]
    assert not any(key.startswith(("bgp:", "nfs:")) for key in cards)


def test_nodes_are_linked_to_what_serves_them() -> None:
    spec, plan = _load("prod")
    root = ET.fromstring(render_svg(spec, plan))
    names = {n.name for n in plan.nodes}
    assert _stubs(root, "bgp") == names  # every node has a kubelet and peers
    assert _into(root, "bgp") == {"bgp:10.30.0.1", "bgp:10.30.0.2"}
    assert _stubs(root, "mirror") == names and _into(root, "mirror") == {"mirror"}
    assert _stubs(root, "registry") == names
    assert _into(root, "registry") == {"registry:https://registry.prod.example.internal"}
    assert _stubs(root, "nfs") == {"prod-w8"}  # the one labelled as an NFS client
    assert _into(root, "nfs") == {"nfs:nfs.prod.example.internal"}
    assert _stubs(root, "export") == {"class:shared"}
    assert _into(root, "export") == {"nfs:nfs.prod.example.internal"}


def test_without_an_nfs_client_label_every_worker_mounts_nfs() -> None:
    cluster = _prod_cluster()
    del cluster["nodes"][-1]["labels"]["groundwork.dev/storage"]
    spec = parse_cluster(cluster)
    root = ET.fromstring(render_svg(spec, build_plan(spec)))
    assert _stubs(root, "nfs") == {n.name for n in spec.nodes if "worker" in n.roles}


def test_an_etcd_only_node_fetches_from_the_mirror_and_nothing_else() -> None:
    spec, plan = _load("lab")
    etcd_only = _etcd_only_node(plan)
    root = ET.fromstring(
        render_svg(spec, dataclasses.replace(plan, nodes=(*plan.nodes, etcd_only)))
    )
    assert "e1" in _stubs(root, "mirror")
    assert "e1" not in _stubs(root, "registry")
    assert _stubs(root, "registry") == {n.name for n in plan.nodes}


def _touches(point: tuple[int, int], seg: Segment) -> bool:
    x, y = point
    return (
        min(seg.x1, seg.x2) <= x <= max(seg.x1, seg.x2)
        and min(seg.y1, seg.y2) <= y <= max(seg.y1, seg.y2)
        and (seg.x1 == seg.x2 == x or seg.y1 == seg.y2 == y)
    )


@pytest.mark.parametrize("stack", ["prod", "lab"])
def test_every_node_line_reaches_the_cards_of_its_kind(stack: str) -> None:
    """Follow the lines: from each node's stub, through its lane and the
    channel, into every card of the kind; and only through joints of its kind."""
    root = ET.fromstring(render_svg(*_load(stack)))
    cards = _cards(root)
    for kind in ("bgp", "mirror", "registry", "nfs"):
        lines = _lines(root, kind)
        segs = [
            Segment(*(int(line.get(k, "")) for k in ("x1", "y1", "x2", "y2"))) for line in lines
        ]
        for stub_index, line in enumerate(lines):
            if not line.get("data-from"):
                continue
            reached, todo = {stub_index}, [stub_index]
            while todo:
                a = segs[todo.pop()]
                for j, b in enumerate(segs):
                    ends_a, ends_b = ((a.x1, a.y1), (a.x2, a.y2)), ((b.x1, b.y1), (b.x2, b.y2))
                    if j not in reached and (
                        any(_touches(p, b) for p in ends_a) or any(_touches(p, a) for p in ends_b)
                    ):
                        reached.add(j)
                        todo.append(j)
            into = {lines[j].get("data-to") for j in reached} - {None}
            assert into == _into(root, kind), (kind, line.get("data-from"))
            for j in reached:
                key = lines[j].get("data-to")
                if key:  # it ends on the card's left edge
                    x, y, _, h = _rect(cards[key])
                    assert segs[j].x2 == x and y < segs[j].y2 < y + h


def test_node_wires_share_one_line_per_lane() -> None:
    spec, plan = _load("prod")
    view = scene(spec, plan)
    nodes = {"a": geo.Box(100, 100, geo.BOX_W, geo.BOX_H), "b": geo.Box(400, 100, geo.BOX_W, 84)}
    card = geo.Box(900, 50, geo.OUTSIDE_W, 60)
    links = [link for link in view.links if link.kind == "mirror"][:1]
    links = [dataclasses.replace(links[0], source=name) for name in nodes]
    wires = node_wires(["mirror"], nodes, links, [800], {"mirror": card}, {})
    stubs = [w for w in wires if w.source]
    lanes = [w for w in wires if not w.source and not w.target and w.dots]
    assert [w.source for w in stubs] == ["a", "b"]
    assert len(lanes) == 1  # both nodes are in one row: one lane line
    (lane,) = lanes[0].segments
    assert (lane.x1, lane.x2) == (100 + geo.STUB_X, 800) and lane.y1 == lane.y2 == 184 + 10
    (into,) = [w for w in wires if w.target]
    assert into.segments == (Segment(800, card.cy, 900, card.cy),)


def test_port_tables_are_left_out_unless_asked_for() -> None:
    spec, plan = _load("prod")
    default = "\n".join(_texts(render_svg(spec, plan)))
    assert "Ports open on" not in default and "30000-32767/tcp" not in default
    with_ports = _texts(render_svg(spec, plan, ports=True))
    for role in ("control-plane", "etcd", "worker"):
        assert f"Ports open on {role} nodes" in with_ports
    assert "30000-32767/tcp" in with_ports


def test_the_legend_names_what_is_drawn() -> None:
    prod = [r.key for r in panels(*_load("prod"), scene(*_load("prod")))[0].rows]
    for key in ("BGP router", "mirror", "registry", "NFS server", "workload", "storage class"):
        assert key in prod
    lab = [r.key for r in panels(*_load("lab"), scene(*_load("lab")))[0].rows]
    assert "BGP router" not in lab and "NFS server" not in lab and "registry" in lab


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_overlaps_and_no_text_is_cut(stack: str) -> None:
    svg = render_svg(*_load(stack))
    root = ET.fromstring(svg)
    width, height = int(root.get("width", "0")), int(root.get("height", "0"))
    assert width <= 1500  # readable without zooming
    boxes = [
        *_node_boxes(root).values(),
        *(_rect(g) for g in _cards(root).values()),
        *(_rect(g) for g in _groups(root, "panel")),
    ]
    for a, b in itertools.combinations(boxes, 2):
        assert _apart(a, b), (a, b)
    for x, y, w, h in boxes:
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
    assert not [t for t in _texts(svg) if "\u2026" in t]


def test_rendering_reads_and_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    spec, plan = _load("prod")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("render_svg did I/O")

    monkeypatch.setattr("builtins.open", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    monkeypatch.setattr(Path, "write_text", refuse)
    assert render_svg(spec, plan, ports=True).startswith("<?xml")


def test_cli_writes_the_default_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--stack", "dev"]) == 0
    written = tmp_path / "dev.svg"
    assert written.read_text() == render_svg(*_load("dev"))
    assert capsys.readouterr().out.strip() == "wrote dev.svg (3 nodes of stack dev)"


def test_cli_output_file_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "pictures" / "prod.svg"
    target.parent.mkdir()
    assert main(["graph", "-s", "prod", "--output", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    ET.parse(target)

    assert main(["graph", "-s", "prod", "-o", "-"]) == 0
    assert capsys.readouterr().out == target.read_text()


def test_cli_ports_flag_adds_the_port_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, with_ports = tmp_path / "plain.svg", tmp_path / "ports.svg"
    assert main(["graph", "-s", "prod", "-o", str(plain)]) == 0
    assert main(["graph", "-s", "prod", "--ports", "-o", str(with_ports)]) == 0
    assert "Ports open on worker nodes" not in _texts(plain.read_text())
    assert "Ports open on worker nodes" in _texts(with_ports.read_text())
    assert with_ports.read_text() == render_svg(*_load("prod"), ports=True)


def test_cli_unwritable_path_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "-s", "lab", "-o", str(tmp_path / "missing" / "x.svg")]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_cli_invalid_stack_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = yaml.safe_load(stack_path("dev").read_text())["config"]["groundwork:cluster"]
    cluster["network"]["podCidr"] = "10.96.0.0/16"
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": cluster}}))
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--stack-file", str(path)]) == 2
    assert "cluster.network.podCidr" in capsys.readouterr().out
    assert list(tmp_path.glob("*.svg")) == []

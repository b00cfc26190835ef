"""`groundwork graph` and render_svg: a deterministic, escaped, readable SVG."""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ET
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import yaml

from groundwork.cli import main
from groundwork.graph import layout as geo
from groundwork.graph import render_svg
from groundwork.graph.panels import panels, tier
from groundwork.graph.svg import fit
from groundwork.plan import ClusterPlan, build_plan
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


def _big_cluster(workers: int) -> ClusterSpec:
    """The prod stack's control plane and `workers` workers (at most 150)."""
    cluster = yaml.safe_load(stack_path("prod").read_text())["config"]["groundwork:cluster"]
    template = cluster["nodes"][3]
    nodes = cluster["nodes"][:3]
    for i in range(workers):
        nodes.append({**template, "name": f"prod-worker-{i:02d}", "address": f"10.30.0.{100 + i}"})
    cluster["nodes"] = nodes
    return parse_cluster(cluster)


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
    by_title = {p.title: p for p in panels(spec, plan)}
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


def test_same_input_gives_the_same_bytes() -> None:
    spec, plan = _load("prod")
    first = render_svg(spec, plan)
    again_spec, again_plan = _load("prod")
    assert render_svg(again_spec, again_plan) == first
    assert render_svg(spec, plan).encode() == first.encode()


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


def test_fifty_nodes_wrap_into_rows_and_stay_inside_the_picture() -> None:
    spec = _big_cluster(47)
    plan = build_plan(spec)
    svg = render_svg(spec, plan)
    root = ET.fromstring(svg)
    width, height = int(root.get("width", "0")), int(root.get("height", "0"))
    boxes = []
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            x, y = int(rect.get("x", "")), int(rect.get("y", ""))
            w, h = int(rect.get("width", "")), int(rect.get("height", ""))
            assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
            boxes.append((x, y, w, h))
    assert len(boxes) == 50
    rows: dict[int, int] = {}
    for _, y, _, _ in boxes:
        rows[y] = rows.get(y, 0) + 1
    assert max(rows.values()) == geo.MAX_COLUMNS
    # Readable: a box is as wide for 50 nodes as for 5.
    assert {w for _, _, w, _ in boxes} == {geo.BOX_W}
    text = "\n".join(_texts(svg))
    assert all(n.name in text and str(n.pod_subnet) in text for n in plan.nodes)


@pytest.mark.parametrize("workers", [1, 6, 7, 60])
def test_layout_boxes_never_overlap(workers: int) -> None:
    shape = geo.layout([("control-plane", 3), ("worker", workers)], [7, 3, 12, 1, 0])
    boxes = [b for t in shape.tiers for b in t.boxes] + [shape.endpoint, *shape.panels]
    for a, b in itertools.combinations(boxes, 2):
        apart = a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
        assert apart, (a, b)
    for box in boxes:
        assert box.x >= geo.MARGIN and box.x + box.w <= shape.width - geo.MARGIN
        assert box.bottom <= shape.height
    for t in shape.tiers:
        for box in t.boxes:
            assert shape.frame.y < box.y and box.bottom < shape.frame.bottom


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


def test_etcd_only_nodes_get_their_own_tier() -> None:
    spec, plan = _load("lab")
    etcd_only = dataclasses.replace(
        plan.nodes[0],
        name="e1",
        address=IPv4Address("10.77.0.31"),
        roles=("etcd",),
        pod_subnet=None,
    )
    plan = dataclasses.replace(plan, nodes=(*plan.nodes, etcd_only))
    assert tier(etcd_only) == "etcd"
    text = "\n".join(_texts(render_svg(spec, plan)))
    assert "etcd only (no kubelet)" in text and "pods none (no kubelet)" in text


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

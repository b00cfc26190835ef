"""groundwork.plan.membership: current (applied) vs declared membership, the
quorum rule, each member's bootstrap settings; and the record's file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from groundwork.applied import APPLIED_FILE, forget_applied, read_applied, write_applied
from groundwork.door import Door
from groundwork.inventory import Connection, render_inventory
from groundwork.plan import build_plan
from groundwork.plan.applied import Applied, Bootstrap, RecordError, applied_after, without
from groundwork.plan.membership import (
    NETWORK_REASONS,
    MembershipPlan,
    ScaleRefused,
    max_removable,
    plan_membership,
    quorum_problems,
    rebuild_command,
    removal_bootstrap,
    with_removed,
)
from groundwork.spec import ClusterSpec, parse_cluster

ROOT = Path(__file__).resolve().parents[2]
LAB = yaml.safe_load((ROOT / "stacks" / "Pulumi.lab.yaml").read_text())["config"][
    "groundwork:cluster"
]
CP = ["control-plane", "etcd"]


def node(name: str, last: int, roles: list[str]) -> dict[str, Any]:
    return {"name": name, "address": f"10.77.0.{last}", "roles": roles, "ssh": {"key": "lab"}}


BASE = [node("cp1", 11, CP), node("cp2", 12, CP), node("cp3", 13, CP), node("w1", 21, ["worker"])]


def stack(nodes: list[dict[str, Any]]) -> ClusterSpec:
    return parse_cluster({**LAB, "nodes": nodes})


def applied(nodes: list[dict[str, Any]]) -> Applied:
    """The record a successful `up` of a fresh cluster of these nodes writes."""
    spec = stack(nodes)
    etcd = build_plan(spec).etcd
    return applied_after(spec, etcd, plan_membership(None, spec, etcd).bootstrap)


def diff(before: list[dict[str, Any]] | Applied, after: list[dict[str, Any]]) -> MembershipPlan:
    current = before if isinstance(before, Applied) else applied(before)
    spec = stack(after)
    return plan_membership(current, spec, build_plan(spec).etcd)


def url(last: int) -> str:
    return f"https://10.77.0.{last}:2380"


# --- fresh and unchanged ---------------------------------------------------------


def test_no_record_is_a_fresh_cluster_bootstrapping_every_member_as_new() -> None:
    spec = stack(BASE)
    etcd = build_plan(spec).etcd
    plan = plan_membership(None, spec, etcd)
    assert plan.fresh and plan.ok and not plan.changes
    assert plan.bootstrap == {
        name: Bootstrap(etcd.initial_cluster, "new") for name in ("cp1", "cp2", "cp3")
    }


def test_unchanged_stack_changes_nothing_and_keeps_the_recorded_bootstrap() -> None:
    plan = diff(BASE, BASE)
    assert not plan.fresh and plan.ok and not plan.changes
    assert plan.describe() == []
    assert plan.bootstrap == {m.name: m.bootstrap for m in applied(BASE).members}


# --- adding ---------------------------------------------------------------------


def test_adding_a_worker_touches_no_member() -> None:
    plan = diff(BASE, [*BASE, node("w2", 22, ["worker"])])
    assert plan.ok
    assert plan.added == ("w2",)
    assert (plan.removed, plan.joining, plan.leaving) == ((), (), ())
    assert plan.bootstrap == {m.name: m.bootstrap for m in applied(BASE).members}
    assert plan.describe() == ["add w2"]


def test_members_join_one_at_a_time_each_listing_the_members_before_it() -> None:
    grown = [*BASE, node("cp4", 14, CP), node("cp5", 15, CP)]
    plan = diff(BASE, grown)
    assert plan.ok
    assert plan.added == plan.joining == ("cp4", "cp5")
    first = f"cp1={url(11)},cp2={url(12)},cp3={url(13)}"
    assert plan.bootstrap["cp4"] == Bootstrap(f"{first},cp4={url(14)}", "existing")
    assert plan.bootstrap["cp5"] == Bootstrap(f"{first},cp4={url(14)},cp5={url(15)}", "existing")
    # The current members' settings do not move: their config stays byte-identical.
    for member in applied(BASE).members:
        assert plan.bootstrap[member.name] == member.bootstrap
    assert [m.name for m in plan.remaining] == ["cp1", "cp2", "cp3"]
    assert plan.describe() == ["add cp4, joins etcd", "add cp5, joins etcd"]


def test_a_joined_member_keeps_its_join_settings_afterwards() -> None:
    grown = [*BASE, node("cp4", 14, CP), node("cp5", 15, CP)]
    joined = diff(BASE, grown)
    spec = stack(grown)
    record = applied_after(spec, build_plan(spec).etcd, joined.bootstrap)
    again = diff(record, grown)
    assert not again.changes
    assert again.bootstrap == joined.bootstrap


# --- removing -------------------------------------------------------------------


FIVE = [*BASE, node("cp4", 14, CP), node("cp5", 15, CP)]


def test_removing_two_of_five_members_is_allowed_one_at_a_time() -> None:
    plan = diff(FIVE, BASE)
    assert plan.ok, plan.problems
    assert plan.removed_names == plan.leaving == ("cp4", "cp5")
    assert [m.name for m in plan.remaining] == ["cp1", "cp2", "cp3"]
    assert [m.client_url for m in plan.remaining] == [
        f"https://10.77.0.{i}:2379" for i in (11, 12, 13)
    ]
    assert plan.describe()[0] == "remove cp4 (10.77.0.14, leaves etcd): drain, then reset"


def test_removing_a_worker_needs_no_etcd_change() -> None:
    plan = diff([*BASE, node("w2", 22, ["worker"])], BASE)
    assert plan.ok
    assert plan.removed_names == ("w2",)
    assert plan.leaving == ()
    assert plan.removed[0].ssh_key == "lab"  # reachable for the reset


def test_removing_two_of_three_members_is_refused_naming_them() -> None:
    one_member = [node("cp1", 11, CP), node("w1", 21, ["worker"])]
    plan = diff(BASE, one_member)
    assert not plan.ok
    (problem,) = plan.problems
    assert problem.path == "cluster.nodes"
    assert "removes 2 of the 3 current etcd members (cp2, cp3)" in problem.message
    assert "not be a majority (2)" in problem.message
    assert "remove at most 1 per run" in problem.message


def test_adding_and_removing_members_in_one_change_is_refused() -> None:
    swapped = [*BASE[:2], node("cp6", 16, CP), BASE[3]]
    plan = diff(BASE, swapped)
    paths = {p.path: p.message for p in plan.problems}
    assert "adds etcd member(s) cp6 and removes cp3 in one change" in paths["cluster.nodes"]


def test_a_member_cannot_change_its_address() -> None:
    moved = [BASE[0], node("cp2", 42, CP), *BASE[2:]]
    plan = diff(BASE, moved)
    (problem,) = plan.problems
    assert problem.path == "cluster.nodes[1].address"
    assert "cp2 is an etcd member at 10.77.0.12" in problem.message


def test_a_member_cannot_leave_etcd_while_staying() -> None:
    external = {**LAB, "etcd": {**LAB["etcd"], "topology": "external"}}
    etcd_nodes = [node(f"e{i}", 30 + i, ["etcd"]) for i in (1, 2, 3)]
    before = [*etcd_nodes, node("cp1", 11, ["control-plane"])]
    spec_before = parse_cluster({**external, "nodes": before})
    etcd = build_plan(spec_before).etcd
    record = applied_after(spec_before, etcd, plan_membership(None, spec_before, etcd).bootstrap)
    # e3 stays but as a control-plane node: etcd keeps e1, e2 and e4.
    after = [
        *etcd_nodes[:2],
        node("e4", 34, ["etcd"]),
        node("e3", 33, ["control-plane"]),
        node("cp1", 11, ["control-plane"]),
    ]
    spec_after = parse_cluster({**external, "nodes": after})
    plan = plan_membership(record, spec_after, build_plan(spec_after).etcd)
    paths = {p.path for p in plan.problems}
    assert "cluster.nodes[3].roles" in paths


def test_a_new_node_cannot_take_a_removed_nodes_address() -> None:
    w2 = node("w2", 22, ["worker"])
    w3 = {**node("w3", 22, ["worker"])}
    plan = diff([*BASE, w2], [*BASE, w3])
    (problem,) = plan.problems
    assert problem.path == "cluster.nodes[4].address"
    assert "w3 takes the address of w2" in problem.message


# --- the quorum rule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "leaving", "refused"),
    [
        (1, 1, "every"),
        (3, 3, "every"),
        (3, 0, None),
        (3, 1, None),
        (3, 2, "majority"),
        (4, 1, None),
        (4, 2, "majority"),
        (5, 2, None),
        (5, 3, "majority"),
        (7, 3, None),
        (7, 4, "majority"),
        (2, 1, "majority"),
    ],
)
def test_quorum_table(members: int, leaving: int, refused: str | None) -> None:
    current = [f"m{i}" for i in range(members)]
    problems = quorum_problems(current, current[members - leaving :])
    if refused is None:
        assert problems == []
    else:
        (problem,) = problems
        assert problem.path == "cluster.nodes"
        assert refused in problem.message


@given(st.integers(min_value=1, max_value=15), st.data())
def test_quorum_rule_keeps_a_majority_of_the_current_members(members: int, data: Any) -> None:
    leaving = data.draw(st.integers(min_value=0, max_value=members))
    current = [f"m{i}" for i in range(members)]
    refused = bool(quorum_problems(current, current[:leaving]))
    left = members - leaving
    # Allowed exactly when the members left are a strict majority of the
    # current cluster: then even one more failure midway (a member lost while
    # the leaving ones go, one at a time) leaves the old quorum reachable.
    assert refused == (leaving > 0 and 2 * left <= members)
    assert (leaving <= max_removable(members)) == (not refused or leaving == 0)


# --- the record -----------------------------------------------------------------


def test_record_round_trips_through_json() -> None:
    record = applied(FIVE)
    text = json.dumps(record.to_dict())
    assert Applied.from_dict(json.loads(text)) == record
    assert without(record, ["cp5", "w1"]).member("cp5") is None
    assert without(record, ["cp5", "w1"]).node("w1") is None


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(version=7), "record version 7"),
        (lambda d: d["nodes"][0].update(address="nope"), "malformed record"),
        (lambda d: d["etcd"]["members"][0].pop("initial_cluster"), "malformed record"),
        (
            lambda d: d["etcd"]["members"][0].update(initial_cluster_state="old"),
            "neither new nor existing",
        ),
    ],
)
def test_a_malformed_record_is_refused(mutate: Any, reason: str) -> None:
    data = applied(BASE).to_dict()
    mutate(data)
    with pytest.raises(RecordError, match=reason):
        Applied.from_dict(data)


def test_record_file_is_private_and_rewritten_only_on_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    assert read_applied("lab") is None
    record = applied(BASE)
    assert write_applied("lab", record) is True
    assert write_applied("lab", record) is False
    path = tmp_path / "lab" / APPLIED_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_applied("lab") == record
    path.write_text("{")
    with pytest.raises(RecordError, match="not JSON"):
        read_applied("lab")
    forget_applied("lab")
    assert read_applied("lab") is None


# --- what the roles and the removal see -----------------------------------------

CONNECTION = Connection(known_hosts=Path("/state/known_hosts"), lab_key=Path("/state/id"))


def host_vars(spec: ClusterSpec, bootstrap: dict[str, Bootstrap] | None) -> dict[str, Any]:
    inv = render_inventory(
        spec,
        build_plan(spec),
        CONNECTION,
        pki_dir=Path("/pki"),
        release_sha256={"etcd": "0" * 64},
        etcd_bootstrap=bootstrap,
    )
    hosts: dict[str, Any] = inv.hosts["all"]["hosts"]
    return hosts


def test_inventory_carries_each_members_bootstrap() -> None:
    grown = stack(FIVE)
    plan = diff(BASE, FIVE)
    hosts = host_vars(grown, dict(plan.bootstrap))
    assert hosts["cp4"]["gw_etcd_bootstrap_state"] == "existing"
    assert hosts["cp4"]["gw_etcd_bootstrap_cluster"] == plan.bootstrap["cp4"].initial_cluster
    assert hosts["cp1"]["gw_etcd_bootstrap_state"] == "new"
    assert "gw_etcd_bootstrap_state" not in hosts["w1"]
    # Fresh (no plan given): every member new with the declared cluster.
    fresh = host_vars(stack(BASE), None)
    assert {h.get("gw_etcd_bootstrap_state") for h in fresh.values()} == {"new", None}
    assert fresh["cp1"]["gw_etcd_bootstrap_cluster"] == build_plan(stack(BASE)).etcd.initial_cluster


def render_etcd_conf(bootstrap: Bootstrap) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    text = (ROOT / "roles" / "etcd" / "templates" / "etcd.conf.yml.j2").read_text()
    return env.from_string(text).render(
        ansible_managed="managed",
        etcd_member_name="cp4",
        etcd_data_dir="/var/lib/etcd",
        etcd_address="10.77.0.14",
        etcd_peer_port=2380,
        etcd_client_port=2379,
        etcd_metrics_url="http://127.0.0.1:2381",
        etcd_initial_cluster=bootstrap.initial_cluster,
        etcd_initial_cluster_state=bootstrap.state,
        etcd_cluster_token="t",
        etcd_pki_dir="/etc/etcd/pki",
    )


def test_etcd_config_says_existing_for_a_joining_member() -> None:
    plan = diff(BASE, FIVE)
    conf = yaml.safe_load(render_etcd_conf(plan.bootstrap["cp4"]))
    assert conf["initial-cluster-state"] == "existing"
    assert conf["initial-cluster"] == plan.bootstrap["cp4"].initial_cluster
    fresh = yaml.safe_load(render_etcd_conf(plan.bootstrap["cp1"]))
    assert fresh["initial-cluster-state"] == "new"


def test_removal_inventory_still_holds_the_removed_nodes() -> None:
    plan = diff(FIVE, BASE)
    wider = with_removed(stack(BASE), plan)
    assert [n.name for n in wider.nodes] == ["cp1", "cp2", "cp3", "w1", "cp4", "cp5"]
    hosts = host_vars(wider, removal_bootstrap(plan))
    assert hosts["cp5"]["ansible_host"] == "10.77.0.15"
    assert hosts["cp5"]["ansible_ssh_private_key_file"] == "/state/id"
    assert with_removed(stack(BASE), diff(BASE, BASE)).nodes == stack(BASE).nodes


# --- replacing a member whose machine lost its etcd data --------------------------


def replace(
    nodes: list[dict[str, Any]], *names: str, after: list[dict[str, Any]] | None = None
) -> MembershipPlan:
    """Plan replacing `names` in the cluster applied from `nodes` (declared: `after`)."""
    spec = stack(after or nodes)
    return plan_membership(applied(nodes), spec, build_plan(spec).etcd, names)


def test_a_replaced_member_leaves_and_joins_back_as_existing() -> None:
    plan = replace(BASE, "cp3")
    assert plan.ok, plan.problems
    assert plan.replacing == ("cp3",)
    assert plan.leaving == ("cp3",) and plan.joining == ("cp3",)
    assert not plan.added and not plan.removed
    assert [m.name for m in plan.remaining] == ["cp1", "cp2"]
    # The others keep what they bootstrapped with: no restart, no change.
    before = applied(BASE)
    for name in ("cp1", "cp2"):
        member = before.member(name)
        assert member is not None and plan.bootstrap[name] == member.bootstrap
    # Its initial-cluster is the membership at its new first start.
    assert plan.bootstrap["cp3"] == Bootstrap(
        f"cp1={url(11)},cp2={url(12)},cp3={url(13)}", "existing"
    )
    assert plan.describe() == [
        "replace cp3's etcd member: remove the old member, add cp3 back empty, "
        "it syncs from the others"
    ]


def test_replacing_more_members_than_quorum_allows_is_refused() -> None:
    plan = replace(BASE, "cp2", "cp3")
    assert not plan.ok
    assert any("removes 2 of the 3 current etcd members" in p.message for p in plan.problems)


def test_replacing_a_node_that_is_no_member_is_refused_naming_the_option() -> None:
    plan = replace(BASE, "w1")
    (problem,) = plan.problems
    assert problem.path == "--replace-member"
    assert "w1 is not an etcd member" in problem.message and "cp1, cp2, cp3" in problem.message


def test_replacing_without_a_record_is_refused() -> None:
    spec = stack(BASE)
    plan = plan_membership(None, spec, build_plan(spec).etcd, ("cp3",))
    (problem,) = plan.problems
    assert problem.path == "--replace-member" and "never applied" in problem.message


def test_replacing_with_another_membership_change_is_refused() -> None:
    plan = replace(BASE, "cp3", after=[*BASE, node("w2", 22, ["worker"])])
    assert not plan.ok
    (problem,) = [p for p in plan.problems if p.path == "--replace-member"]
    assert "add w2" in problem.message and "apply that change first" in problem.message


# --- the pod network ----------------------------------------------------------

FLANNEL = {"plugin": "flannel", "backend": "vxlan"}
REBUILD = "`groundwork rebuild --stack lab`"


def networked(nodes: list[dict[str, Any]] = BASE, /, **network: Any) -> ClusterSpec:
    """The lab stack with these nodes and these cluster.network fields changed."""
    return parse_cluster({**LAB, "nodes": nodes, "network": {**LAB["network"], **network}})


def recorded(spec: ClusterSpec) -> Applied:
    """The record a successful `up` of a fresh cluster of this stack writes."""
    etcd = build_plan(spec).etcd
    return applied_after(spec, etcd, plan_membership(None, spec, etcd).bootstrap)


def refusals(
    record: Applied | None, spec: ClusterSpec, door: Door = "groundwork"
) -> dict[str, str]:
    """Each refused config path with its message."""
    plan = plan_membership(record, spec, build_plan(spec).etcd, door=door)
    return {p.path: p.message for p in plan.problems}


def test_no_record_refuses_no_network() -> None:
    # A fresh cluster (or one whose record a destroy forgot) is built on any network.
    spec = networked(**FLANNEL, podCidr="10.245.0.0/16", nodeSubnetSize=25)
    plan = plan_membership(None, spec, build_plan(spec).etcd)
    assert plan.fresh and plan.ok


def test_the_same_network_refuses_nothing() -> None:
    record = recorded(networked())
    assert not refusals(record, networked())
    # The backend the plugin defaults to is the same backend declared outright.
    assert not refusals(record, networked(backend="static-routes"))
    # ...and a membership change on the same network is judged on its own.
    assert diff(record, [*BASE, node("w2", 22, ["worker"])]).ok


# Each field as the running cluster (flannel vxlan) has it and as a stack changes it.
@pytest.mark.parametrize(
    ("field", "was", "now", "why"),
    [
        ("podCidr", "10.244.0.0/16", "10.245.0.0/16", "every pod would be renumbered"),
        ("serviceCidr", "10.96.0.0/12", "10.112.0.0/12", "a Service's cluster IP never changes"),
        ("nodeSubnetSize", 24, 25, "every node's pod range and every pod's address would change"),
        ("backend", "vxlan", "host-gw", "pods on a switched node cannot reach pods on the others"),
    ],
)
def test_each_changed_network_field_is_refused_naming_it(
    field: str, was: object, now: object, why: str
) -> None:
    record = recorded(networked(**FLANNEL))
    found = refusals(record, networked(**{**FLANNEL, field: now}))
    path = f"cluster.network.{field}"
    assert set(found) == {path}
    message = found[path]
    assert f"the running cluster was built with {was}, the stack declares {now}." in message
    assert "This cannot change in place: " in message and why in message
    assert f"Rebuild instead, with {REBUILD}: every node is reset" in message
    assert message.endswith(f"or put {was} back")


def test_another_plugin_is_refused_for_the_plugin_and_its_backend() -> None:
    found = refusals(recorded(networked()), networked(**FLANNEL))
    assert set(found) == {"cluster.network.plugin", "cluster.network.backend"}
    assert "built with bridge, the stack declares flannel" in found["cluster.network.plugin"]
    assert "built with static-routes, the stack declares vxlan" in found["cluster.network.backend"]


def test_every_changed_field_is_refused_at_once_with_the_membership_problems() -> None:
    spec = networked(
        [BASE[0], BASE[3]],  # two of the three members gone: quorum lost
        **FLANNEL,
        podCidr="10.245.0.0/16",
        serviceCidr="10.112.0.0/12",
        nodeSubnetSize=25,
    )
    found = refusals(recorded(networked()), spec)
    assert set(found) == {
        "cluster.nodes",
        *(f"cluster.network.{f}" for f in NETWORK_REASONS),
    }


def test_the_pulumi_door_names_its_own_rebuild() -> None:
    found = refusals(recorded(networked()), networked(podCidr="10.245.0.0/16"), door="pulumi")
    message = found["cluster.network.podCidr"]
    assert "`pulumi destroy -s lab`, then `pulumi up -s lab`" in message
    assert "groundwork rebuild" not in message
    assert rebuild_command("lab", "groundwork") == REBUILD


def test_the_record_keeps_the_network_through_json() -> None:
    record = applied(BASE)
    assert record.network is not None
    assert record.to_dict()["network"] == {
        "plugin": "bridge",
        "backend": "static-routes",
        "podCidr": "10.244.0.0/16",
        "serviceCidr": "10.96.0.0/12",
        "nodeSubnetSize": 24,
    }
    assert Applied.from_dict(json.loads(json.dumps(record.to_dict()))) == record
    assert without(record, ["w1"]).network == record.network


def test_a_record_written_before_the_network_loads_and_compares_nothing() -> None:
    data = applied(BASE).to_dict()
    del data["network"]
    old = Applied.from_dict(data)
    assert old.network is None
    changed = networked(**FLANNEL, podCidr="10.245.0.0/16")
    assert not refusals(old, changed)
    # The next converged up records the network it brought up.
    after = applied_after(changed, build_plan(changed).etcd, diff(old, BASE).bootstrap)
    assert after.network is not None
    assert dict(after.network.fields())["podCidr"] == "10.245.0.0/16"


def test_a_record_written_before_the_node_subnet_size_compares_the_rest() -> None:
    data = applied(BASE).to_dict()
    del data["network"]["nodeSubnetSize"]
    old = Applied.from_dict(data)
    assert old.network is not None and old.network.node_subnet_size is None
    assert "nodeSubnetSize" not in dict(old.network.fields())
    assert not refusals(old, networked(nodeSubnetSize=25))
    assert set(refusals(old, networked(podCidr="10.245.0.0/16"))) == {"cluster.network.podCidr"}


@pytest.mark.parametrize(
    "network",
    [["bridge"], "bridge", {"plugin": "bridge"}, {**LAB["network"], "nodeSubnetSize": "x"}],
)
def test_a_malformed_network_record_is_refused(network: Any) -> None:
    data = applied(BASE).to_dict()
    data["network"] = network
    with pytest.raises(RecordError, match="malformed record"):
        Applied.from_dict(data)


# --- the refusal, end to end ------------------------------------------------------------


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state directory; any playbook or inventory written fails the test."""
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))

    def touched(*args: object, **kwargs: object) -> None:
        raise AssertionError("a refused run went on to touch something")

    for target in (
        "groundwork.phases.base.run_playbook",
        "groundwork.phases.destroy.run_playbook",
        "groundwork.phases.inventory.write_inventory",
    ):
        monkeypatch.setattr(target, touched)
    return tmp_path


@pytest.mark.parametrize("dry_run", [False, True])
def test_up_refuses_a_changed_pod_cidr_before_any_phase_touches_anything(
    dry_run: bool, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # dev (real machines, no lab), applied on another pod range.
    from groundwork.cli import main
    from groundwork.spec import load_stack

    dev = load_stack("dev")
    record = recorded(dev)
    assert record.network is not None
    network = dataclasses.replace(record.network, pod_cidr="10.245.0.0/16")
    write_applied("dev", dataclasses.replace(record, network=network))
    before = (state / "dev" / APPLIED_FILE).read_text()
    argv = ["up", "--stack", "dev", *(["--dry-run"] if dry_run else [])]
    assert main(argv) == 2
    said = " ".join("".join(capsys.readouterr()).split())  # unwrapped
    assert (
        "refused cluster.network.podCidr: the running cluster was built with 10.245.0.0/16, "
        "the stack declares 10.244.0.0/16." in said
    )
    assert "`groundwork rebuild --stack dev`" in said
    assert "nothing was changed: no node was contacted" in said
    # No PKI was made and the record still says what runs.
    assert not (state / "dev" / "pki").exists()
    assert (state / "dev" / APPLIED_FILE).read_text() == before
    if dry_run:
        # The way out previews without the refusal: its destroy forgets the record.
        assert main(["rebuild", "--stack", "dev", "--dry-run"]) == 0
        assert "refused" not in "".join(capsys.readouterr())


def test_a_rebuild_is_the_way_out_and_records_the_new_network(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from groundwork.phases import Context, Options, Outcome, Pipeline, run
    from groundwork.phases import destroy as destroy_phase
    from groundwork.phases import site as site_phase
    from groundwork.phases.destroy import Destroy, SshCheck
    from groundwork.phases.validate_membership import ValidateMembership
    from groundwork.runner import RunSummary

    write_applied("lab", recorded(networked()))
    moved = networked(podCidr="10.245.0.0/16")
    # The phases that reach the nodes, as they end when the nodes answer.
    reset = RunSummary("reset.yml", "successful", 0, (), (), str(state), 0.0)
    monkeypatch.setattr(destroy_phase, "lab_machines_gone", lambda spec: False)
    monkeypatch.setattr(destroy_phase, "reset_inventory", lambda context: state)
    monkeypatch.setattr(destroy_phase, "run_playbook", lambda *a, **k: reset)
    monkeypatch.setattr(
        destroy_phase, "check_ssh", lambda spec: (SshCheck("cp1", "10.77.0.11", True, "ok"),)
    )
    monkeypatch.setattr(site_phase, "run_and_record", lambda *a, **k: Outcome(True))
    up = Pipeline("up", (ValidateMembership(), site_phase.Site()))
    rebuild = Pipeline("rebuild", (Destroy(), *up.phases))

    with pytest.raises(ScaleRefused):
        run(up, Context(moved, Options(live=False)))
    result = run(rebuild, Context(moved, Options(live=False)))
    assert result.ok, result.describe_failure()
    after = read_applied("lab")
    assert after is not None and after.network is not None
    assert after.network.pod_cidr == "10.245.0.0/16"
    # ...and the next up on the new network goes through.
    assert run(up, Context(moved, Options(live=False))).ok

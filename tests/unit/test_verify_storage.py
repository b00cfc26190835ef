"""Why a pod with a node-local volume waits: named with the volume and node."""

from __future__ import annotations

from typing import Any

from groundwork.verify.storage import default_classes, pinned_by_volume, volume_node


def _volume(host: str) -> dict[str, Any]:
    term = {
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]
    }
    return {
        "metadata": {"name": "pvc-1"},
        "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [term]}}},
    }


def _node(name: str, *, cordoned: bool = False, ready: str = "True") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"unschedulable": True} if cordoned else {},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


POD = {
    "metadata": {"namespace": "default", "name": "echo-1"},
    "spec": {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-echo-1"}}]},
}
CLAIMS = {"default/data-echo-1": {"spec": {"volumeName": "pvc-1"}}}


def test_a_drained_node_holding_the_volume_is_named_with_the_way_out() -> None:
    reason = pinned_by_volume(
        POD, CLAIMS, {"pvc-1": _volume("w2")}, {"w2": _node("w2", cordoned=True)}
    )
    assert reason is not None
    assert "data-echo-1" in reason and "lives on w2 only" in reason and "cordoned" in reason
    assert "kubectl uncordon w2" in reason


def test_a_node_not_ready_or_gone_pins_it_too() -> None:
    volumes = {"pvc-1": _volume("w2")}
    assert "not Ready" in (
        pinned_by_volume(POD, CLAIMS, volumes, {"w2": _node("w2", ready="Unknown")}) or ""
    )
    assert "not in the cluster" in (pinned_by_volume(POD, CLAIMS, volumes, {}) or "")


def test_a_schedulable_node_or_a_volume_not_pinned_explains_nothing() -> None:
    assert pinned_by_volume(POD, CLAIMS, {"pvc-1": _volume("w2")}, {"w2": _node("w2")}) is None
    unpinned = {"pvc-1": {"metadata": {"name": "pvc-1"}, "spec": {}}}
    assert pinned_by_volume(POD, CLAIMS, unpinned, {}) is None
    assert pinned_by_volume(POD, {}, {"pvc-1": _volume("w2")}, {}) is None  # claim not bound


def test_volume_node_needs_exactly_one_host() -> None:
    assert volume_node(_volume("w1")) == "w1"
    two = _volume("w1")
    two["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
        "values"
    ] = ["w1", "w2"]
    assert volume_node(two) is None


def test_default_classes_reads_the_annotation() -> None:
    def sc(name: str, default: str | None) -> dict[str, Any]:
        annotations = (
            {} if default is None else {"storageclass.kubernetes.io/is-default-class": default}
        )
        return {"metadata": {"name": name, "annotations": annotations}}

    assert default_classes([sc("b", "true"), sc("a", "true"), sc("c", "false"), sc("d", None)]) == [
        "a",
        "b",
    ]

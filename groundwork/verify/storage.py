"""Why a pod with a node-local volume cannot be scheduled (pure).

A local-path or local-static volume lives on one node: its PersistentVolume
carries a required node affinity to that node, and its pod can run nowhere
else. When that node is drained (cordoned), gone or not Ready, the pod stays
Pending, and the scheduler's own message ("1 node(s) had volume node affinity
conflict, 1 node(s) were unschedulable") does not say which volume pins it
where, nor what frees it. `pinned_by_volume` says both; verify prints it for
such a pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HOSTNAME_LABEL = "kubernetes.io/hostname"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def volume_node(volume: Mapping[str, Any]) -> str | None:
    """The hostname a PersistentVolume's required node affinity pins it to,
    when it names exactly one (a node-local volume); else None."""
    required = ((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
    hosts: set[str] = set()
    for term in required.get("nodeSelectorTerms") or []:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") == HOSTNAME_LABEL and expression.get("operator") == "In":
                hosts.update(expression.get("values") or [])
    return next(iter(hosts)) if len(hosts) == 1 else None


def _node_state(node: Mapping[str, Any] | None) -> str | None:
    """Why pods cannot be placed on this node ("cordoned", "not Ready"), or None."""
    if node is None:
        return "not in the cluster"
    if (node.get("spec") or {}).get("unschedulable"):
        return "cordoned (a drain marks it unschedulable)"
    conditions = {
        c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []
    }
    if conditions.get("Ready") != "True":
        return "not Ready"
    return None


def pinned_by_volume(
    pod: Mapping[str, Any],
    claims: Mapping[str, Mapping[str, Any]],
    volumes: Mapping[str, Mapping[str, Any]],
    nodes: Mapping[str, Mapping[str, Any]],
) -> str | None:
    """Why this unscheduled pod waits for one node: the first of its claims
    bound to a volume that lives only on a node pods cannot go to now.
    `claims` is keyed "namespace/name", `volumes` by PV name, `nodes` by their
    hostname label. None when no volume explains it."""
    namespace = pod["metadata"]["namespace"]
    for source in (pod.get("spec") or {}).get("volumes") or []:
        claim_name = (source.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim_name:
            continue
        claim = claims.get(f"{namespace}/{claim_name}")
        volume_name = ((claim or {}).get("spec") or {}).get("volumeName")
        volume = volumes.get(volume_name or "")
        host = volume_node(volume) if volume is not None else None
        if host is None:
            continue
        state = _node_state(nodes.get(host))
        if state is None:
            continue
        return (
            f"its volume {claim_name} (PersistentVolume {volume_name}) lives on {host} only, "
            f"and {host} is {state}: the pod stays Pending until {host} takes pods again "
            f"(`kubectl uncordon {host}` after a drain), or until the claim is deleted, "
            "its data with it, so that a new volume is made on another node"
        )
    return None


def default_classes(classes: list[Mapping[str, Any]]) -> list[str]:
    """The names of the StorageClasses marked default, sorted."""
    return sorted(
        c["metadata"]["name"]
        for c in classes
        if ((c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION)) == "true"
    )

"""Small builders shared by the addon modules: every object is a plain dict."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

GROUNDWORK_LABEL = "app.kubernetes.io/managed-by"


def meta(name: str, namespace: str | None = None, **labels: str) -> Obj:
    out: Obj = {"name": name, "labels": {GROUNDWORK_LABEL: "groundwork", **labels}}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def disruption_budget(name: str, namespace: str, labels: dict[str, str]) -> Obj:
    """At most one pod of `labels` evicted at a time: a drain waits for the
    evicted pod to be Ready again (on its node, for a local volume) before it
    takes the next."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(name, namespace, **labels),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}},
    }


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, **labels)}


def service_account(name: str, ns: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name, ns)}


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def cluster_role(name: str, rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": meta(name),
        "rules": rules,
    }


def cluster_role_binding(name: str, role: str, sa: str, ns: str) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": meta(name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
    }


def rbac(name: str, ns: str, rules: list[Obj]) -> list[Obj]:
    """ServiceAccount + ClusterRole + ClusterRoleBinding sharing one name."""
    return [
        service_account(name, ns),
        cluster_role(name, rules),
        cluster_role_binding(name, name, name, ns),
    ]


def config_map(name: str, ns: str, data: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, ns), "data": data}


def env(name: str, value: str) -> Obj:
    return {"name": name, "value": value}


def env_field(name: str, path: str) -> Obj:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def host_path(name: str, path: str, kind: str | None = None) -> Obj:
    source: Obj = {"path": path}
    if kind:
        source["type"] = kind
    return {"name": name, "hostPath": source}


def mount(name: str, path: str, *, read_only: bool = False) -> Obj:
    out: Obj = {"name": name, "mountPath": path}
    if read_only:
        out["readOnly"] = True
    return out


def workload(
    kind: str,
    name: str,
    ns: str,
    pod: Obj,
    *,
    replicas: int | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    """A Deployment or DaemonSet whose pods carry `app: <name>` (plus `labels`)."""
    selector = {"app": name, **(labels or {})}
    spec: Obj = {
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": selector}, "spec": pod},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": meta(name, ns, app=name),
        "spec": spec,
    }


# Tolerate every taint: node agents (CNI, CSI node plugin, speakers) must run everywhere.
TOLERATE_ALL: list[Obj] = [{"operator": "Exists"}]
CONTROL_PLANE_TOLERATIONS: list[Obj] = [
    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"},
]

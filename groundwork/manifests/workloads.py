"""Declared workloads: StatefulSets with their Services, volumes and routes.

Per workload: the namespace (unless default), a headless Service (the
StatefulSet's governing service, stable pod DNS names), the StatefulSet
with volumeClaimTemplates on the declared class, a PodDisruptionBudget when
it has more than one replica (a drain, in an upgrade or a removal, takes
one pod at a time and waits for it to be back), and when exposed a regular
ClusterIP Service `<name>-http` for the exposed port plus an HTTPRoute
parented to the `groundwork` Gateway (or an Ingress when the stack sets
`gateway.ingressClass`).
"""

from __future__ import annotations

from groundwork.manifests.common import Obj, disruption_budget, meta, namespace
from groundwork.manifests.gateway import GATEWAY_API, GATEWAY_NAME, gateway_namespace
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, Workload

DATA_VOLUME = "data"
# How long a stopping pod keeps serving before it gets SIGTERM: longer than
# endpoint removal takes to reach every node (about a second here).
STOP_DELAY_SECONDS = 5


def workloads(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    out: list[Obj] = []
    namespaces = sorted({w.namespace for w in spec.workloads} - {"default"})
    out += [namespace(ns) for ns in namespaces]
    for w in spec.workloads:
        out += statefulset(w)
        if w.expose is not None:
            out += exposure(spec, w)
    return out


def _service_ports(w: Workload) -> list[Obj]:
    return [
        {"name": p.name, "port": p.port, "targetPort": p.name, "protocol": p.protocol}
        for p in w.ports
    ]


def statefulset(w: Workload) -> list[Obj]:
    labels = {"app": w.name}
    headless: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(w.name, w.namespace, app=w.name),
        "spec": {
            "clusterIP": "None",
            "selector": labels,
            # A headless Service needs no port, but naming them documents the pods.
            "ports": _service_ports(w),
            "publishNotReadyAddresses": True,
        },
    }
    if not w.ports:
        del headless["spec"]["ports"]
    container: Obj = {
        "name": w.name,
        "image": w.image,
        "ports": [
            {"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in w.ports
        ],
    }
    if w.args:
        container["args"] = list(w.args)
    if w.ports:
        # Traffic only to a pod that listens; and a pod being stopped (a
        # drain, a rolling restart) keeps serving for a few seconds while
        # every node's kube-proxy and the gateway drop it from their
        # endpoints, so no request meets a closed port. The sleep is the
        # kubelet's own (no shell needed in the image).
        container["readinessProbe"] = {
            "tcpSocket": {"port": w.ports[0].name},
            "periodSeconds": 2,
        }
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": STOP_DELAY_SECONDS}}}
    spec: Obj = {
        "serviceName": w.name,
        "replicas": w.replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
    }
    if w.storage is not None:
        container["volumeMounts"] = [{"name": DATA_VOLUME, "mountPath": w.storage.mount_path}]
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": DATA_VOLUME},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": w.storage.storage_class,
                    "resources": {"requests": {"storage": w.storage.size}},
                },
            }
        ]
    sts: Obj = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta(w.name, w.namespace, app=w.name),
        "spec": spec,
    }
    if w.replicas < 2:
        return [headless, sts]
    return [headless, sts, disruption_budget(w.name, w.namespace, labels)]


def exposure(spec: ClusterSpec, w: Workload) -> list[Obj]:
    assert w.expose is not None
    port = next((p for p in w.ports if p.name == w.expose.port), None)
    if port is None:
        raise ValueError(
            f"workload {w.name}: expose.port {w.expose.port!r} is not one of its ports"
        )
    name = f"{w.name}-{port.name}"
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, w.namespace, app=w.name),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": w.name},
            "ports": [
                {
                    "name": port.name,
                    "port": port.port,
                    "targetPort": port.name,
                    "protocol": port.protocol,
                }
            ],
        },
    }
    ingress_class = spec.gateway.ingress_class
    if ingress_class:
        route: Obj = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta(w.name, w.namespace),
            "spec": {
                "ingressClassName": ingress_class,
                "rules": [
                    {
                        "host": w.expose.hostname,
                        "http": {
                            "paths": [
                                {
                                    "path": w.expose.path,
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": name, "port": {"number": port.port}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        }
        return [service, route]
    gw_ns = gateway_namespace(spec)
    if gw_ns is None:
        raise ValueError(f"workload {w.name} is exposed but cluster.gateway.controller is none")
    route = {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": meta(w.name, w.namespace),
        "spec": {
            "parentRefs": [{"name": GATEWAY_NAME, "namespace": gw_ns}],
            "hostnames": [w.expose.hostname],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": w.expose.path}}],
                    "backendRefs": [{"name": name, "port": port.port}],
                }
            ],
        },
    }
    return [service, route]

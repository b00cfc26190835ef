"""CoreDNS: the cluster's DNS, at the plan's cluster DNS IP (what kubelets use)."""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import (
    CONTROL_PLANE_TOLERATIONS,
    Obj,
    config_map,
    disruption_budget,
    meta,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec

NS = "kube-system"
LABELS = {"k8s-app": "kube-dns"}


def corefile(plan: ClusterPlan) -> str:
    domain = plan.network.cluster_domain
    return f""".:53 {{
    errors
    health {{
        lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
        max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


def coredns(_spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    rules = [
        rule([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
        rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"]),
    ]
    probe_port = {"liveness": 8080, "readiness": 8181}
    pod: Obj = {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "coredns",
        "tolerations": [
            *CONTROL_PLANE_TOLERATIONS,
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
        ],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": LABELS},
                            "topologyKey": "kubernetes.io/hostname",
                        },
                    }
                ]
            }
        },
        "containers": [
            {
                "name": "coredns",
                "image": versions.COREDNS.image("coredns"),
                "args": ["-conf", "/etc/coredns/Corefile"],
                "resources": {
                    "requests": {"cpu": "100m", "memory": "70Mi"},
                    "limits": {"memory": "170Mi"},
                },
                "ports": [
                    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
                ],
                "livenessProbe": {
                    "httpGet": {"path": "/health", "port": probe_port["liveness"]},
                    "initialDelaySeconds": 60,
                    "timeoutSeconds": 5,
                },
                "readinessProbe": {"httpGet": {"path": "/ready", "port": probe_port["readiness"]}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                },
                "volumeMounts": [
                    {"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}
                ],
            }
        ],
        "dnsPolicy": "Default",
        "volumes": [
            {
                "name": "config-volume",
                "configMap": {
                    "name": "coredns",
                    "items": [{"key": "Corefile", "path": "Corefile"}],
                },
            }
        ],
    }
    deployment = workload("Deployment", "coredns", NS, pod, replicas=2, labels=LABELS)
    deployment["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1},
    }
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            **meta("kube-dns", NS, **LABELS, **{"kubernetes.io/name": "CoreDNS"}),
            "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
        },
        "spec": {
            "selector": LABELS,
            "clusterIP": str(plan.network.cluster_dns_ip),
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                {"name": "metrics", "port": 9153, "protocol": "TCP"},
            ],
        },
    }
    return [
        *rbac("coredns", NS, rules),
        config_map("coredns", NS, {"Corefile": corefile(plan)}),
        deployment,
        # A drain evicts one CoreDNS at a time: DNS keeps answering.
        disruption_budget("coredns", NS, LABELS),
        service,
    ]

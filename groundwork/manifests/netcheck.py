"""Groundwork's own network check pods, which verify's cluster checks ask.

agnhost's `netexec` (Kubernetes' own e2e test server, built here from the
kubernetes module) runs on every node as a DaemonSet, behind a ClusterIP
Service. verify reaches each pod through the apiserver's pod proxy and asks
it to dial the others (`/dial`): pod-to-pod across every pair of nodes, the
Service by ClusterIP and by DNS name, from every node. The same idea as
Kubespray's netchecker, with upstream's test server instead of a program
of our own.

Beside them, a Secret that holds nothing secret: verify reads its raw bytes
from etcd to prove Secrets are encrypted at rest (the apiserver's
EncryptionConfiguration), since a cluster may otherwise have no Secret at all.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import Obj, meta
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec

NAMESPACE = "groundwork-system"
NAME = "netcheck"
PORT = 8080
SERVICE_PORT = 80
LABELS = {"app.kubernetes.io/name": NAME}
# The encryption-at-rest canary: etcd must never hold this text in the clear.
CANARY = "encryption-canary"
CANARY_TEXT = "groundwork encryption-at-rest canary"


def netcheck(_spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    ns: Obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta(NAMESPACE),
    }
    # The pods meet the `restricted` Pod Security Standard; enforced here.
    ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "restricted"
    container: Obj = {
        "name": NAME,
        "image": versions.AGNHOST.image("agnhost"),
        # The image the stack's registry serves now, even where a node holds
        # an older build under the same tag (a lab's test images are rebuilt
        # in place): the checks need its tools (ping for the pod MTU).
        "imagePullPolicy": "Always",
        "args": ["netexec", f"--http-port={PORT}"],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
        "resources": {
            "requests": {"cpu": "5m", "memory": "16Mi"},
            "limits": {"memory": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    daemonset: Obj = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": meta(NAME, NAMESPACE, **LABELS),
        "spec": {
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    # Every node, control-plane nodes included: the checks
                    # cover the pod network of each.
                    "tolerations": [{"operator": "Exists"}],
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 1,
                    "containers": [container],
                },
            },
        },
    }
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(NAME, NAMESPACE, **LABELS),
        "spec": {
            "selector": LABELS,
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }
    canary: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(CANARY, NAMESPACE, **LABELS),
        "type": "Opaque",
        "stringData": {"canary": CANARY_TEXT},
    }
    return [ns, daemonset, service, canary]

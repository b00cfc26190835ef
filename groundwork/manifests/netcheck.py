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

The objects are templates/addons/netcheck/netcheck.yaml.j2; this module
gives them their values (the names and ports verify and the tests import).
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec

NAMESPACE = "groundwork-system"
NAME = "netcheck"
PORT = 8080
SERVICE_PORT = 80
# The encryption-at-rest canary: etcd must never hold this text in the clear.
CANARY = "encryption-canary"
CANARY_TEXT = "groundwork encryption-at-rest canary"


def netcheck(_spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    return render_objects(
        "addons/netcheck/netcheck.yaml.j2",
        namespace=NAMESPACE,
        name=NAME,
        image=versions.AGNHOST.image("agnhost"),
        args=["netexec", f"--http-port={PORT}"],
        port=PORT,
        service_port=SERVICE_PORT,
        canary=CANARY,
        canary_text=CANARY_TEXT,
    )

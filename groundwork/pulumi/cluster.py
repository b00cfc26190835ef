"""The Cluster component: one per stack, parent of every resource Groundwork makes.

Children are created in dependency order. Built today: `Pki`. Issue 5 adds,
each as a child with `depends_on` its predecessor (a component that is not
built yet is simply not created here, never stubbed):

1. `NodeProvisioning`: dynamic resource running ansible-runner through
   groundwork.steps; diff = hash of the rendered inventory, vars and roles;
   takes `self.pki` material as secret inputs.
2. `NodeVerification`: dynamic resource running the testinfra checks.
3. the admin kubeconfig (secret output) and a `kubernetes.Provider` from it.
4. addons: CNI -> storage -> load balancer -> gateway -> CoreDNS -> workloads.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from groundwork.pki import CertificateRequest
from groundwork.pulumi.pki import Pki
from groundwork.spec import ClusterSpec

CLUSTER_TYPE = "groundwork:index:Cluster"


class Cluster(pulumi.ComponentResource):
    pki: Pki

    def __init__(
        self,
        spec: ClusterSpec,
        certificate_requests: Sequence[CertificateRequest],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(CLUSTER_TYPE, spec.name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.pki = Pki(f"{spec.name}-pki", certificate_requests, child)
        self.ca_certificate = self.pki.certificate("ca")
        self.register_outputs({"name": spec.name, "caCertificate": self.ca_certificate})

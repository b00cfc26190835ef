"""The Cluster component: one per stack, parent of every resource Groundwork makes.

Children are created in dependency order. Built today: `Pki`. Issue 5 adds,
each as a child with `depends_on` its predecessor (a component that is not
built yet is simply not created here, never stubbed):

1. `NodeProvisioning`: dynamic resource running ansible-runner through
   groundwork.steps; diff = hash of the rendered inventory, vars and roles;
   takes `self.pki` material as secret inputs.
2. `NodeVerification`: dynamic resource running the testinfra checks.
3. the admin kubeconfig (secret output) and a `kubernetes.Provider` from it.
   Built: the kubeconfig comes from the Pki outputs and the plan's endpoint.
4. addons (built, `groundwork.pulumi.addons`): CNI -> CoreDNS, storage,
   load balancer -> gateway -> workloads.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as kubernetes

from groundwork.manifests.kubeconfig import admin_kubeconfig
from groundwork.pki import CertificateRequest
from groundwork.plan import build_plan
from groundwork.pulumi.addons import Addons, add_addons
from groundwork.pulumi.pki import Pki
from groundwork.spec import ClusterSpec

CLUSTER_TYPE = "groundwork:index:Cluster"


class Cluster(pulumi.ComponentResource):
    pki: Pki
    kubeconfig: pulumi.Output[str]
    provider: kubernetes.Provider
    addons: Addons

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
        plan = build_plan(spec)
        # The admin kubeconfig for the endpoint the nodes serve, from the PKI's
        # cluster CA and `admin` client certificate (system:masters). Secret:
        # it embeds the private key. NodeProvisioning will replace `self.pki`
        # as the addons' prerequisite once it exists.
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.ca_certificate, self.pki.certificate("admin"), self.pki.private_key("admin")
            ).apply(lambda pems: admin_kubeconfig(spec.name, plan.endpoint.url, *pems))
        )
        self.provider = kubernetes.Provider(
            "k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.addons = add_addons(self, self.provider, spec, plan, depends_on=[self.pki])
        self.register_outputs(
            {
                "name": spec.name,
                "caCertificate": self.ca_certificate,
                "kubeconfig": self.kubeconfig,
            }
        )

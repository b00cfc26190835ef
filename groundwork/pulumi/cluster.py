"""The Cluster component: one per stack, parent of every resource Groundwork makes.

Children, each with `depends_on` its predecessor:

1. `Pki`: the CAs, certificates and service-account key.
2. `NodeProvisioning` (`groundwork.pulumi.nodes`): dynamic resource running
   the `up` phases (groundwork.phases); its diff is
   `provisioning_hash(spec)` (rendered inventory, playbooks, roles).
3. `NodeVerification`: dynamic resource running the testinfra checks; takes
   the provisioning hash as input, so it re-runs whenever provisioning did.
4. the admin kubeconfig (secret output, from the Pki outputs and the plan's
   endpoint) and a `kubernetes.Provider` from it, configured after the
   verification.
5. addons (`groundwork.pulumi.addons`): CNI -> CoreDNS, storage, load
   balancer -> gateway -> workloads; every layer depends on the verification.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from groundwork.inventory.fingerprint import provisioning_hash
from groundwork.manifests.kubeconfig import admin_kubeconfig
from groundwork.plan import ClusterPlan
from groundwork.pulumi.addons import Addons, add_addons
from groundwork.pulumi.nodes import NodeProvisioning, NodeVerification
from groundwork.pulumi.pki import Pki
from groundwork.spec import ClusterSpec

CLUSTER_TYPE = "groundwork:index:Cluster"


class Cluster(pulumi.ComponentResource):
    pki: Pki
    provisioning: NodeProvisioning
    verification: NodeVerification
    kubeconfig: pulumi.Output[str]
    provider: kubernetes.Provider
    addons: Addons

    def __init__(
        self,
        spec: ClusterSpec,
        plan: ClusterPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(CLUSTER_TYPE, spec.name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.pki = Pki(f"{spec.name}-pki", plan.certificates, child)
        self.ca_certificate = self.pki.certificate("ca")
        content_hash = provisioning_hash(spec, plan=plan)
        self.provisioning = NodeProvisioning(
            f"{spec.name}-nodes",
            spec,
            content_hash,
            pki=pulumi.Output.secret(
                pulumi.Output.all(
                    self.pki.certificates,
                    self.pki.private_keys,
                    self.pki.service_account_public_key,
                ).apply(
                    lambda parts: {
                        "certificates": parts[0],
                        "privateKeys": parts[1],
                        "serviceAccountPublicKey": parts[2],
                    }
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.pki]),
        )
        self.verification = NodeVerification(
            f"{spec.name}-verify",
            spec,
            content_hash,
            pulumi.ResourceOptions(parent=self, depends_on=[self.provisioning]),
        )
        # The admin kubeconfig for the endpoint the nodes serve, from the PKI's
        # cluster CA and `admin` client certificate (system:masters). Secret:
        # it embeds the private key.
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.ca_certificate, self.pki.certificate("admin"), self.pki.private_key("admin")
            ).apply(lambda pems: admin_kubeconfig(spec.name, plan.endpoint.url, *pems))
        )
        # The provider reaches for the cluster when it is configured and, if
        # the API does not answer then, marks it unreachable for the whole run:
        # it is configured only once the verified cluster exists.
        verified_kubeconfig = pulumi.Output.all(self.kubeconfig, self.verification.id).apply(
            lambda parts: str(parts[0])
        )
        self.provider = kubernetes.Provider(
            "k8s",
            kubeconfig=verified_kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.verification]),
        )
        self.addons = add_addons(self, self.provider, spec, plan, depends_on=[self.verification])
        self.register_outputs(
            {
                "name": spec.name,
                "caCertificate": self.ca_certificate,
                "kubeconfig": self.kubeconfig,
                "provisioningHash": content_hash,
            }
        )

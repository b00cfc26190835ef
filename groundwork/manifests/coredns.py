"""CoreDNS: the cluster's DNS, at the plan's cluster DNS IP (what kubelets use).

Its objects are Kubernetes' own DNS addon, cluster/addons/dns/coredns/
coredns.yaml.base, read from the kubernetes module components/kubernetes
pins (`coredns_bundle`). Its placeholders take the plan's domain and DNS IP
(as upstream's kube-up fills them in); Groundwork's patches
(templates/addons/coredns/coredns-patches.yaml.j2) set the image the lab
builds, two replicas and the tolerations. Groundwork's own object, the
PodDisruptionBudget, is templates/addons/coredns/coredns.yaml.j2.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles, render_patches
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec

FILES = ModuleFiles(
    "kubernetes", "k8s.io/kubernetes", "cluster/addons/dns/coredns/coredns.yaml.base"
)
# Upstream's default (cluster/gce/config-default.sh DNS_MEMORY_LIMIT).
MEMORY_LIMIT = "170Mi"


def coredns(_spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    """Groundwork's own objects: the disruption budget upstream does not ship."""
    return render_objects("addons/coredns/coredns.yaml.j2")


def coredns_bundle(plan: ClusterPlan) -> Bundle:
    patches = render_patches(
        "addons/coredns/coredns-patches.yaml.j2",
        placeholders={
            "__DNS__DOMAIN__": plan.network.cluster_domain,
            "__DNS__SERVER__": str(plan.network.cluster_dns_ip),
            "__DNS__MEMORY__LIMIT__": MEMORY_LIMIT,
        },
        image=versions.COREDNS.image("coredns"),
    )
    k = versions.KUBERNETES_DNS
    return Bundle("coredns", k.bundles["coredns"], k.version, FILES, patches)

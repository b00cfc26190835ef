"""CoreDNS: the cluster's DNS, at the plan's cluster DNS IP (what kubelets use).

The objects are templates/addons/coredns/coredns.yaml.j2; this module gives
them their values.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec


def coredns(_spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    return render_objects(
        "addons/coredns/coredns.yaml.j2",
        image=versions.COREDNS.image("coredns"),
        cluster_domain=plan.network.cluster_domain,
        cluster_dns_ip=str(plan.network.cluster_dns_ip),
    )

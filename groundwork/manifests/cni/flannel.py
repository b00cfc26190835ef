"""flannel: rendered in full (a DaemonSet, its RBAC and its net-conf), as
upstream's Documentation/kube-flannel.yml of the pinned release lays it out.

The objects are templates/addons/flannel/flannel.yaml.j2, with both JSON
files of its ConfigMap written out there; this module gives them their
values. The pod MTU comes from the plan; flanneld sizes its own device the
same way.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, KubeProxyMode


def flannel(_spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    net = plan.network
    return render_objects(
        "addons/flannel/flannel.yaml.j2",
        image=versions.FLANNEL.image("flannel"),
        cni_image=versions.FLANNEL.image("cni-plugin"),
        pod_mtu=plan.pod_mtu,
        pod_cidr=str(net.pod_cidr),
        subnet_len=net.node_subnet_size,
        # flanneld writes its masquerade and forward rules with what kube-proxy uses.
        nftables=net.kube_proxy is KubeProxyMode.NFTABLES,
        backend=net.backend.value,
    )

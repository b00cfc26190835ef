"""kube-router: rendered in full (a DaemonSet running routing, policy and,
with `kubeProxy: none`, the service proxy).

The objects are templates/addons/kube-router/kube-router.yaml.j2, with the
CNI configuration written out there; this module gives them their values.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import Backend, ClusterSpec, KubeProxyMode


def kube_router(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    bgp = spec.network.bgp
    peers = bgp.peers if bgp is not None else []
    # kube-router pairs the two comma-separated lists by position.
    peer_ips = ",".join(str(p.address) for p in peers)
    peer_asns = ",".join(str(p.asn) for p in peers)
    return render_objects(
        "addons/kube-router/kube-router.yaml.j2",
        image=versions.KUBE_ROUTER.image("kube-router"),
        pod_mtu=plan.pod_mtu,
        service_proxy=plan.network.kube_proxy is KubeProxyMode.NONE,
        overlay=plan.network.backend is Backend.IPIP,
        cluster_asn=bgp.asn if bgp is not None else None,
        peer_router_ips_arg=f"--peer-router-ips={peer_ips}" if peers else None,
        peer_router_asns_arg=f"--peer-router-asns={peer_asns}" if peers else None,
    )

"""cilium: rendered in full (its operator registers cilium's CRDs itself).

The objects are templates/addons/cilium/cilium.yaml.j2: the cilium-config
ConfigMap, the agent's and the operator's RBAC, the agent DaemonSet and the
operator Deployment; this module gives them their values.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.manifests import versions
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import Backend, ClusterSpec, KubeProxyMode


@dataclass(frozen=True)
class ApiServerView:
    """The control plane endpoint, as the env of cilium's pods (strings)."""

    host: str
    port: str


def cilium(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    net = plan.network
    native = net.backend is Backend.NATIVE
    replace_proxy = net.kube_proxy is KubeProxyMode.NONE
    # Without kube-proxy, the `kubernetes` Service IP is not reachable until
    # cilium itself programs it: its pods talk to the control plane endpoint.
    api_server = (
        ApiServerView(plan.endpoint.host, str(plan.endpoint.port)) if replace_proxy else None
    )
    return render_objects(
        "addons/cilium/cilium.yaml.j2",
        agent_image=versions.CILIUM.image("agent"),
        operator_image=versions.CILIUM.image("operator"),
        cluster_name=spec.name,
        # ConfigMap data are strings.
        mtu=str(plan.pod_mtu),
        routing_mode="native" if native else "tunnel",
        native_routing_cidr=str(net.pod_cidr) if native else None,
        tunnel_protocol=None if native else net.backend.value,  # vxlan or geneve
        kube_proxy_replacement="true" if replace_proxy else "false",
        api_server=api_server,
    )

"""The network plugin's in-cluster part, per stack: one module per plugin.

`cni(spec, plan)` looks the plugin up in PLUGIN_MANIFESTS. A plugin without
an entry is an error, never another plugin's manifests. Every plugin gets
the pod MTU from the plan, never its own guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from groundwork.manifests.cni.bridge import bridge
from groundwork.manifests.cni.calico import calico
from groundwork.manifests.cni.cilium import cilium
from groundwork.manifests.cni.flannel import flannel
from groundwork.manifests.cni.kube_router import kube_router
from groundwork.manifests.common import Obj
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, Plugin

__all__ = ["PLUGIN_MANIFESTS", "MissingPluginManifests", "cni"]

Manifests = Callable[[ClusterSpec, ClusterPlan], list[Obj]]

PLUGIN_MANIFESTS: Mapping[Plugin, Manifests] = {
    Plugin.BRIDGE: bridge,
    Plugin.FLANNEL: flannel,
    Plugin.CALICO: calico,
    Plugin.CILIUM: cilium,
    Plugin.KUBE_ROUTER: kube_router,
}


class MissingPluginManifests(LookupError):
    """A network plugin the spec accepts has no manifests module."""


def cni(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    plugin = plan.network.plugin
    render = PLUGIN_MANIFESTS.get(plugin)
    if render is None:
        raise MissingPluginManifests(
            f"no manifests for network plugin {plugin.value}: add its module to "
            "groundwork/manifests/cni and its entry to PLUGIN_MANIFESTS"
        )
    return render(spec, plan)

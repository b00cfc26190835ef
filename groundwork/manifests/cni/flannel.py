"""flannel: upstream's own objects, patched with what Groundwork derives.

Every object is upstream's Documentation/kube-flannel.yml, read from the
flannel module components/flannel pins (a `Bundle`, installed by either
door). Groundwork patches it (templates/addons/flannel/flannel-patches.yaml.j2)
with the images the lab builds, the net-conf of the stack's pod network and
backend, the pod MTU of the plan (flanneld sizes its own device the same
way) and the node's declared address as flanneld's interface; it has no
objects of its own.
"""

from __future__ import annotations

from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles, render_patches
from groundwork.manifests.common import Obj
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, KubeProxyMode

FILES = ModuleFiles("flannel", "github.com/flannel-io/flannel", "Documentation/kube-flannel.yml")
# The CNI plugin built here is containernetworking/plugins v0.9.1's flannel
# (components/flannel-cni), which speaks the CNI spec up to 0.4.0; upstream's
# file asks for 1.0.0, which only its newer flannel-cni-plugin speaks.
CNI_VERSION = "0.3.1"


def flannel(_spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    """Groundwork's own objects: none, upstream's are `flannel_bundle`'s."""
    return []


def flannel_bundle(plan: ClusterPlan) -> Bundle:
    net = plan.network
    patches = render_patches(
        "addons/flannel/flannel-patches.yaml.j2",
        image=versions.FLANNEL.image("flannel"),
        cni_image=versions.FLANNEL.image("cni-plugin"),
        cni_version=CNI_VERSION,
        pod_mtu=plan.pod_mtu,
        pod_cidr=str(net.pod_cidr),
        subnet_len=net.node_subnet_size,
        # flanneld writes its masquerade and forward rules with what kube-proxy uses.
        nftables=net.kube_proxy is KubeProxyMode.NFTABLES,
        backend=net.backend.value,
    )
    f = versions.FLANNEL
    return Bundle("flannel", f.bundles["install"], f.version, FILES, patches)

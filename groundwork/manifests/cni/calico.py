"""calico, through the tigera operator.

The operator and the calico CRDs come from the pinned upstream bundles
(`versions.CALICO.bundles`, installed by the cni layer first); this module
renders the `Installation` and the BGP configuration from the spec.
"""

from __future__ import annotations

from groundwork.manifests.common import Obj, meta
from groundwork.plan import ClusterPlan
from groundwork.spec.model import IPIP_BACKENDS, Backend, ClusterSpec, KubeProxyMode

CALICO_ENCAPSULATION: dict[Backend, str] = {
    Backend.VXLAN: "VXLAN",
    Backend.IPIP: "IPIP",
    Backend.BGP: "None",
    Backend.IPIP_CROSS_SUBNET: "IPIPCrossSubnet",
    Backend.VXLAN_CROSS_SUBNET: "VXLANCrossSubnet",
}
# Calico accepts IPv4 block sizes from /20 to /32.
CALICO_BLOCK_SIZES = range(20, 33)


def calico_bgp_enabled(spec: ClusterSpec, backend: Backend) -> bool:
    """IP-in-IP and unencapsulated routing need BGP; VXLAN does not (unless peers are declared)."""
    peers = spec.network.bgp is not None and bool(spec.network.bgp.peers)
    return backend in {Backend.BGP, *IPIP_BACKENDS} or peers


def calico(spec: ClusterSpec, plan: ClusterPlan) -> list[Obj]:
    net = plan.network
    if net.node_subnet_size not in CALICO_BLOCK_SIZES:
        raise ValueError(
            f"calico block size must be /20../32; nodeSubnetSize is /{net.node_subnet_size}"
        )
    bgp = calico_bgp_enabled(spec, net.backend)
    installation: Obj = {
        "apiVersion": "operator.tigera.io/v1",
        "kind": "Installation",
        "metadata": meta("default"),
        "spec": {
            "variant": "Calico",
            "cni": {"type": "Calico", "ipam": {"type": "Calico"}},
            "calicoNetwork": {
                "bgp": "Enabled" if bgp else "Disabled",
                "mtu": plan.pod_mtu,
                "linuxDataplane": "Nftables"
                if net.kube_proxy is KubeProxyMode.NFTABLES
                else "Iptables",
                "ipPools": [
                    {
                        "name": "default-ipv4-ippool",
                        "cidr": str(net.pod_cidr),
                        "encapsulation": CALICO_ENCAPSULATION[net.backend],
                        "natOutgoing": "Enabled",
                        "blockSize": net.node_subnet_size,
                        "nodeSelector": "all()",
                    }
                ],
            },
        },
    }
    out = [installation]
    if bgp:
        asn = spec.network.bgp.asn if spec.network.bgp else 64512
        out.append(
            {
                "apiVersion": "crd.projectcalico.org/v1",
                "kind": "BGPConfiguration",
                "metadata": meta("default"),
                "spec": {
                    "asNumber": asn,
                    "nodeToNodeMeshEnabled": True,
                    "logSeverityScreen": "Info",
                },
            }
        )
        for peer in spec.network.bgp.peers if spec.network.bgp else []:
            out.append(
                {
                    "apiVersion": "crd.projectcalico.org/v1",
                    "kind": "BGPPeer",
                    "metadata": meta("peer-" + str(peer.address).replace(".", "-")),
                    "spec": {"peerIP": str(peer.address), "asNumber": peer.asn},
                }
            )
    return out

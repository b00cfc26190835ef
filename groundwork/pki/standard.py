"""The usual certificate set of a cluster, from plain data (names, addresses, SANs).

These builders let the substrate and the Pulumi program issue certificates
before and independently of the plan: the plan decides the SAN lists and the
member list, these functions turn them into requests. Subjects follow the
names Kubernetes' RBAC and etcd expect (system:node:<name> in system:nodes,
system:kube-controller-manager ...). File names and subjects match
groundwork.plan.certs where the store layout leaves them free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from groundwork.pki.requests import CertificateRequest, Usage

LOOPBACK_DNS = "localhost"
LOOPBACK_IP = "127.0.0.1"


@dataclass(frozen=True)
class Member:
    """A machine that gets per-host certificates: an etcd member or a kubelet."""

    name: str
    address: str


def etcd_requests(members: Sequence[Member]) -> list[CertificateRequest]:
    """Server and peer certificates per member, plus the two etcd client certificates.

    Server and peer certificates carry both usages: etcd dials its peers with
    the peer certificate and its own gRPC gateway with the server one.
    """
    out: list[CertificateRequest] = []
    for member in members:
        for kind in ("server", "peer"):
            out.append(
                CertificateRequest(
                    name=f"{member.name}-{kind}",
                    common_name=member.name,
                    dns_sans=(member.name, LOOPBACK_DNS),
                    ip_sans=_unique(member.address, LOOPBACK_IP),
                    usages=frozenset({"server", "client"}),
                    ca="etcd",
                )
            )
    out.append(
        CertificateRequest(
            name="healthcheck-client",
            common_name="kube-etcd-healthcheck-client",
            usages=frozenset({"client"}),
            ca="etcd",
        )
    )
    out.append(
        CertificateRequest(
            name="apiserver-etcd-client",
            common_name="kube-apiserver-etcd-client",
            usages=frozenset({"client"}),
            ca="etcd",
        )
    )
    return out


def control_plane_requests(
    apiserver_dns_sans: Iterable[str],
    apiserver_ip_sans: Iterable[str],
    *,
    kube_proxy: bool = True,
) -> list[CertificateRequest]:
    """The apiserver's serving certificate and the control plane's client certificates.

    `kube_proxy=False` when the CNI replaces kube-proxy: no certificate for it.
    """
    client: frozenset[Usage] = frozenset({"client"})
    out = [
        CertificateRequest(
            name="kube-apiserver",
            common_name="kube-apiserver",
            dns_sans=_unique(*apiserver_dns_sans),
            ip_sans=_unique(*apiserver_ip_sans),
            usages=frozenset({"server"}),
        ),
        # No system:masters: the control plane binds this user to the
        # system:kubelet-api-admin ClusterRole (least privilege, as kubeadm does).
        CertificateRequest(
            name="kube-apiserver-kubelet-client",
            common_name="kube-apiserver-kubelet-client",
            usages=client,
        ),
        CertificateRequest(
            name="front-proxy-client",
            common_name="front-proxy-client",
            usages=client,
            ca="front-proxy",
        ),
        CertificateRequest(
            name="admin",
            common_name="admin",
            organization=("system:masters",),
            usages=client,
        ),
        CertificateRequest(
            name="kube-controller-manager",
            common_name="system:kube-controller-manager",
            usages=client,
        ),
        CertificateRequest(
            name="kube-scheduler", common_name="system:kube-scheduler", usages=client
        ),
    ]
    if kube_proxy:
        out.append(
            CertificateRequest(
                name="kube-proxy",
                common_name="system:kube-proxy",
                organization=("system:node-proxier",),
                usages=client,
            )
        )
    return out


def kubelet_requests(nodes: Sequence[Member]) -> list[CertificateRequest]:
    """One certificate per kubelet, serving its API and authenticating it as the node."""
    return [
        CertificateRequest(
            name=f"kubelet-{node.name}",
            common_name=f"system:node:{node.name}",
            organization=("system:nodes",),
            dns_sans=(node.name,),
            ip_sans=(node.address,),
            usages=frozenset({"server", "client"}),
        )
        for node in nodes
    ]


def _unique(*values: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))

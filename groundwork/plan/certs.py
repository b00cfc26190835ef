"""What every certificate must say: the SAN decisions of the plan.

The plan decides the names and addresses each certificate must carry; the
request type and the standard certificate set (subjects, usages, file names
in the PKI store) live in `groundwork.pki`, which generates from them. Three
CAs, as in kubeadm: `cluster` (API server, kubelets, components), `etcd`
(members and their clients) and `front-proxy` (the aggregation layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address

from groundwork.pki.requests import CertificateRequest
from groundwork.pki.standard import (
    Member,
    control_plane_requests,
    etcd_requests,
    kubelet_requests,
)
from groundwork.plan.endpoint import EndpointPlan

Address = IPv4Address | IPv6Address

__all__ = ["CertificateRequest", "apiserver_sans", "certificate_requests", "first_service_ip"]


def first_service_ip(service_cidr: IPv4Network) -> IPv4Address:
    """The `kubernetes` Service's ClusterIP (10.96.0.1 in 10.96.0.0/12)."""
    return service_cidr.network_address + 1


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def apiserver_sans(
    endpoint: EndpointPlan,
    control_plane: Sequence[tuple[str, Address]],
    service_cidr: IPv4Network,
    cluster_domain: str,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(DNS SANs, IP SANs) of the one serving certificate every kube-apiserver
    shares: valid for every name a client may use to reach the API."""
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    dns.append(f"kubernetes.default.svc.{cluster_domain}")
    dns += ["localhost", *(name for name, _ in control_plane)]
    ips = [str(first_service_ip(service_cidr)), "127.0.0.1"]
    ips += [str(address) for _, address in control_plane]
    if endpoint.kind == "dns":
        dns.append(endpoint.host)
    else:
        ips.append(endpoint.host)
    return _unique(dns), _unique(ips)


def certificate_requests(
    endpoint: EndpointPlan,
    control_plane: Sequence[tuple[str, Address]],
    etcd_members: Sequence[tuple[str, Address]],
    kubelet_nodes: Sequence[tuple[str, Address]],
    service_cidr: IPv4Network,
    cluster_domain: str,
    *,
    kube_proxy: bool = True,
) -> tuple[CertificateRequest, ...]:
    dns, ips = apiserver_sans(endpoint, control_plane, service_cidr, cluster_domain)
    return (
        *control_plane_requests(dns, ips, kube_proxy=kube_proxy),
        *etcd_requests([Member(name, str(address)) for name, address in etcd_members]),
        *kubelet_requests([Member(name, str(address)) for name, address in kubelet_nodes]),
    )

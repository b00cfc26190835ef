"""What every certificate must say: subject, SANs, usages and signing CA.

Data only; `groundwork.pki` generates keys and certificates from it. Three
CAs, as in kubeadm: `kubernetes` (API server, kubelets, components),
`etcd` (members and their clients) and `front-proxy` (the aggregation
layer). The service-account signing key is a key pair, not a certificate,
so it is not listed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address

from groundwork.plan.endpoint import EndpointPlan

Address = IPv4Address | IPv6Address

KUBERNETES_CA = "kubernetes"
ETCD_CA = "etcd"
FRONT_PROXY_CA = "front-proxy"
SERVER = "server"
CLIENT = "client"


@dataclass(frozen=True)
class CertificateRequest:
    name: str  # unique file stem: "kube-apiserver", "kubelet-w1", "etcd-server-cp1"
    ca: str  # which CA signs it: KUBERNETES_CA, ETCD_CA or FRONT_PROXY_CA
    common_name: str
    organization: str | None
    sans_dns: tuple[str, ...]
    sans_ip: tuple[str, ...]
    usages: tuple[str, ...]  # SERVER and/or CLIENT (extended key usages)
    node: str | None  # the node the key lives on, None for the control plane or admins


def first_service_ip(service_cidr: IPv4Network) -> IPv4Address:
    """The `kubernetes` Service's ClusterIP (10.96.0.1 in 10.96.0.0/12)."""
    return service_cidr.network_address + 1


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def apiserver_request(
    endpoint: EndpointPlan,
    control_plane: Sequence[tuple[str, Address]],
    service_cidr: IPv4Network,
    cluster_domain: str,
) -> CertificateRequest:
    """One serving certificate shared by every kube-apiserver (and haproxy's
    backends), valid for every name a client may use to reach the API."""
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    dns.append(f"kubernetes.default.svc.{cluster_domain}")
    dns += ["localhost", *(name for name, _ in control_plane)]
    ips = [str(first_service_ip(service_cidr)), "127.0.0.1"]
    ips += [str(address) for _, address in control_plane]
    if endpoint.kind == "dns":
        dns.append(endpoint.host)
    else:
        ips.append(endpoint.host)
    return CertificateRequest(
        "kube-apiserver", KUBERNETES_CA, "kube-apiserver", None,
        _unique(dns), _unique(ips), (SERVER,), None,
    )  # fmt: skip


def etcd_requests(members: Sequence[tuple[str, Address]]) -> list[CertificateRequest]:
    """Per member: a server certificate (clients) and a peer certificate (peers);
    both carry server and client usage because etcd dials with them too."""
    out: list[CertificateRequest] = []
    for name, address in members:
        dns = (name, "localhost")
        ips = _unique((str(address), "127.0.0.1"))
        for kind in ("server", "peer"):
            out.append(
                CertificateRequest(
                    f"etcd-{kind}-{name}", ETCD_CA, name, None, dns, ips, (SERVER, CLIENT), name
                )
            )
    return out


def kubelet_request(name: str, address: Address) -> CertificateRequest:
    """Serving and client certificate of one kubelet (Node authorizer identity)."""
    return CertificateRequest(
        f"kubelet-{name}", KUBERNETES_CA, f"system:node:{name}", "system:nodes",
        (name,), (str(address),), (SERVER, CLIENT), name,
    )  # fmt: skip


def client_requests(kube_proxy: bool) -> list[CertificateRequest]:
    """Client certificates of the control-plane components and the admin."""

    def client(
        name: str, cn: str, org: str | None = None, ca: str = KUBERNETES_CA
    ) -> CertificateRequest:
        return CertificateRequest(name, ca, cn, org, (), (), (CLIENT,), None)

    out = [
        client("admin", "admin", "system:masters"),
        client("kube-controller-manager", "system:kube-controller-manager"),
        client("kube-scheduler", "system:kube-scheduler"),
        # Bound by RBAC to system:kubelet-api-admin (not system:masters).
        client("kube-apiserver-kubelet-client", "kube-apiserver-kubelet-client"),
        client("kube-apiserver-etcd-client", "kube-apiserver-etcd-client", ca=ETCD_CA),
        client("front-proxy-client", "front-proxy-client", ca=FRONT_PROXY_CA),
    ]
    if kube_proxy:
        out.append(client("kube-proxy", "system:kube-proxy", "system:node-proxier"))
    return out


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
    return (
        apiserver_request(endpoint, control_plane, service_cidr, cluster_domain),
        *client_requests(kube_proxy),
        *etcd_requests(etcd_members),
        *(kubelet_request(name, address) for name, address in kubelet_nodes),
    )

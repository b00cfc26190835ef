"""The Pulumi program's entry: stack config -> spec -> Cluster component.

`__main__.py` calls `spec_from_config` and `build`; tests call them directly
under Pulumi's mock runtime.
"""

from __future__ import annotations

from ipaddress import ip_network

import pulumi

from groundwork.pki import (
    CertificateRequest,
    Member,
    control_plane_requests,
    etcd_requests,
    kubelet_requests,
)
from groundwork.pulumi.cluster import Cluster
from groundwork.spec import ClusterSpec, Role, parse_cluster
from groundwork.spec.model import DnsEndpoint, KubeProxyMode, LoadBalancerEndpoint

CONFIG_NAMESPACE = "groundwork"
CONFIG_KEY = "cluster"


def spec_from_config() -> ClusterSpec:
    """The validated spec from the stack's `groundwork:cluster` value (SpecError if invalid)."""
    value = pulumi.Config(CONFIG_NAMESPACE).require_object(CONFIG_KEY)
    return parse_cluster(value, source=f"{CONFIG_NAMESPACE}:{CONFIG_KEY}")


def build(spec: ClusterSpec) -> Cluster:
    """Declare every resource of the cluster; the spec is already valid."""
    return Cluster(spec, certificate_requests(spec))


def certificate_requests(spec: ClusterSpec) -> list[CertificateRequest]:
    """The cluster's certificate requests.

    Interim: the SAN lists belong to groundwork.plan (`build_plan(spec)`); once
    the plan emits `groundwork.pki.CertificateRequest`s this function becomes
    `build_plan(spec).certificates` and the derivation below goes away.
    """
    control_plane = spec.nodes_with(Role.CONTROL_PLANE)
    etcd = spec.nodes_with(Role.ETCD)
    kubelets = [n for n in spec.nodes if n.has(Role.CONTROL_PLANE) or n.has(Role.WORKER)]
    endpoint = spec.control_plane.endpoint
    service_ip = str(next(ip_network(str(spec.network.service_cidr4)).hosts()))
    domain = spec.kubernetes.cluster_domain
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    dns += [f"kubernetes.default.svc.{domain}", "localhost", *(n.name for n in control_plane)]
    ips = [service_ip, "127.0.0.1", *(str(n.address) for n in control_plane)]
    if isinstance(endpoint, DnsEndpoint):
        dns.append(endpoint.dns)
    elif isinstance(endpoint, LoadBalancerEndpoint):
        ips.append(str(endpoint.load_balancer))
    else:
        ips.append(str(endpoint.vip))
    return [
        *control_plane_requests(
            dns, ips, kube_proxy=spec.kubernetes.kube_proxy != KubeProxyMode.NONE
        ),
        *etcd_requests([Member(n.name, str(n.address)) for n in etcd]),
        *kubelet_requests([Member(n.name, str(n.address)) for n in kubelets]),
    ]

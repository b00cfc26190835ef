"""The control plane endpoint: where kubelets, kubectl and pods reach the API.

Ports, and why they differ with a VIP:

- vip: keepalived holds the VIP on one control-plane node; haproxy runs on
  *every* control-plane node, listening on the endpoint port on all
  addresses (`bind *:<port>`), and balances to every kube-apiserver. So
  kube-apiserver must use another port on the same machine: it listens on
  `APISERVER_PORT_BEHIND_HAPROXY` (6444), bound to the node's own address.
  Binding haproxy to every address (not only the VIP) means the backup nodes
  need no `ip_nonlocal_bind` and haproxy is already listening the moment
  keepalived moves the VIP. Because kube-apiserver advertises
  <node address>:6444, the in-cluster `kubernetes` Service (10.96.0.1:443)
  forwards there, so 6444 must be open from every kubelet node, not only
  between control-plane nodes.
- loadBalancer: the user's load balancer forwards the endpoint port to the
  same port on each control-plane node; kube-apiserver listens there.
- dns: the name resolves to the control-plane nodes themselves, so
  kube-apiserver listens on the endpoint port.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.spec.model import DnsEndpoint, LoadBalancerEndpoint, VipEndpoint

APISERVER_PORT_BEHIND_HAPROXY = 6444
_ALTERNATE_PORT = 6443  # if a VIP endpoint itself uses 6444


@dataclass(frozen=True)
class EndpointPlan:
    kind: str  # "vip", "loadBalancer" or "dns"
    host: str  # the VIP, the load balancer's address or the DNS name
    port: int  # what clients connect to
    apiserver_port: int  # what kube-apiserver listens on, on each control-plane node
    haproxy: bool  # haproxy + keepalived run on the control-plane nodes

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"


def endpoint_plan(endpoint: VipEndpoint | LoadBalancerEndpoint | DnsEndpoint) -> EndpointPlan:
    if isinstance(endpoint, VipEndpoint):
        apiserver = (
            APISERVER_PORT_BEHIND_HAPROXY
            if endpoint.port != APISERVER_PORT_BEHIND_HAPROXY
            else _ALTERNATE_PORT
        )
        return EndpointPlan("vip", str(endpoint.vip), endpoint.port, apiserver, True)
    if isinstance(endpoint, LoadBalancerEndpoint):
        host = str(endpoint.load_balancer)
        return EndpointPlan("loadBalancer", host, endpoint.port, endpoint.port, False)
    return EndpointPlan("dns", endpoint.dns, endpoint.port, endpoint.port, False)

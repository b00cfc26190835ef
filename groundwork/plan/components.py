"""Which component roles of site.yml each node runs, in the order it runs them (pure).

site.yml includes exactly these roles per node, in one task with a loop: a
worker then includes its two roles at once instead of also evaluating, and
skipping, an include for etcd and one for the load balancer. Each include
is a task, and each task is a fork on the controller and a round trip to
the node, on every run (the no-change run included).
"""

from __future__ import annotations

from groundwork.plan.endpoint import EndpointPlan

ETCD = "etcd"
APISERVER_LB = "apiserver_lb"
CONTAINER_RUNTIME = "container_runtime"
NETWORK = "network"


def node_components(
    etcd_member: bool, control_plane: bool, runs_pods: bool, endpoint: EndpointPlan
) -> list[str]:
    """The roles one node runs: etcd first (the control plane's store), then the
    load balancer in front of the API servers, then what pods need."""
    components = []
    if etcd_member:
        components.append(ETCD)
    if control_plane and endpoint.haproxy:
        components.append(APISERVER_LB)
    if runs_pods:
        components += [CONTAINER_RUNTIME, NETWORK]
    return components

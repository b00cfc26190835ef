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
    """The roles one node runs: the load balancer in front of the API servers,
    then etcd (the control plane's store), then what pods need.

    The load balancer first: keepalived's election of the VIP's holder takes
    about 3.5 s (VRRP's master-down interval, every node starting as backup),
    and `up` ends only once the endpoint answers through the VIP. Started
    first, the election passes while etcd installs and starts; started after
    etcd, it was idle time at the end of every cold run.
    """
    components = []
    if control_plane and endpoint.haproxy:
        components.append(APISERVER_LB)
    if etcd_member:
        components.append(ETCD)
    if runs_pods:
        components += [CONTAINER_RUNTIME, NETWORK]
    return components

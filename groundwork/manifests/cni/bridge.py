"""bridge: nothing in-cluster.

The network role writes the bridge CNI configuration and the static routes
between node subnets on each node (roles/network), so there is no object to
apply.
"""

from __future__ import annotations

from groundwork.manifests.common import Obj
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec


def bridge(_spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    return []

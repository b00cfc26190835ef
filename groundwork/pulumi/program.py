"""The Pulumi program's entry: stack config -> spec -> Cluster component.

`__main__.py` calls `spec_from_config` and `build`; tests call them directly
under Pulumi's mock runtime.
"""

from __future__ import annotations

import pulumi

from groundwork.plan import build_plan
from groundwork.pulumi.cluster import Cluster
from groundwork.spec import ClusterSpec, parse_cluster

CONFIG_NAMESPACE = "groundwork"
CONFIG_KEY = "cluster"


def spec_from_config() -> ClusterSpec:
    """The validated spec from the stack's `groundwork:cluster` value (SpecError if invalid)."""
    value = pulumi.Config(CONFIG_NAMESPACE).require_object(CONFIG_KEY)
    return parse_cluster(value, source=f"{CONFIG_NAMESPACE}:{CONFIG_KEY}")


def build(spec: ClusterSpec) -> Cluster:
    """Declare every resource of the cluster; the spec is already valid. The
    plan (every certificate's SANs, the endpoint, the addons) is built once."""
    return Cluster(spec, build_plan(spec))

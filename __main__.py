"""Pulumi program: read the stack's `groundwork:cluster` value and build the Cluster."""

import pulumi

from groundwork.pulumi import build, spec_from_config
from groundwork.spec import SpecError

try:
    spec = spec_from_config()
except SpecError as err:
    # Every problem on its own line, no Python traceback (principle 3).
    raise pulumi.RunError(f"invalid stack config:\n{err}") from err

cluster = build(spec)
pulumi.export("clusterName", spec.name)
pulumi.export("caCertificate", cluster.ca_certificate)
pulumi.export("kubeconfig", cluster.kubeconfig)  # secret: embeds the admin key

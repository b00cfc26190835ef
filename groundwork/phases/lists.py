"""Which phases each verb runs, in order. Both front doors run these: the CLI
(groundwork/cli) and the Pulumi providers (groundwork/pulumi/nodes.py).

Adding a phase: a file of its own in this package with the same shape as the
others, and one line in the list it belongs to.
"""

from __future__ import annotations

from groundwork.phases.addons import Addons
from groundwork.phases.destroy import Destroy
from groundwork.phases.door import FrontDoor
from groundwork.phases.etcd_restore import EtcdRestore
from groundwork.phases.etcd_snapshot import EtcdSnapshot
from groundwork.phases.inventory import Inventory
from groundwork.phases.kubernetes import Kubernetes
from groundwork.phases.lab import Lab
from groundwork.phases.membership import Membership
from groundwork.phases.pinned_bundles import PinnedBundles
from groundwork.phases.pki import Pki
from groundwork.phases.release import Release
from groundwork.phases.runner import Pipeline
from groundwork.phases.site import Site
from groundwork.phases.validate_membership import ValidateMembership
from groundwork.phases.verify import Verify

UP = Pipeline(
    "up",
    (
        FrontDoor(claims=True),  # before anything is touched
        ValidateMembership(),
        PinnedBundles(),
        Lab(),
        Pki(),
        Inventory(),
        Release(),  # an upgrade's skew rules, before any node changes
        Membership(),
        Site(),
        Kubernetes(),
        Addons(),
        Verify(),
    ),
)
DESTROY = Pipeline("destroy", (FrontDoor(claims=False), Destroy()))
# Stops at the first failure, like every pipeline: nothing is brought up on
# nodes that were not reset cleanly, and nothing is destroyed for a stack
# the CLI door could not bring up again.
REBUILD = Pipeline("rebuild", (PinnedBundles(), *DESTROY.phases, *UP.phases))
VERIFY = Pipeline("verify", (Verify(),))
ETCD_SNAPSHOT = Pipeline("etcd snapshot", (Inventory(), EtcdSnapshot()))
# The cluster's checks after it: the restored objects are served again.
ETCD_RESTORE = Pipeline("etcd restore", (Inventory(), EtcdRestore(), Verify()))

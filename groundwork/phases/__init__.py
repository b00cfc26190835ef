"""A run as a pipeline of small phases (after k0sctl's phase package).

- base.py: the Phase protocol, its Decision and Outcome, the run's Context
  (the spec and its plan, built once; options; console; what earlier phases
  made) and the errors a phase reports as its own failure;
- runner.py: the one runner (timing, progress, errors, skips, dry-run, JUnit);
- one file per phase: validate_membership, lab, pki, inventory, release,
  membership, site, kubernetes, addons, verify, destroy, etcd_snapshot,
  etcd_restore;
- lists.py: the pipelines each verb runs (UP, DESTROY, REBUILD, VERIFY,
  ETCD_SNAPSHOT, ETCD_RESTORE).

    context = Context(spec, Options(live=False, verify=False))
    result = run(UP, context)   # result.ok; context.summary: the playbook runs
"""

from groundwork.phases.base import Context, Options, Outcome
from groundwork.phases.lists import DESTROY, ETCD_RESTORE, ETCD_SNAPSHOT, REBUILD, UP, VERIFY
from groundwork.phases.runner import PhaseResult, Pipeline, RunResult, Status, run
from groundwork.plan.membership import ScaleRefused

__all__ = [
    "DESTROY",
    "ETCD_RESTORE",
    "ETCD_SNAPSHOT",
    "REBUILD",
    "UP",
    "VERIFY",
    "Context",
    "Options",
    "Outcome",
    "PhaseResult",
    "Pipeline",
    "RunResult",
    "ScaleRefused",
    "Status",
    "run",
]

"""Freeze the controller's heap before Ansible forks a worker for each task.

ansible-playbook forks one worker per task and host. Every object the forked
worker touches, the kernel copies, and Python's garbage collector touches
objects in bulk: in the parent it walks the whole heap (the loaded plugins,
the inventory, the play) over and over, and each walk makes the next forks
copy more. `gc.freeze()` moves every object alive at that moment to a
generation the collector never walks, so neither side revisits them.

Called at each play and task start, in the controller's main process (where
callbacks run), before that task's workers are forked. Objects frozen are
never collected: that is the heap of one playbook run, which ends with the
process. Measured: see BENCHMARKS.md ("controller heap").
"""

from __future__ import annotations

import gc
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: groundwork_gc
type: aggregate
short_description: freeze the controller's heap before each task's workers fork
description:
  - Calls gc.freeze() at every play, task and handler start, so forked workers
    and the main process's garbage collector stop walking long-lived objects.
requirements:
  - enabled in callbacks_enabled (Groundwork's ansible.cfg does it)
"""


class CallbackModule(CallbackBase):  # type: ignore[misc]
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "groundwork_gc"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_play_start(self, play: Any) -> None:
        gc.freeze()

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        gc.freeze()

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        gc.freeze()

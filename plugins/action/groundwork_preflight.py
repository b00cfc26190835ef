"""Pre-flight of one node: one probe on the node, the judgement on the controller.

Runs `groundwork_probe` with the read-only commands of groundwork.preflight,
timing the call so the node's clock can be compared with the controller's,
and fails with every problem of the node in one message. The rules live in
groundwork/preflight.py (pure, unit-tested); this plugin only carries data.
"""

from __future__ import annotations

import time
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from groundwork import preflight


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(
        (
            "address",
            "ssh_user",
            "etcd_member",
            "kernel_modules",
            "kernel_filesystems",
            "snapshot_schedule",
        )
    )

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        try:
            expect = preflight.Expectations(
                address=str(args["address"]),
                ssh_user=str(args.get("ssh_user", "root")),
                etcd_member=boolean(args.get("etcd_member", False), strict=True),
                links=preflight.link_needs(list(args.get("kernel_modules") or [])),
                filesystems=preflight.filesystem_needs(list(args.get("kernel_filesystems") or [])),
                snapshot_schedule=str(args.get("snapshot_schedule") or ""),
            )
        except (KeyError, TypeError) as err:
            raise AnsibleActionFail(f"groundwork_preflight: bad arguments: {err}") from err
        commands = preflight.probe_commands(expect)
        modules = preflight.filesystem_modules(expect.filesystems)
        # groundwork_probe runs its commands in check mode too (each reads, or
        # undoes at once what it made), so `up --dry-run` refuses what `up` would.
        started = time.time()
        probe = self._execute_module(
            module_name="groundwork_probe", module_args={"commands": commands}, task_vars=task_vars
        )
        finished = time.time()
        if probe.get("failed"):
            result.update(failed=True, msg=f"pre-flight probe failed: {probe.get('msg', probe)}")
            return result
        out = {name: str(answer.get("stdout", "")) for name, answer in probe["commands"].items()}
        links = {
            need.kind: _refusal(probe["commands"].get(f"link_{need.kind}") or {})
            for need in expect.links
        }
        answers = preflight.Answers(
            addresses=out["addresses"],
            os_release=out["os_release"],
            kernel=out["kernel"],
            clock=out["clock"],
            disk=out["disk"],
            uid=out["uid"],
            controller_time=(started + finished) / 2,
            round_trip=finished - started,
            links=links,
            filesystems=out.get("filesystems") if modules else None,
            modules={
                module: _refusal(probe["commands"].get(f"module_{module}") or {})
                for module in modules
            },
            schedule_refused=(
                _refusal(probe["commands"]["schedule"]) if "schedule" in probe["commands"] else None
            ),
        )
        found = preflight.problems(expect, answers)
        result["changed"] = False
        result["problems"] = found
        if found:
            result["failed"] = True
            result["msg"] = "not ready: " + "; ".join(found)
        return result


def _refusal(answer: dict[str, Any]) -> str:
    """ "" when the probe command exited 0, else its error output."""
    if answer.get("rc") == 0:
        return ""
    return str(answer.get("stderr") or answer.get("stdout") or f"exit {answer.get('rc')}").strip()

"""Every playbook run uses its own environment and extra vars: ansible-runner's
env/ files, which it would otherwise write on a first run and read back over
every later run's, are neither kept nor written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from groundwork.runner.run import RUNNER_ENV_FILES, RunOptions, run_playbook

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Only this run's extra vars
      ansible.builtin.assert:
        that:
          - stale_var is not defined
          - fresh_var == "fresh"
"""


def test_a_run_ignores_and_removes_env_files_left_by_an_earlier_one(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = state / "runner" / "env"
    env.mkdir(parents=True)
    # What an earlier run from another checkout left behind.
    (env / "envvars").write_text(json.dumps({"PATH": "/gone/.venv/bin"}))
    (env / "extravars").write_text(json.dumps({"stale_var": "from an earlier run"}))
    inventory = tmp_path / "hosts"
    inventory.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK)

    summary = run_playbook(
        state,
        inventory,
        str(playbook),
        RunOptions(host_count=1, extra_vars={"fresh_var": "fresh"}, live=False),
    )

    assert summary.ok, summary
    assert [name for name in RUNNER_ENV_FILES if (env / name).exists()] == []

"""The controller-heap callback (plugins/callback/groundwork_gc.py): it
freezes the heap at each task start, and every way of running the playbooks
loads it."""

from __future__ import annotations

import configparser
import gc
from pathlib import Path

from _local_ansible import load_plugin

from groundwork.runner.run import CALLBACK_PLUGINS_DIR, runner_env

ROOT = Path(__file__).resolve().parents[2]


def load_callback() -> object:
    module = load_plugin("plugins/callback/groundwork_gc.py", "gw_test_groundwork_gc")
    return module.CallbackModule()


def test_task_start_freezes_every_live_object() -> None:
    callback = load_callback()
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        callback.v2_playbook_on_task_start(task=None, is_conditional=False)  # type: ignore[attr-defined]
        assert gc.get_freeze_count() > 1000  # the interpreter's own heap at least
    finally:
        gc.unfreeze()


def test_ansible_cfg_enables_it_and_the_runner_names_its_directory(tmp_path: Path) -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    assert "groundwork_gc" in config["defaults"]["callbacks_enabled"].split(",")
    assert (ROOT / config["defaults"]["callback_plugins"]) == CALLBACK_PLUGINS_DIR
    # ansible-runner's own directory is appended to this variable, which then
    # overrides ansible.cfg: without our directory in it the callback is lost.
    assert runner_env(tmp_path, 5)["ANSIBLE_CALLBACK_PLUGINS"] == str(CALLBACK_PLUGINS_DIR)
    assert (CALLBACK_PLUGINS_DIR / "groundwork_gc.py").is_file()

"""The groundwork_files action plugin (plugins/action): --diff shows what a
changed file becomes, except for secret files, as the template module does."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from _local_ansible import ANSIBLE_PLAYBOOK, load_plugin, playbook_env


def load_action() -> Any:
    return load_plugin("plugins/action/groundwork_files.py", "gw_test_files_action")


@pytest.mark.parametrize(
    ("entry", "secret"),
    [
        ({"mode": "0644"}, False),
        ({"mode": "0640"}, False),
        ({"mode": "0755"}, False),
        ({"mode": "0600"}, True),
        ({"mode": "0400"}, True),
        ({"mode": "0700"}, True),
        ({"mode": "0644", "secret": True}, True),
        ({"mode": "0644", "secret": "yes"}, True),
        ({"mode": "rw-r--r--"}, True),  # not octal: the module refuses it, nothing is shown
        ({"marker": "m"}, False),  # a block: the shared file keeps its own mode
    ],
)
def test_secret_files_are_known_by_mode_or_mark(entry: dict[str, Any], secret: bool) -> None:
    assert load_action().is_secret(entry) is secret


def test_module_records_become_ansible_diffs() -> None:
    record = {
        "path": "/etc/app.conf",
        "before": base64.b64encode(b"a = 1\n").decode(),
        "after": base64.b64encode(b"a = 2\n").decode(),
    }
    assert load_action().ansible_diffs([record]) == [
        {
            "before_header": "/etc/app.conf",
            "after_header": "/etc/app.conf",
            "before": "a = 1\n",
            "after": "a = 2\n",
        }
    ]


def _play(directory: Path) -> list[dict[str, Any]]:
    def entry(name: str, content: str, mode: str, **extra: Any) -> dict[str, Any]:
        return {"dest": str(directory / name), "content": content, "mode": mode, **extra}

    files = [
        entry("public.conf", "public = new\n", "0644"),
        entry("server.key", "KEY-NEW-0600\n", "0600"),
        entry("token.conf", "TOKEN-MARKED-SECRET\n", "0644", secret=True),
    ]
    return [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {"name": "Files", "groundwork_files": {"files": files}},
                {
                    "name": "Files of a no_log task",
                    "groundwork_files": {
                        "files": [entry("hidden.conf", "HIDDEN-BY-NO-LOG\n", "0644")]
                    },
                    "no_log": True,
                },
            ],
        }
    ]


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not installed")
def test_diff_shows_public_files_and_hides_secret_ones(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "public.conf").write_text("public = old\n")
    (files / "server.key").write_text("KEY-OLD-0600\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(_play(files)))
    inventory = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"node": host}}}))
    result = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "--diff", "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env=playbook_env(tmp_path),
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "-public = old" in output and "+public = new" in output, output
    for secret in ("KEY-OLD-0600", "KEY-NEW-0600", "TOKEN-MARKED-SECRET", "HIDDEN-BY-NO-LOG"):
        assert secret not in output, output
    # The secret files were written all the same.
    assert (files / "server.key").read_text() == "KEY-NEW-0600\n"
    assert (files / "hidden.conf").read_text() == "HIDDEN-BY-NO-LOG\n"

"""ansible-lint (production profile) and yamllint pass on the roles and playbooks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[dev]')")
    return exe


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_yamllint() -> None:
    result = _run(
        [_tool("yamllint"), "--strict", "roles", "playbooks", ".ansible-lint", ".yamllint"]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile() -> None:
    result = _run(
        [
            _tool("ansible-lint"),
            "--profile",
            "production",
            "--strict",
            "--nocolor",
            "roles",
            "playbooks",
        ]
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]

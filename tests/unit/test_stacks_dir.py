"""Stacks outside the checkout: --stacks-dir, else ./stacks in the current
folder, else the checkout's stacks/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from groundwork import paths
from groundwork.cli import main
from groundwork.spec.load import stack_names, stack_path


def _own_stacks(tmp_path: Path) -> Path:
    folder = tmp_path / "stacks"
    folder.mkdir()
    text = stack_path("dev").read_text().replace("name: dev", "name: site")
    (folder / "Pulumi.site.yaml").write_text(text)
    return folder


def test_stacks_dir_names_the_folder_and_the_pulumi_program_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUNDWORK_STACKS_DIR", "")  # restored after the test
    folder = _own_stacks(tmp_path)
    assert main(["validate", "--stack", "site", "--stacks-dir", str(folder)]) == 0
    assert paths.stacks_dir() == folder.resolve()  # what a child process inherits
    capsys.readouterr()
    # Only that folder: the checkout's lab is not there, and the error says what is.
    assert main(["validate", "--stack", "lab", "--stacks-dir", str(folder)]) == 1
    assert "site" in "".join(capsys.readouterr())


def test_stacks_in_the_current_folder_come_before_the_checkouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROUNDWORK_STACKS_DIR", raising=False)
    _own_stacks(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert stack_names() == ["site"]
    assert main(["validate", "--stack", "site"]) == 0
    shutil.rmtree(tmp_path / "stacks")
    assert "lab" in stack_names()  # no ./stacks: the checkout's examples

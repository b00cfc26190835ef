"""The example CI workflows in docs/ci/ are workflows, and their commands are real.

Parsed, never run: each file is YAML with the keys GitHub requires, every
`groundwork` command line parses with the current CLI, and every `pulumi`
command names its stack and project directory.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "docs" / "ci"
WORKFLOWS = sorted((CI / "github").glob("*.yml"))
IDS = [p.name for p in WORKFLOWS]


def _load(path: Path) -> dict[Any, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), path
    return doc


def _on(doc: dict[Any, Any]) -> Any:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean true;
    # GitHub reads it as the string. Either spelling is the trigger.
    return doc.get("on", doc.get(True))


def _run_lines(doc: dict[Any, Any]) -> list[str]:
    """Every shell line of every `run` step, continuation lines joined."""
    lines: list[str] = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "")
            lines += script.replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines]


def test_the_three_workflows_exist() -> None:
    assert {"pull-request.yml", "deploy.yml", "nightly-rebuild.yml"} <= set(IDS)


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_is_a_workflow(path: Path) -> None:
    doc = _load(path)
    assert doc.get("name")
    assert _on(doc), "no trigger (`on`)"
    assert isinstance(doc.get("jobs"), dict) and doc["jobs"]
    for name, job in doc["jobs"].items():
        assert job.get("runs-on"), name
        steps = job.get("steps")
        assert isinstance(steps, list) and steps, name
        for step in steps:
            assert ("uses" in step) != ("run" in step), (name, step)
            if "uses" in step:
                # Pinned to a release, never a moving branch.
                assert re.search(r"@v\d+$", step["uses"]), step["uses"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_groundwork_command_lines_parse(path: Path) -> None:
    commands = [line for line in _run_lines(_load(path)) if "bin/groundwork " in line]
    assert commands, "every example runs groundwork"
    for line in commands:
        argv = shlex.split(line.split("bin/groundwork ", 1)[1])
        build_parser().parse_args(argv)


@pytest.mark.parametrize(("name", "verb"), [("pull-request.yml", "preview"), ("deploy.yml", "up")])
def test_pulumi_commands_name_their_stack_and_directory(name: str, verb: str) -> None:
    lines = [line for line in _run_lines(_load(CI / "github" / name)) if line.startswith("pulumi ")]
    assert any(shlex.split(line)[1] == verb for line in lines), (name, verb)
    for line in lines:
        words = shlex.split(line)
        if words[1] in ("preview", "up"):
            assert "--stack" in words and "--cwd" in words, line
            assert words[words.index("--stack") + 1] == "$stack_ref", line
            assert "--non-interactive" in words, line
            if words[1] == "up":
                assert "--yes" in words, line


def test_triggers_and_runners_match_their_purpose() -> None:
    pr = _load(CI / "github" / "pull-request.yml")
    assert "pull_request" in _on(pr)
    assert pr["jobs"]["validate"]["runs-on"] == "ubuntu-latest"  # no secret, no machine
    assert "self-hosted" in pr["jobs"]["preview"]["runs-on"]
    assert "head.repo.full_name == github.repository" in pr["jobs"]["preview"]["if"]

    deploy = _load(CI / "github" / "deploy.yml")
    assert _on(deploy)["push"]["branches"] == ["main"]
    up = deploy["jobs"]["up"]
    assert up["environment"] == "${{ matrix.stack }}"
    assert up["strategy"]["max-parallel"] == 1

    nightly = _load(CI / "github" / "nightly-rebuild.yml")
    assert _on(nightly)["schedule"][0]["cron"]
    rebuild = nightly["jobs"]["rebuild"]
    assert rebuild["concurrency"]["group"] == up["concurrency"]["group"]
    lines = _run_lines(nightly)
    assert any("groundwork rebuild" in line and "--junit" in line for line in lines)
    upload = next(s for s in rebuild["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"


def test_cli_only_stacks_agree_between_preview_and_deploy() -> None:
    pr = _load(CI / "github" / "pull-request.yml")
    deploy = _load(CI / "github" / "deploy.yml")
    assert pr["env"]["CLI_ONLY_STACKS"] == deploy["env"]["CLI_ONLY_STACKS"]
    nightly = _load(CI / "github" / "nightly-rebuild.yml")
    rebuilt = set(nightly["jobs"]["rebuild"]["strategy"]["matrix"]["stack"])
    assert rebuilt <= set(deploy["env"]["CLI_ONLY_STACKS"].split())


def test_stack_list_script_lists_this_repository(tmp_path: Path) -> None:
    """The matrix comes from stacks/: run the listing step's own script here."""
    step = next(
        s
        for s in _load(CI / "github" / "pull-request.yml")["jobs"]["stacks"]["steps"]
        if s.get("id") == "list"
    )
    script = step["run"].split("<<'PY'\n", 1)[1].rsplit("PY", 1)[0]
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"CLI_ONLY_STACKS": "lab dev"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = dict(line.split("=", 1) for line in out.splitlines())
    assert yaml.safe_load(values["all"]) == sorted(
        p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    assert "lab" not in yaml.safe_load(values["pulumi"])


def test_yamllint_strict() -> None:
    exe = shutil.which("yamllint", path=str(Path(sys.executable).parent)) or shutil.which(
        "yamllint"
    )
    if exe is None:
        pytest.fail("yamllint is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [exe, "--strict", "docs/ci"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

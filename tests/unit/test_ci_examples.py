"""The CI examples in docs/ci: they install Groundwork with pip into the
repository that holds the stacks, their path filters name what exists there,
and every part of that repository that changes what a deploy does is in them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "docs" / "ci"
WORKFLOWS = ("deploy.yml", "pull-request.yml")
# What changes a deploy, in the repository that holds the stacks: the stacks,
# their inventories' hand-kept overrides, and the Groundwork release
# requirements.txt pins (the code, templates, roles, playbooks, plugins,
# components, node checks and Pulumi project all ship in its wheel).
DEPLOY_INPUTS = ("stacks", "inventories", "requirements.txt")
# How every job installs Groundwork: the pinned release, never this checkout.
INSTALL = re.compile(r"\.venv/bin/pip install .*-r requirements\.txt")


def in_a_users_repository(path: str) -> bool:
    """The example of a path of the user's repository exists: stacks/ and
    inventories/ as the checkout's own, requirements.txt as docs/ci's."""
    return (ROOT / path).exists() if path != "requirements.txt" else (CI / path).is_file()


def path_filters(name: str) -> list[str]:
    workflow = yaml.safe_load((CI / "github" / name).read_text())
    # YAML reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    event = triggers.get("pull_request") or triggers.get("push")
    return [str(p) for p in event["paths"]]


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_path_filter_names_something_that_exists(name: str) -> None:
    for pattern in path_filters(name):
        base = pattern.removesuffix("/**")
        assert in_a_users_repository(base), f"{name}: {pattern} matches nothing in the repository"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_deploy_input_is_filtered_on(name: str) -> None:
    listed = {p.removesuffix("/**") for p in path_filters(name)}
    assert set(DEPLOY_INPUTS) <= listed, sorted(set(DEPLOY_INPUTS) - listed)


GITLAB = CI / "gitlab" / ".gitlab-ci.yml"


def _gitlab_jobs() -> dict[str, dict[str, object]]:
    document = yaml.safe_load(GITLAB.read_text())
    return {k: v for k, v in document.items() if isinstance(v, dict) and "script" in v}


def _lines(script: object) -> list[str]:
    """A job's script as GitLab runs it: nested lists (YAML anchors) flattened."""
    if isinstance(script, list):
        return [line for item in script for line in _lines(item)]
    return [str(script)]


def test_the_gitlab_example_has_its_jobs_in_declared_stages_and_its_change_filter() -> None:
    document = yaml.safe_load(GITLAB.read_text())
    jobs = _gitlab_jobs()
    assert set(jobs) == {"validate", "preview", "deploy", "rebuild"}
    for name, job in jobs.items():
        assert job["stage"] in document["stages"], name
    changes = {str(p).removesuffix("/**/*") for p in document[".deploy-inputs"]}
    assert changes == set(DEPLOY_INPUTS)
    for path in changes:
        assert in_a_users_repository(path), path


@pytest.mark.parametrize("name", [*WORKFLOWS, "nightly-rebuild.yml"])
def test_every_github_job_installs_the_pinned_groundwork_with_pip(name: str) -> None:
    workflow = yaml.safe_load((CI / "github" / name).read_text())
    for job_name, job in workflow["jobs"].items():
        runs = "\n".join(str(step.get("run", "")) for step in job["steps"])
        if "groundwork" not in runs:
            continue  # the stack list: no Groundwork
        assert INSTALL.search(runs), f"{name} {job_name}: Groundwork not installed with pip"
        assert "-e ." not in runs, f"{name} {job_name}: installs a checkout"


def test_every_gitlab_job_installs_the_pinned_groundwork_with_pip() -> None:
    for name, job in _gitlab_jobs().items():
        lines = _lines(job["script"])
        assert any(INSTALL.search(line) for line in lines), name
        assert not any("-e ." in line for line in lines), name


def test_the_example_pin_names_groundwork_and_one_source() -> None:
    lines = [
        line.strip()
        for line in (CI / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 1 and lines[0].startswith("groundwork @ "), lines


def test_every_groundwork_command_of_the_gitlab_example_parses() -> None:
    import re
    import shlex

    from groundwork.cli import build_parser

    values = {
        "${PULUMI_ORG:+$PULUMI_ORG/}$STACK": "prod",
        '"$STACK"': "prod",
        '"$file"': "stacks/Pulumi.prod.yaml",
        '"reports/rebuild-$STACK.xml"': "reports/rebuild-prod.xml",
    }
    commands = []
    for job in _gitlab_jobs().values():
        for line in _lines(job["script"]):
            commands += re.findall(r"\.venv/bin/groundwork ([^;|\n]*)", line)
    assert len(commands) >= 8
    for command in commands:
        for variable, value in values.items():
            command = command.replace(variable, value)
        assert "$" not in command, command
        build_parser().parse_args(shlex.split(command))  # a usage error exits 64

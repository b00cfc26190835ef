"""The CI examples in docs/ci: their path filters name what exists, and
every part of the repository that changes what a deploy does is in them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ("deploy.yml", "pull-request.yml")
# What changes a deploy: the stacks, the code and its templates, the roles and playbooks and
# their plugins and config, the inventories, the pinned components, the node
# checks that gate it, and the Pulumi project.
DEPLOY_INPUTS = (
    "stacks",
    "groundwork",
    "templates",
    "roles",
    "playbooks",
    "plugins",
    "inventories",
    "components",
    "tests/infra",
    "ansible.cfg",
    "__main__.py",
    "Pulumi.yaml",
    "pyproject.toml",
)


def path_filters(name: str) -> list[str]:
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "github" / name).read_text())
    # YAML reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    event = triggers.get("pull_request") or triggers.get("push")
    return [str(p) for p in event["paths"]]


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_path_filter_names_something_that_exists(name: str) -> None:
    for pattern in path_filters(name):
        base = pattern.removesuffix("/**")
        assert (ROOT / base).exists(), f"{name}: {pattern} matches nothing in the repository"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_deploy_input_is_filtered_on(name: str) -> None:
    listed = {p.removesuffix("/**") for p in path_filters(name)}
    assert set(DEPLOY_INPUTS) <= listed, sorted(set(DEPLOY_INPUTS) - listed)


GITLAB = ROOT / "docs" / "ci" / "gitlab" / ".gitlab-ci.yml"


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
        assert (ROOT / path).exists(), path


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

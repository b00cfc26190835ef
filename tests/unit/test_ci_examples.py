"""The CI examples in docs/ci: their path filters name what exists, and
every part of the repository that changes what a deploy does is in them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ("deploy.yml", "pull-request.yml")
# What changes a deploy: the stacks, the code, the roles and playbooks and
# their plugins and config, the inventories, the pinned components, the node
# checks that gate it, and the Pulumi project.
DEPLOY_INPUTS = (
    "stacks",
    "groundwork",
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

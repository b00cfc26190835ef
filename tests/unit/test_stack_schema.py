"""The stack file's JSON Schema: generated from the model, committed, and true
of every stack in stacks/."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from groundwork.spec.schema import render, stack_file_schema

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "stack.schema.json"
STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def test_the_committed_schema_is_what_the_model_gives() -> None:
    assert COMMITTED.read_text() == render(), (
        "docs/stack.schema.json is stale: run `groundwork schema > docs/stack.schema.json`"
    )


@pytest.mark.parametrize("stack", STACKS, ids=lambda p: p.name)
def test_every_stack_in_the_repository_fits_the_schema(stack: Path) -> None:
    jsonschema.validate(yaml.safe_load(stack.read_text()), stack_file_schema())


def test_an_unknown_field_is_flagged_where_it_is() -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.lab.yaml").read_text())
    document["config"]["groundwork:cluster"]["network"]["podCIDR"] = "10.244.0.0/16"
    errors = list(jsonschema.Draft202012Validator(stack_file_schema()).iter_errors(document))
    assert errors
    assert any(
        list(e.absolute_path) == ["config", "groundwork:cluster", "network"]
        and "podCIDR" in e.message
        for e in errors
    ), [e.message for e in errors]


def test_an_editor_can_check_addresses_and_cidrs() -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.lab.yaml").read_text())
    cluster = document["config"]["groundwork:cluster"]
    cluster["nodes"][0]["address"] = "10.77.0.300"
    cluster["network"]["podCidr"] = "10.244.0.0"
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validator = jsonschema.Draft202012Validator(stack_file_schema(), format_checker=checker)
    flagged = {tuple(e.absolute_path)[2:] for e in validator.iter_errors(document)}
    assert flagged == {("nodes", 0, "address"), ("network", "podCidr")}

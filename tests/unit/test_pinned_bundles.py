"""The CLI door refuses a stack whose addons need an unpinned upstream bundle
before anything is touched, naming the field that chose it."""

from __future__ import annotations

import json

import pytest

from groundwork.phases.base import Context, Options
from groundwork.phases.lists import REBUILD, UP
from groundwork.phases.pinned_bundles import PinnedBundles
from groundwork.spec import load_stack


def test_a_stack_whose_bundles_are_all_pinned_passes() -> None:
    outcome = PinnedBundles().run(Context(load_stack("lab"), Options(live=False)))
    assert outcome.ok, outcome


def test_unpinned_bundles_are_refused_naming_each_field_and_metallb_is_pinned() -> None:
    # prod: calico's operator and Envoy Gateway are known only by URL;
    # MetalLB's objects come from the module components/metallb pins.
    outcome = PinnedBundles().run(Context(load_stack("prod"), Options(live=False)))
    assert not outcome.ok
    assert "nothing was touched" in outcome.message
    lines = outcome.output.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "cluster.network.plugin",
        "cluster.gateway.controller",
    ]
    assert "tigera-operator" in lines[0] and "https://" in lines[0]
    assert "metallb" not in outcome.output


def test_the_pulumi_door_which_applies_addons_itself_skips_the_check() -> None:
    context = Context(load_stack("prod"), Options(live=False, addons=False))
    assert not PinnedBundles().should_run(context).run


def test_it_comes_before_any_phase_that_touches_a_machine() -> None:
    up = [phase.name for phase in UP.phases]
    assert up.index("pinned-bundles") < up.index("lab")
    assert next(phase.name for phase in REBUILD.phases) == "pinned-bundles"


def test_validate_says_which_fields_only_the_pulumi_door_installs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from groundwork.cli import main

    assert main(["validate", "--stack", "prod"]) == 0
    err = capsys.readouterr().err
    assert "note cluster.network.plugin: needs calico-crds" in err
    assert "note cluster.gateway.controller: needs envoy-gateway" in err
    assert main(["validate", "--stack", "prod", "-o", "json"]) == 0
    fields = [
        line.split(":")[0] for line in json.loads(capsys.readouterr().out)["pulumi_door_only"]
    ]
    assert fields == ["cluster.network.plugin", "cluster.gateway.controller"]

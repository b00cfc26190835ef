"""Stack files the unit tests derive from the checked-in ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork.spec import SpecError, parse_cluster
from groundwork.spec.load import stack_path


def declared(stack: str) -> dict[str, Any]:
    """A checked-in stack's cluster, as a fresh dict to change."""
    doc = yaml.safe_load(stack_path(stack).read_text())
    cluster: dict[str, Any] = doc["config"]["groundwork:cluster"]
    return cluster


def problems(cluster: dict[str, Any]) -> list[str]:
    """Every problem validation finds in a cluster it must refuse."""
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    return [str(p) for p in caught.value.problems]


def ipvs_lab(tmp_path: Path) -> Path:
    """The lab stack with kube-proxy in ipvs mode: valid, with a warning."""
    cluster = yaml.safe_load(stack_path("lab").read_text())["config"]["groundwork:cluster"]
    cluster["kubernetes"]["kubeProxy"] = "ipvs"
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": cluster}}))
    return path

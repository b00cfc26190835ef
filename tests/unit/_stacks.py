"""Stack files the unit tests derive from the checked-in ones."""

from __future__ import annotations

from pathlib import Path

import yaml

from groundwork.spec.load import stack_path


def ipvs_lab(tmp_path: Path) -> Path:
    """The lab stack with kube-proxy in ipvs mode: valid, with a warning."""
    cluster = yaml.safe_load(stack_path("lab").read_text())["config"]["groundwork:cluster"]
    cluster["kubernetes"]["kubeProxy"] = "ipvs"
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(yaml.safe_dump({"config": {"groundwork:cluster": cluster}}))
    return path

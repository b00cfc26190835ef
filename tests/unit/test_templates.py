"""templates/: strict rendering, templates that only place values, and no
template that nothing renders."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from groundwork.manifests.templating import TEMPLATES_DIR, render_objects

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(TEMPLATES_DIR.rglob("*.j2"))
# Loops and conditionals over the values, nothing else (templates/README.md).
ALLOWED_STATEMENTS = {"for", "endfor", "if", "elif", "else", "endif"}
ALLOWED_FILTERS = {"json"}


def test_a_missing_value_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError, match="subnet_len"):
        render_objects(
            "addons/flannel/flannel-patches.yaml.j2",
            image="x",
            cni_image="y",
            cni_version="0.3.1",
            pod_mtu=1450,
            pod_cidr="10.244.0.0/16",
            nftables=True,
            backend="vxlan",
        )


def test_every_value_lands_quoted_exactly() -> None:
    (service,) = [
        o
        for o in render_objects(
            "addons/coredns/coredns-patches.yaml.j2", image="registry.example/a: b # not a comment"
        )
        if o["kind"] == "Deployment"
    ]
    image = service["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example/a: b # not a comment"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_a_template_only_places_values(template: Path) -> None:
    text = template.read_text()
    statements = re.findall(r"{%-?\s*(\w+)", text)
    assert set(statements) <= ALLOWED_STATEMENTS, f"{template}: {set(statements)}"
    filters = re.findall(r"\|\s*(\w+)", " ".join(re.findall(r"{{(.*?)}}", text)))
    assert set(filters) <= ALLOWED_FILTERS, f"{template}: filters {set(filters)}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_every_template_is_rendered_by_a_module(template: Path) -> None:
    name = str(template.relative_to(TEMPLATES_DIR))
    sources = " ".join(p.read_text() for p in (ROOT / "groundwork").rglob("*.py"))
    assert f'"{name}"' in sources, f"templates/{name} is rendered by no module"

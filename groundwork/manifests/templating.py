"""The Kubernetes objects Groundwork derives, rendered from templates/.

Python computes the values (the plan, and a small view per addon); a template
under templates/addons/<addon>/ only places them, with loops and conditionals
over those values and nothing else. Upstream objects are never templated:
they come from pinned release files (groundwork.manifests.bundles), and a
template holds only Groundwork's patches to them (groundwork.manifests.patches).

Rendering is strict: an undefined name is an error, not an empty string.
Autoescaping is off (this is YAML, not HTML). A value that is not a fixed
word goes through the `json` filter: JSON is YAML, so any string, number,
list or mapping lands quoted exactly, whatever characters it holds. Every
rendered document is parsed here, and the objects are schema-checked by the
unit tests before either front door uses them.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2
import yaml

from groundwork import yamlio
from groundwork.manifests.common import Obj
from groundwork.paths import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"


def _json(value: Any) -> str:
    if isinstance(value, jinja2.Undefined):
        str(value)  # a StrictUndefined raises, naming the missing value
    return json.dumps(value, ensure_ascii=False)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json
    return env


def render_text(template: str, **values: Any) -> str:
    """One template (a path under templates/) rendered as text."""
    return _environment().get_template(template).render(**values)


def render_objects(template: str, **values: Any) -> list[Obj]:
    """The Kubernetes objects of one multi-document YAML template, in order."""
    text = render_text(template, **values)
    try:
        docs = yamlio.load_all(text)
    except yaml.YAMLError as err:
        raise ValueError(f"templates/{template} rendered invalid YAML: {err}") from err
    objects: list[Obj] = []
    for doc in docs:
        if doc is None:
            continue  # an empty document: a conditional object left out
        if not isinstance(doc, dict):
            raise ValueError(f"templates/{template} rendered a document that is not an object")
        objects.append(doc)
    return objects

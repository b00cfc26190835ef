"""Read a Pulumi stack file and turn its `groundwork:cluster` value into a spec.

This is the only place that reads YAML. The CLI calls `load_stack`; the
Pulumi program passes `pulumi.Config().require_object("cluster")` to
`parse_cluster`. Both get the same validation.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from groundwork import paths
from groundwork.spec import rules
from groundwork.spec.model import ClusterSpec
from groundwork.spec.problems import Problem, SpecError, path_of

CONFIG_KEY = "groundwork:cluster"
_ENDPOINT_TAGS = {"vip", "loadBalancer", "dns"}


class StackFileMissing(Exception):
    """The named stack file does not exist (exit 1, not an invalid declaration)."""


def stack_path(name_or_path: str, stacks_dir: Path | None = None) -> Path:
    """A stack name ("lab") or a path to a stack file."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or "/" in name_or_path:
        return candidate
    return (stacks_dir or paths.STACKS_DIR) / f"Pulumi.{name_or_path}.yaml"


def read_cluster_config(path: Path) -> Any:
    if not path.is_file():
        raise StackFileMissing(f"no stack file at {path}")
    try:
        # libyaml's loader is ~8x faster than pure Python (a 500-node stack:
        # 0.08 s vs 0.6 s); fall back when PyYAML was built without it.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(path.read_text(), Loader=loader)
    except yaml.YAMLError as err:
        raise SpecError([Problem("stack", f"{path} is not valid YAML: {err}")], str(path)) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict) or CONFIG_KEY not in config:
        raise SpecError([Problem("config", f"{path} has no config.{CONFIG_KEY} value")], str(path))
    return config[CONFIG_KEY]


def load_stack(name_or_path: str, stacks_dir: Path | None = None) -> ClusterSpec:
    path = stack_path(name_or_path, stacks_dir)
    return parse_cluster(read_cluster_config(path), source=str(path))


def parse_cluster(value: Any, source: str = "") -> ClusterSpec:
    """Validate a cluster value: every structural, then every cross-field problem."""
    if not isinstance(value, dict):
        raise SpecError([Problem("cluster", "must be a mapping")], source)
    try:
        spec = ClusterSpec.model_validate(value)
    except ValidationError as err:
        raise SpecError(_structural_problems(err), source) from None
    problems = rules.check(spec)
    if problems:
        raise SpecError(problems, source)
    return spec


def _structural_problems(err: ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    for item in err.errors():
        loc = _without_tags(item["loc"])
        path = path_of(loc)
        if item["type"] == "extra_forbidden":
            message = _unknown_key_message(loc)
        elif item["type"] == "missing":
            message = "required"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["type"] in {"enum", "literal_error"}:
                message = f"{item.get('input')!r}: {message[0].lower()}{message[1:]}"
        problems.setdefault(path, Problem(path, message))
    return sorted(problems.values())


def _without_tags(loc: Sequence[str | int]) -> list[str | int]:
    """pydantic puts the tag of a discriminated union into the location
    (controlPlane.endpoint.vip.vip); drop it so the path is the config path.
    By position: the tag and the field after it can have the same name."""
    return [
        part
        for i, part in enumerate(loc)
        if not (i > 0 and loc[i - 1] == "endpoint" and part in _ENDPOINT_TAGS)
    ]


def _unknown_key_message(loc: Sequence[str | int]) -> str:
    key = str(loc[-1])
    allowed = _allowed_keys(loc[:-1])
    by_lower = {a.lower(): a for a in allowed}
    hint = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    suggestion = f"; did you mean {by_lower[hint[0]]!r}?" if hint else ""
    return f"unknown key {key!r}{suggestion}"


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the model accepts at a location (for "did you mean")."""
    model: Any = ClusterSpec
    for part in loc:
        if isinstance(part, int):
            continue
        model = _field_model(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or name for name, f in model.model_fields.items()]
    return []


def _field_model(model: Any, alias: str) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    for name, field in model.model_fields.items():
        if alias in {name, field.alias}:
            return _unwrap(field.annotation, prefer=alias)
    return None


def _unwrap(annotation: Any, prefer: str) -> Any:
    """Find the model class inside list[X], X | None, Annotated[...] unions."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _unwrap(arg, prefer)
        if found is not None:
            return found
    return None

"""Read a Pulumi stack file and turn its `groundwork:cluster` value into a spec.

This is the only place that reads YAML. The CLI calls `load_stack` (a name
or path) or `load_stack_file` (a path, whatever its name); the Pulumi
program passes `pulumi.Config().require_object("cluster")` to
`parse_cluster`. Both get the same validation; a file's problems also
carry their line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from groundwork import paths
from groundwork.spec import rules
from groundwork.spec.model import PATTERN_WORDS, ClusterSpec
from groundwork.spec.problems import Problem, SpecError, path_of

# libyaml's loader where PyYAML has it: a 500-node stack in 0.08 s, not 0.6 s.
from groundwork.yamlio import SafeLoader as _SafeLoader

CONFIG_KEY = "groundwork:cluster"
_ENDPOINT_TAGS = {"vip", "loadBalancer", "dns"}
_MERGE_TAG = "tag:yaml.org,2002:merge"


class StackFileError(Exception):
    """The stack file cannot be read as one (exit 1, not an invalid declaration):
    `hint` says what to do instead."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


class StackFileMissing(StackFileError):
    """The named stack file does not exist."""


def stack_path(name_or_path: str, stacks_dir: Path | None = None) -> Path:
    """A stack name ("lab") or a path to a stack file."""
    candidate = Path(name_or_path)
    if _looks_like_a_path(name_or_path):
        return candidate
    return (stacks_dir or paths.stacks_dir()) / f"Pulumi.{name_or_path}.yaml"


def _looks_like_a_path(name_or_path: str) -> bool:
    return Path(name_or_path).suffix in {".yaml", ".yml"} or "/" in name_or_path


def stack_names(stacks_dir: Path | None = None) -> list[str]:
    """The stacks in stacks/: the NAME of each Pulumi.NAME.yaml, sorted."""
    directory = stacks_dir or paths.stacks_dir()
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in _stacks_in(directory)
    )


def _stacks_in(directory: Path) -> list[Path]:
    return sorted(directory.glob("Pulumi.*.yaml"))


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """ "; did you mean 'prod'?" for the choice nearest to `word` (case aside), or ""."""
    by_lower = {c.lower(): c for c in choices}
    near = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[near[0]]!r}?" if near else ""


def resolve_stack(name_or_path: str, stacks_dir: Path | None = None) -> Path:
    """The file of a stack name (stacks/Pulumi.NAME.yaml) or a path; a missing
    name is named with the stacks there are and the nearest one."""
    path = stack_path(name_or_path, stacks_dir)
    if _looks_like_a_path(name_or_path) or path.exists():
        return path
    names = stack_names(stacks_dir)
    raise StackFileMissing(
        f"no stack named {name_or_path!r} (no file {path}){did_you_mean(name_or_path, names)}",
        f"stacks: {', '.join(names)}; or give a file with --stack-file"
        if names
        else f"no stack files in {path.parent}; give a file with --stack-file",
    )


def load_stack(name_or_path: str, stacks_dir: Path | None = None) -> ClusterSpec:
    return load_stack_file(resolve_stack(name_or_path, stacks_dir))


def load_stack_file(path: Path) -> ClusterSpec:
    """Validate the stack file at `path`: every problem at once, each with its line."""
    document = read_stack_document(path)
    try:
        spec = parse_cluster(document.cluster, source=str(path))
    except SpecError as err:
        problems = [*document.duplicates, *err.problems]
        raise SpecError(sorted(document.with_lines(problems)), str(path)) from None
    if document.duplicates:
        raise SpecError(sorted(document.duplicates), str(path))
    return spec


# --- reading YAML -----------------------------------------------------------


class StackLoader(_SafeLoader):
    """YAML's safe loader that notes every key given twice in one mapping
    (YAML itself keeps the last one silently: a typo'd override passes)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated: list[tuple[yaml.Node, yaml.Node]] = []  # (first, second) key nodes

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        if not _keys_distinct(node):
            self.repeated.extend(repeated_keys(node))
        return super().construct_mapping(node, deep=deep)


def _keys_distinct(node: yaml.MappingNode) -> bool:
    """The common case, cheaply: no key text comes twice (a 500-node stack has
    thousands of mappings, and the loader's speed is the point of libyaml)."""
    texts = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return len(texts) == len(node.value)


def repeated_keys(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """Each scalar key that comes again in the mapping, with its first occurrence.
    A merge (<<) may be overridden: that is what it is for."""
    seen: dict[tuple[str, Any], yaml.Node] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            continue
        first = seen.setdefault((key.tag, key.value), key)
        if first is not key:
            yield first, key


@dataclass(frozen=True)
class StackDocument:
    """A stack file's `groundwork:cluster` value, and the same as YAML nodes
    (where each part is: the lines of the problems)."""

    cluster: Any
    node: yaml.Node
    duplicates: tuple[Problem, ...] = ()

    def line_of(self, config_path: str) -> int | None:
        return line_of(self.node, config_path)

    def with_lines(self, problems: Sequence[Problem]) -> list[Problem]:
        return [
            p if p.line is not None else replace(p, line=self.line_of(p.path)) for p in problems
        ]


def read_stack_document(path: Path) -> StackDocument:
    text = _read_text(path)
    loader = StackLoader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as err:
        raise SpecError([_syntax_problem(path, err)], str(path)) from None
    finally:
        loader.dispose()
    config = document.get("config") if isinstance(document, dict) else None
    if root is None or not isinstance(config, dict) or CONFIG_KEY not in config:
        raise SpecError([Problem("config", f"{path} has no config.{CONFIG_KEY} value")], str(path))
    cluster_node = _child(_child(root, "config"), CONFIG_KEY)
    assert cluster_node is not None  # the constructed document has it
    duplicates = tuple(_duplicate_problem(root, first, second) for first, second in loader.repeated)
    return StackDocument(config[CONFIG_KEY], cluster_node, duplicates)


def _read_text(path: Path) -> str:
    """The file's text; a true message for what is not a stack file."""
    if path.is_dir():
        inside = [str(p) for p in _stacks_in(path)]
        raise StackFileError(
            f"{path} is a directory, not a stack file",
            f"name one of its stack files: {', '.join(inside)}"
            if inside
            else "give the path of a stack file (Pulumi.<stack>.yaml)",
        )
    if not path.exists():
        siblings = [p.name for p in _stacks_in(path.parent)] if path.parent.is_dir() else []
        raise StackFileMissing(
            f"no stack file at {path}{did_you_mean(path.name, siblings)}",
            "check the path given to --stack-file, or name a stack in stacks/ with --stack",
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise StackFileError(f"cannot read the stack: {path}: {err.strerror}") from None
    if b"\0" in data:
        raise StackFileError(
            f"cannot read the stack: {path} is a binary file, not a YAML stack file",
            "check the path given to --stack/--stack-file",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise StackFileError(
            f"cannot read the stack: {path} is not UTF-8 text "
            f"(byte 0x{data[err.start]:02x} on line {line})",
            "save the stack file as UTF-8",
        ) from None


def _syntax_problem(path: Path, err: yaml.YAMLError) -> Problem:
    """A YAML syntax error with the file and line (libyaml names the text "<unicode string>")."""
    mark = getattr(err, "problem_mark", None)
    if not isinstance(err, yaml.MarkedYAMLError) or mark is None:
        return Problem("stack", f"{path} is not valid YAML: {err}")
    context = ""
    if err.context and err.context_mark is not None:
        context = f"; {err.context} from line {err.context_mark.line + 1}"
    return Problem(
        "stack",
        f"{path} is not valid YAML: {err.problem} at column {mark.column + 1}{context}",
        line=mark.line + 1,
    )


def _duplicate_problem(root: yaml.Node, first: yaml.Node, second: yaml.Node) -> Problem:
    where = _path_to(root, second) or [str(second.value)]
    inside_cluster = where[:2] == ["config", CONFIG_KEY]
    path = path_of(where[2:]) if inside_cluster else ".".join(str(p) for p in where)
    one, two = first.start_mark.line + 1, second.start_mark.line + 1
    return Problem(
        path,
        f"given twice, on lines {one} and {two} (YAML would silently keep the last); keep one",
        line=two,
    )


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    found = None
    for key_node, value in node.value:  # the last one, as YAML reads it
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = value
    return found


def _path_to(node: yaml.Node, key: yaml.Node) -> list[str | int] | None:
    """The location of the mapping entry whose key node is `key` (by identity)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if key_node is key:
                return [str(key_node.value)]
            below = _path_to(value, key)
            if below is not None:
                return [str(key_node.value), *below]
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            below = _path_to(item, key)
            if below is not None:
                return [i, *below]
    return None


_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def line_of(cluster: yaml.Node, config_path: str) -> int | None:
    """The line of a config path (cluster.nodes[2].address) in the cluster
    value's YAML: of the deepest part present (a missing key: its parent's)."""
    if not config_path.startswith("cluster"):
        return None
    line = cluster.start_mark.line + 1
    node: yaml.Node | None = cluster
    for key, index in _PATH_PART.findall(config_path.removeprefix("cluster")):
        if isinstance(node, yaml.MappingNode) and key:
            entry = next((k for k, _ in reversed(node.value) if k.value == key), None)
            if entry is None:
                break
            line, node = entry.start_mark.line + 1, _child(node, key)
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


# --- validating the value ---------------------------------------------------


def parse_cluster(value: Any, source: str = "") -> ClusterSpec:
    """Validate a cluster value: every structural problem, and every cross-field
    problem the structurally valid parts show."""
    if not isinstance(value, dict):
        raise SpecError([Problem("cluster", "must be a mapping")], source)
    try:
        spec = ClusterSpec.model_validate(value)
    except ValidationError as err:
        problems = _structural_problems(err) + _rules_on_valid_parts(value, err)
        raise SpecError(sorted(set(problems)), source) from None
    problems = rules.check(spec)
    if problems:
        raise SpecError(problems, source)
    return spec


# Required sections with no default: what stands in for one that failed, so
# the valid parts can still be built. No rule that reads them runs.
_STAND_INS: dict[str, Any] = {
    "name": "invalid",
    "nodes": [{"name": "invalid", "address": "192.0.2.1", "roles": ["worker"]}],
    "controlPlane": {"endpoint": {"dns": "invalid"}},
}
_SECTIONS = frozenset(f.alias or name for name, f in ClusterSpec.model_fields.items())
_NODE_REF = re.compile(r"cluster\.nodes\[(\d+)\]")


@dataclass(frozen=True)
class _Failed:
    """Which parts of a cluster value failed structurally."""

    sections: frozenset[str]
    nodes: frozenset[int]


def _failed_parts(err: ValidationError) -> _Failed:
    sections: set[str] = set()
    nodes: set[int] = set()
    for item in err.errors():
        loc = item["loc"]
        if not loc or loc[0] not in _SECTIONS:
            continue  # an unknown top-level key: left out below anyway
        if loc[0] == "nodes" and len(loc) > 1 and isinstance(loc[1], int):
            nodes.add(loc[1])
        else:
            sections.add(str(loc[0]))
    return _Failed(frozenset(sections), frozenset(nodes))


def _rules_on_valid_parts(value: dict[str, Any], err: ValidationError) -> list[Problem]:
    """The cross-field rules that read only valid parts, run on those parts,
    so one pass reports what a fix of the structure would show next."""
    failed = _failed_parts(err)
    kept = {k: v for k, v in value.items() if k in _SECTIONS and k not in failed.sections}
    kept_nodes: list[int] = []
    if "nodes" in kept:
        kept_nodes = [i for i in range(len(kept["nodes"])) if i not in failed.nodes]
        kept["nodes"] = [kept["nodes"][i] for i in kept_nodes]
    stood_in = {k for k in _STAND_INS if not kept.get(k)}
    try:
        spec = ClusterSpec.model_validate({**kept, **{k: _STAND_INS[k] for k in stood_in}})
    except ValidationError:
        return []  # parts valid alone but not together: the structural problems say why
    valid = _SECTIONS - failed.sections - stood_in
    problems = rules.check_valid_parts(spec, frozenset(valid), every_node_valid=not failed.nodes)
    return [_renumber_nodes(p, kept_nodes) for p in problems] if failed.nodes else problems


def _renumber_nodes(problem: Problem, kept_nodes: list[int]) -> Problem:
    """A rule ran on the valid nodes only: cluster.nodes[i] back to the stack's index."""

    def original(match: re.Match[str]) -> str:
        return f"cluster.nodes[{kept_nodes[int(match.group(1))]}]"

    return Problem(_NODE_REF.sub(original, problem.path), _NODE_REF.sub(original, problem.message))


def _structural_problems(err: ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    for item in err.errors():
        loc = _without_tags(item["loc"])
        path = path_of(loc)
        problems.setdefault(path, Problem(path, _structural_message(item, loc)))
    return sorted(problems.values())


def _structural_message(item: Any, loc: Sequence[str | int]) -> str:
    kind, given = item["type"], item.get("input")
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        return "required"
    if kind == "string_pattern_mismatch":
        pattern = item.get("ctx", {}).get("pattern", "")
        return f"{given!r}: expected {PATTERN_WORDS.get(pattern, 'a different value')}"
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        return _number_for_text_message(given, loc)
    message = str(item["msg"]).removeprefix("Value error, ")
    if kind in {"enum", "literal_error"}:
        message = f"{given!r}: {message[0].lower()}{message[1:]}"
    return message


def _number_for_text_message(given: float, loc: Sequence[str | int]) -> str:
    """`version: 1.36` is the number 1.36 to YAML: say so, and how to write it."""
    field = str(loc[-1]) if loc else ""
    example = _field_default(loc) if field == "version" else None
    quoted = f'"{example}"' if isinstance(example, str) else f'"{given}"'
    what = "quote it with all three numbers" if field == "version" else "quote it"
    return (
        f"got the number {given}: YAML reads an unquoted {given} as a number, not text; "
        f"{what}, e.g. {field or 'value'}: {quoted}"
    )


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
    return f"unknown key {key!r}{did_you_mean(key, _allowed_keys(loc[:-1]))}"


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the model accepts at a location (for "did you mean")."""
    model = _model_at(loc)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _field_default(loc: Sequence[str | int]) -> Any:
    """The default of the field at a location, or None."""
    model = _model_at(loc[:-1])
    for name, field in (model.model_fields if model else {}).items():
        if loc[-1] in {name, field.alias}:
            return field.default
    return None


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    model: Any = ClusterSpec
    for part in loc:
        if isinstance(part, int):
            continue
        model = _field_model(model, part)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


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

"""Reading a stack file: every problem in one pass, each with its path and line,
and a true message for what is not a stack file at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork.spec import SpecError, StackFileError, StackFileMissing, load_stack, parse_cluster
from groundwork.spec.load import load_stack_file, stack_path
from groundwork.spec.model import PATTERN_WORDS, ClusterSpec

CORPUS_BASE = Path(__file__).resolve().parent.parent / "corpus" / "valid" / "corpus-base.yaml"

FOUR_PROBLEMS = """\
config:
  groundwork:cluster:
    name: four
    kubernetes:
      version: 1.36
    nodes:
      - {name: cp1, address: 10.20.0.11, roles: [control-plane, etcd]}
      - {name: cp1, address: 10.20.0.12, roles: [worker]}
    controlPlane:
      endpoint: {dns: api.example.internal}
    network:
      plugin: flannel
      plugin: calico
      podCidr: 10.96.0.0/16
      serviceCidr: 10.96.0.0/12
    artifacts: {source: mirror, mirror: "http://mirror.example/"}
"""


def _write(tmp_path: Path, text: str, name: str = "Pulumi.t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(path: Path) -> list[Any]:
    with pytest.raises(SpecError) as caught:
        load_stack_file(path)
    return caught.value.problems


def test_four_problems_are_reported_at_once_each_with_path_and_line(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, FOUR_PROBLEMS))
    found = {p.path: (p.line, p.message) for p in problems}
    assert set(found) == {
        "cluster.kubernetes.version",  # structural: a number
        "cluster.network.plugin",  # a key given twice
        "cluster.network.podCidr",  # cross-field: overlaps the service CIDR
        "cluster.nodes[1].name",  # cross-field: a duplicate node name
    }
    assert found["cluster.kubernetes.version"][0] == 5
    assert found["cluster.network.plugin"][0] == 13
    assert found["cluster.network.podCidr"] == (
        14,
        "overlaps cluster.network.serviceCidr 10.96.0.0/12",
    )
    assert found["cluster.nodes[1].name"] == (8, "duplicate of cluster.nodes[0].name (cp1)")


def test_rules_run_on_the_valid_nodes_with_the_stack_s_indices(tmp_path: Path) -> None:
    """nodes[1] fails structurally; the duplicate of nodes[0] is still found at nodes[2]."""
    text = FOUR_PROBLEMS.replace(
        "      - {name: cp1, address: 10.20.0.12, roles: [worker]}\n",
        "      - {name: w1, address: 10.20.0.300, roles: [worker]}\n"
        "      - {name: cp1, address: 10.20.0.13, roles: [worker]}\n",
    )
    paths = {p.path: p.message for p in _problems(_write(tmp_path, text))}
    assert "not a valid IP address" in paths["cluster.nodes[1].address"]
    assert paths["cluster.nodes[2].name"] == "duplicate of cluster.nodes[0].name (cp1)"


def test_rules_that_need_every_node_wait_for_them() -> None:
    """With a node left out, an etcd count would be a guess: no quorum problem."""
    cluster = yaml.safe_load(CORPUS_BASE.read_text())["config"]["groundwork:cluster"]
    etcd = [i for i, n in enumerate(cluster["nodes"]) if "etcd" in n["roles"]]
    cluster["nodes"][etcd[0]]["address"] = "not-an-ip"
    cluster["network"]["podCidr"] = "10.96.0.0/16"
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    paths = {p.path for p in caught.value.problems}
    assert f"cluster.nodes[{etcd[0]}].address" in paths
    assert "cluster.network.podCidr" in paths
    assert "cluster.etcd" not in paths and "cluster.nodes" not in paths


def test_rules_reading_a_failed_section_do_not_run() -> None:
    """A network that failed is not judged against the rest (no stand-in's problems)."""
    cluster = yaml.safe_load(CORPUS_BASE.read_text())["config"]["groundwork:cluster"]
    cluster["network"]["nodeMtu"] = "big"
    cluster["nodes"][1]["name"] = cluster["nodes"][0]["name"]
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == ["cluster.network.nodeMtu", "cluster.nodes[1].name"]


def test_a_failed_required_section_leaves_the_other_rules_running() -> None:
    cluster = yaml.safe_load(CORPUS_BASE.read_text())["config"]["groundwork:cluster"]
    del cluster["name"]
    cluster["controlPlane"] = {"endpoint": {}}
    cluster["gateway"] = {"controller": "ingress-nginx"}
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    paths = {p.path for p in caught.value.problems}
    assert {"cluster.name", "cluster.controlPlane.endpoint", "cluster.gateway.controller"} <= paths


def test_a_lab_block_without_a_name_is_reported_not_raised() -> None:
    doc = yaml.safe_load(stack_path("lab").read_text())
    cluster = doc["config"]["groundwork:cluster"]
    del cluster["name"]
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    assert [str(p) for p in caught.value.problems] == ["cluster.name: required"]


def test_a_duplicate_key_names_both_lines_even_in_a_valid_stack(tmp_path: Path) -> None:
    text = stack_path("dev").read_text()
    twice = text.replace(
        "      plugin: flannel\n", "      plugin: flannel\n      plugin: flannel\n"
    )
    lines = twice.splitlines()
    first = lines.index("      plugin: flannel") + 1
    (problem,) = _problems(_write(tmp_path, twice))
    assert problem.path == "cluster.network.plugin"
    assert f"on lines {first} and {first + 1}" in problem.message
    assert problem.line == first + 1


def test_a_duplicate_outside_the_cluster_value_is_named_too(tmp_path: Path) -> None:
    text = (
        stack_path("dev")
        .read_text()
        .replace("config:\n", "config:\n  aws:region: a\n  aws:region: b\n")
    )
    (problem,) = _problems(_write(tmp_path, text))
    assert problem.path == "config.aws:region" and "on lines" in problem.message


def test_a_merge_key_may_be_overridden(tmp_path: Path) -> None:
    text = (
        stack_path("dev")
        .read_text()
        .replace("      nodeMtu: 1500\n", "      <<: {nodeMtu: 1400}\n      nodeMtu: 1500\n")
    )
    assert load_stack_file(_write(tmp_path, text)).network.node_mtu == 1500


def test_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "config:\n  groundwork:cluster:\n    nodes: [a, b\n    name: x\n")
    (problem,) = _problems(path)
    assert str(path) in problem.message and "<unicode string>" not in problem.message
    assert problem.line == 4
    assert "from line 3" in problem.message  # where the unclosed [ began


def test_an_unquoted_version_gets_a_hint_to_quote_it() -> None:
    cluster = yaml.safe_load(CORPUS_BASE.read_text())["config"]["groundwork:cluster"]
    cluster["kubernetes"]["version"] = 1.36  # what `version: 1.36` parses to
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    (problem,) = [p for p in caught.value.problems if p.path == "cluster.kubernetes.version"]
    assert "got the number 1.36" in problem.message
    assert 'quote it with all three numbers, e.g. version: "1.' in problem.message


def _patterns(model: type[Any], seen: set[type[Any]]) -> set[str]:
    """Every regex pattern a field of the model (or a model inside it) declares."""
    from pydantic import BaseModel

    found: set[str] = set()
    if model in seen:
        return found
    seen.add(model)
    for field in model.model_fields.values():
        for meta in field.metadata:
            if getattr(meta, "pattern", None):
                found.add(meta.pattern)
        stack: list[Any] = [field.annotation]
        while stack:
            item = stack.pop()
            if isinstance(item, type) and issubclass(item, BaseModel):
                found |= _patterns(item, seen)
            for meta in getattr(item, "__metadata__", ()):
                if getattr(meta, "pattern", None):
                    found.add(meta.pattern)
            stack.extend(getattr(item, "__args__", ()))
    return found


def test_every_pattern_of_the_model_is_explained_in_words() -> None:
    patterns = _patterns(ClusterSpec, set())
    assert len(patterns) >= 6
    assert patterns <= set(PATTERN_WORDS)


@pytest.mark.parametrize(
    ("section", "field", "value", "words"),
    [
        ("nodes", "name", "Bad_Name", "lowercase letters, digits and '-'"),
        ("kubernetes", "version", "latest", "major.minor.patch"),
        ("artifacts", "mirror", "ftp://x", "http:// or https://"),
    ],
)
def test_no_message_shows_a_raw_regex(section: str, field: str, value: str, words: str) -> None:
    cluster = yaml.safe_load(CORPUS_BASE.read_text())["config"]["groundwork:cluster"]
    target = cluster[section][0] if section == "nodes" else cluster.setdefault(section, {})
    target[field] = value
    with pytest.raises(SpecError) as caught:
        parse_cluster(cluster)
    messages = [p.message for p in caught.value.problems if p.path.endswith(f".{field}")]
    assert messages and words in messages[0], messages
    assert not any(re.search(r"\^|\$|\\d|pattern", p.message) for p in caught.value.problems)


def test_a_stack_file_path_without_extension_is_read_as_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path, stack_path("dev").read_text(), name="devstack")
    assert load_stack_file(path).name == "dev"


def test_a_directory_is_not_a_stack_file(tmp_path: Path) -> None:
    _write(tmp_path, "x", name="Pulumi.site.yaml")
    with pytest.raises(StackFileError) as caught:
        load_stack_file(tmp_path)
    assert caught.value.message == f"{tmp_path} is a directory, not a stack file"
    assert str(tmp_path / "Pulumi.site.yaml") in caught.value.hint


def test_a_binary_file_is_not_a_stack_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.bin.yaml"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    with pytest.raises(StackFileError, match="is a binary file, not a YAML stack file"):
        load_stack_file(path)


def test_a_non_utf8_file_names_the_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.latin1.yaml"
    path.write_bytes(b"config:\n  groundwork:cluster:\n    name: caf\xe9\n")
    with pytest.raises(StackFileError, match=r"not UTF-8 text \(byte 0xe9 on line 3\)"):
        load_stack_file(path)


def test_a_missing_stack_suggests_the_near_one_and_lists_all() -> None:
    with pytest.raises(StackFileMissing) as caught:
        load_stack("Prod")
    assert "no stack named 'Prod'" in caught.value.message
    assert caught.value.message.endswith("did you mean 'prod'?")
    assert caught.value.hint.startswith(
        "stacks: dev, lab, lab-bgp, lab-flannel, lab-hostgw, lab-underlay, prod"
    )


def test_a_missing_stack_far_from_any_has_no_suggestion() -> None:
    with pytest.raises(StackFileMissing) as caught:
        load_stack("zzzzzz")
    assert "did you mean" not in caught.value.message


def test_the_three_stacks_parse_without_problems() -> None:
    for name in ("lab", "dev", "prod"):
        assert load_stack(name).name == name

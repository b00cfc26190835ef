"""Every verb (and subverb) explains itself: a description, help on every
option, and example command lines that still parse.

The verbs come from VERB_MODULES at run time, so a verb added later is held
to the same bar without touching this file.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import pytest

from groundwork.cli import VERB_MODULES, build_parser, main, verb_module


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for name, sub in _subparsers(parser).items():
        yield (*path, name), sub
        yield from _walk(sub, (*path, name))


PARSER = build_parser()
VERBS = list(_walk(PARSER))
IDS = [" ".join(path) for path, _ in VERBS]


def test_every_verb_module_registers_a_verb() -> None:
    top = set(_subparsers(PARSER))
    # A module may register more than one verb (plan.py: validate and plan),
    # but each registers at least the verb it is named after.
    assert set(VERB_MODULES) <= top
    assert len(top) >= len(VERB_MODULES)


@pytest.mark.parametrize("verb", sorted(_subparsers(PARSER)))
def test_a_named_verb_is_parsed_by_its_module_alone(verb: str) -> None:
    """`groundwork VERB ...` imports that verb's module only; its parser is
    the one the whole command has."""
    for argv in ([verb, "--help"], ["-v", "--no-color", verb]):
        module = verb_module(argv)
        assert module is not None, argv
        alone = _subparsers(build_parser(only=module))
        assert verb in alone
        assert alone[verb].format_help() == _subparsers(PARSER)[verb].format_help()
    # Help, the version or a misspelt verb: the whole parser.
    assert verb_module(["--help", verb]) is None
    assert verb_module([verb + "x"]) is None
    assert verb_module(["--verbose"]) is None


@pytest.mark.parametrize(("path", "parser"), VERBS, ids=IDS)
def test_verb_has_a_description(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    assert parser.description and len(parser.description.split()) >= 5, path


@pytest.mark.parametrize(("path", "parser"), VERBS, ids=IDS)
def test_every_option_has_help(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        text = action.help
        assert text and text != argparse.SUPPRESS and len(text.split()) >= 2, (
            path,
            action.option_strings or action.dest,
        )


@pytest.mark.parametrize(("path", "parser"), VERBS, ids=IDS)
def test_help_prints_and_exits_0(
    path: tuple[str, ...], parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: groundwork {' '.join(path)}")


def _examples(epilog: str) -> Iterator[list[str]]:
    """The argv of each `groundwork ...` example line, without pipes, redirections
    and comments."""
    for line in epilog.splitlines():
        line = line.strip()
        if not line.startswith("groundwork "):
            continue
        command = line.split(" | ")[0].split("  #")[0].split(" > ")[0]
        yield shlex.split(command)[1:]


@pytest.mark.parametrize(("path", "parser"), VERBS, ids=IDS)
def test_examples_in_the_epilog_parse(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    """An example that no longer parses is worse than none (parsed, never run)."""
    for argv in _examples(parser.epilog or ""):
        build_parser().parse_args(argv)


@pytest.mark.parametrize(
    "verb",
    [
        "validate",
        "plan",
        "graph",
        "verify",
        "lab",
        "lab up",
        "lab status",
        "lab ssh",
        "lab replace",
        "up",
        "etcd snapshot",
        "etcd restore",
        "destroy",
        "rebuild",
    ],
)
def test_these_verbs_show_examples(verb: str) -> None:
    parser = dict(VERBS)[tuple(verb.split())]
    assert "Example" in (parser.epilog or "") and list(_examples(parser.epilog or "")), verb


def test_example_lines_survive_the_help_formatter(capsys: pytest.CaptureFixture[str]) -> None:
    """Example lines are printed whole (argparse's default would join them)."""
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    out = capsys.readouterr().out
    assert "\n  groundwork plan --stack prod --output json | jq '.nodes[].pod_subnet'\n" in out

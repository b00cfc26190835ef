"""Output that survives pipes and logs, and exit codes a script can trust."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _stacks import ipvs_lab

import groundwork.phases
from groundwork.cli import build_parser, main
from groundwork.cli.common import EXIT_USAGE, wants_no_color
from groundwork.phases import Context
from groundwork.spec.load import stack_path

PROJECT = Path(__file__).resolve().parents[2]
# The installed entry point, as a user runs it.
ENTRY = "import sys; from groundwork.cli import main; sys.exit(main())"


def _groundwork(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, *argv],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


# --- exit codes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["plan", "--stak", "prod"], ["validate", "--output", "xml"], ["nosuchverb"], []],
)
def test_a_usage_error_exits_64_not_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == EXIT_USAGE == 64
    assert "error:" in capsys.readouterr().err


def test_lab_ssh_stack_options_are_usage_errors_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["lab", "ssh", "cp1", "--stak", "lab", "--", "true"])
    assert done.value.code == 64


def _verbs(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[str, argparse.ArgumentParser]]:
    out: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((" ".join((*path, name)), sub))
                out.extend(_verbs(sub, (*path, name)))
    return out


VERBS = _verbs(build_parser())


@pytest.mark.parametrize(("verb", "parser"), VERBS, ids=[verb for verb, _ in VERBS])
def test_every_verb_documents_its_exit_codes(verb: str, parser: argparse.ArgumentParser) -> None:
    epilog = parser.epilog or ""
    assert "Exit code" in epilog and "64 a usage error" in epilog, verb


def test_invalid_stack_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(stack_path("dev").read_text().replace("plugin: flannel", "plugin: weave"))
    assert main(["validate", "--stack-file", str(path)]) == 2


# --- JSON on every failure ----------------------------------------------------


def test_invalid_stack_json_carries_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = stack_path("dev").read_text()
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text.replace("plugin: flannel", "plugin: weave"))
    assert main(["validate", "--stack-file", str(path), "-o", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    line = text.splitlines().index("      plugin: flannel") + 1
    assert doc["error"] == "invalid stack: 1 problem(s)" and doc["valid"] is False
    assert doc["problems"] == [
        {"path": "cluster.network.plugin", "message": doc["problems"][0]["message"], "line": line}
    ]


def test_an_unreadable_stack_file_is_a_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--stack-file", str(tmp_path), "-o", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] == f"{tmp_path} is a directory, not a stack file"
    assert doc["problems"] == []


def test_a_verb_s_own_failure_is_a_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "no-such-component", "-o", "json"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["error"] == "no component no-such-component"
    assert doc["hint"].startswith("choose among kubernetes")
    assert "error no component no-such-component" in err


def test_graph_output_file_named_json_is_not_json_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """graph's --output is a file: `-o json` there must not switch errors to JSON."""
    assert main(["graph", "--stack", "nosuch", "-o", "json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "no stack named 'nosuch'" in err


def test_a_missing_stack_suggests_the_near_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", "Prod"]) == 1
    err = capsys.readouterr().err
    assert (
        "did you mean 'prod'?" in err
        and "stacks: dev, lab, lab-bgp, lab-flannel, lab-hostgw, lab-underlay, prod" in err
    )


def test_stack_file_without_extension_is_a_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "mystack"
    assert main(["validate", "--stack-file", str(missing)]) == 1
    assert f"no stack file at {missing}" in capsys.readouterr().err
    missing.write_text(stack_path("dev").read_text())
    assert main(["validate", "--stack-file", str(missing), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == str(missing)


# --- pipes and logs -----------------------------------------------------------


def test_piped_tables_are_not_cut(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert "kube-controller-manager" in out


def test_piped_warnings_are_not_wrapped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack-file", str(ipvs_lab(tmp_path))]) == 0
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("warning")]
    assert len(line) > 80 and line.endswith("prefer nftables")


def test_a_closed_pipe_is_no_traceback() -> None:
    """`groundwork plan -o json | head -1`, with head gone before the first write."""
    process = _groundwork("plan", "--stack", "lab", "-o", "json")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait() == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


@pytest.mark.parametrize(
    ("argv", "env", "coloured"),
    [
        ([], {}, True),
        (["--no-color"], {}, False),
        ([], {"NO_COLOR": "1"}, False),
    ],
)
def test_no_color_and_NO_COLOR_are_honoured(
    argv: list[str], env: dict[str, str], coloured: bool
) -> None:
    # FORCE_COLOR: colours even into this pipe, as in a CI log that keeps them.
    forced = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": "", **env}
    process = _groundwork("validate", "--stack", "nosuch", *argv, env=forced)
    _, err = process.communicate()
    assert process.returncode == 1
    assert (b"\x1b[" in err) is coloured, err


def test_NO_COLOR_needs_a_value() -> None:
    args = argparse.Namespace()
    assert wants_no_color(args, {"NO_COLOR": "1"})
    assert not wants_no_color(args, {"NO_COLOR": ""})
    assert not wants_no_color(args, {})
    assert wants_no_color(argparse.Namespace(no_color=True), {})


# --- verbosity ----------------------------------------------------------------


class _Stop(Exception):
    """Raised instead of running any phase: the test needs only the context."""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["up", "--stack", "lab", "--dry-run"], 0),
        (["up", "--stack", "lab", "--dry-run", "-vv"], 2),
        (["-v", "up", "--stack", "lab", "--dry-run"], 1),
        (["destroy", "--stack", "lab", "--dry-run", "--verbose"], 1),
        (["rebuild", "--stack", "lab", "--dry-run", "-vvv"], 3),
    ],
)
def test_verbose_reaches_the_runner(
    argv: list[str], expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Context] = []

    def capture(phases: object, context: Context) -> None:
        seen.append(context)
        raise _Stop

    monkeypatch.setattr(groundwork.phases, "run", capture)
    with pytest.raises(_Stop):
        main(argv)
    assert seen[0].run_options().verbosity == expected

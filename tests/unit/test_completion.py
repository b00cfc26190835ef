"""`groundwork completion`: a script the shell accepts, that offers what the
parser accepts, and the stacks of the directory the user is in."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest

from groundwork.cli import build_parser, main
from groundwork.cli.completion import bash_script, commands, zsh_script

PARSER = build_parser()
BASH = bash_script(PARSER)
TOP_VERBS = next(commands(PARSER)).subverbs

# Sources the script and calls the completion function as bash would for the
# words given as arguments (the last one is the word being completed).
CALL = """
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_groundwork
printf '%s\\n' "${COMPREPLY[@]}"
"""


def _candidates(script: Path, *words: str, cwd: Path, shell: str = "bash") -> list[str]:
    done = subprocess.run(
        [shell, "-c", CALL, shell, str(script), "groundwork", *words],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with stacks of its own, and the script beside them."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "groundwork.bash").write_text(BASH)
    return tmp_path


def test_the_script_names_every_verb_and_subverb() -> None:
    def names(parser: argparse.ArgumentParser) -> list[str]:
        found: list[str] = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += [name, *names(sub)]
        return found

    verbs = names(PARSER)
    assert {"up", "lab", "snapshot", "completion", "schema"} <= set(verbs)
    for verb in verbs:
        assert f" {verb} " in BASH.replace("'", " ").replace("\n", " "), verb


def test_bash_accepts_the_script(project: Path) -> None:
    subprocess.run(["bash", "-n", str(project / "groundwork.bash")], check=True)


def test_the_verbs_after_groundwork(project: Path) -> None:
    assert _candidates(project / "groundwork.bash", "", cwd=project) == list(TOP_VERBS)


def test_an_option_by_its_start(project: Path) -> None:
    got = _candidates(project / "groundwork.bash", "up", "--st", cwd=project)
    assert got == ["--stack", "--stack-file", "--stacks-dir"]


def test_subverbs_and_positional_choices(project: Path) -> None:
    script = project / "groundwork.bash"
    assert _candidates(script, "lab", "", cwd=project) == ["up", "replace", "down", "status", "ssh"]
    assert _candidates(script, "completion", "", cwd=project) == ["bash", "zsh"]
    assert _candidates(script, "validate", "-o", "", cwd=project) == ["table", "json"]


def test_stacks_are_read_when_completing_not_when_generating(project: Path) -> None:
    script = project / "groundwork.bash"
    assert _candidates(script, "up", "--stack", "", cwd=project) == []
    # Written after the script was: only a read at completion time sees them.
    for name in ("prod", "lab", "lab-flannel"):
        (project / "stacks" / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    assert set(_candidates(script, "up", "--stack", "", cwd=project)) == {
        "prod",
        "lab",
        "lab-flannel",
    }
    assert _candidates(script, "plan", "-s", "pr", cwd=project) == ["prod"]
    # `--stack=pr`: bash splits the word at "=".
    assert _candidates(script, "plan", "--stack", "=", "pr", cwd=project) == ["prod"]


def test_an_option_value_is_not_taken_for_a_verb(project: Path) -> None:
    # `lab` is the value of --stack here, not the `lab` verb (which has no --dry-run).
    got = _candidates(project / "groundwork.bash", "up", "--stack", "lab", "--dr", cwd=project)
    assert got == ["--dry-run"]


# zsh is one of the host packages the test command installs
# (scripts/host-packages.txt): without it this fails, never skips.
def test_zsh_runs_the_same_function(project: Path) -> None:
    script = project / "groundwork.zsh"
    script.write_text(zsh_script(PARSER))
    subprocess.run(["zsh", "-n", str(script)], check=True)
    (project / "stacks" / "Pulumi.prod.yaml").write_text("config: {}\n")
    zsh_call = "autoload -U compinit && compinit -u -D\n" + CALL
    done = subprocess.run(
        ["zsh", "-f", "-c", zsh_call, "zsh", str(script), "groundwork", "lab", ""],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    # zsh's compgen leaves matching the typed prefix to zsh itself.
    assert done.stdout.split() == ["up", "replace", "down", "status", "ssh"]


def test_the_verb_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    assert capsys.readouterr().out == BASH
    assert main(["completion", "zsh"]) == 0
    assert capsys.readouterr().out == zsh_script(PARSER)

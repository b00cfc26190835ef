"""`groundwork lab ssh`: stack options after NODE stay options; the command follows `--`."""

from __future__ import annotations

import pytest

from groundwork.cli import build_parser
from groundwork.cli.lab import ssh_command


@pytest.mark.parametrize(
    ("argv", "stack_file", "command"),
    [
        (["cp1", "--stack-file", "/tmp/s.yaml", "--", "systemctl", "status", "-l"], "/tmp/s.yaml",
         ["systemctl", "status", "-l"]),
        (["--stack-file", "/tmp/s.yaml", "cp1", "--", "ls", "-la"], "/tmp/s.yaml", ["ls", "-la"]),
        (["cp1"], None, []),
        (["cp1", "--", "echo", "--stack-file"], None, ["echo", "--stack-file"]),
    ],
)  # fmt: skip
def test_options_and_command(argv: list[str], stack_file: str | None, command: list[str]) -> None:
    args, remote = ssh_command(build_parser().parse_args(["lab", "ssh", *argv]))
    assert (args.node, args.stack_file, remote) == ("cp1", stack_file, command)

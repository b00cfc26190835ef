"""`groundwork schema`: the stack file's JSON Schema, for editors."""

from __future__ import annotations

import argparse
import sys

from groundwork.cli.common import Subparsers, add_verb


def _run(_args: argparse.Namespace) -> int:
    from groundwork.spec.schema import render

    sys.stdout.write(render())
    return 0


def register(subparsers: Subparsers) -> None:
    add_verb(
        subparsers,
        "schema",
        summary="print the stack file's JSON Schema (for editors)",
        description=(
            "Print the JSON Schema of a stack file, generated from the model that "
            "validates stacks: completion and inline errors in an editor. The repository "
            "keeps a copy in docs/stack.schema.json (a test fails when it is stale). "
            "The schema cannot say everything: `groundwork validate` stays the judge."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork schema > stack.schema.json\n"
            "  # first line of a stack file, for the YAML language server:\n"
            "  # yaml-language-server: $schema=../docs/stack.schema.json"
        ),
        run=_run,
        stack=False,
    )

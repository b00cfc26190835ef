"""`groundwork schema`: the stack file's JSON Schema, for editors, or its
reference page (--markdown), for people."""

from __future__ import annotations

import argparse
import sys

from groundwork.cli.common import Subparsers, add_verb


def _run(args: argparse.Namespace) -> int:
    if args.markdown:
        from groundwork.spec.reference import render_reference

        sys.stdout.write(render_reference())
        return 0
    from groundwork.spec.schema import render

    sys.stdout.write(render())
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "schema",
        summary="print the stack file's JSON Schema (for editors) or its reference page",
        description=(
            "Print the JSON Schema of a stack file, generated from the model that "
            "validates stacks: completion and inline errors in an editor. The repository "
            "keeps a copy in docs/stack.schema.json (a test fails when it is stale). "
            "The schema cannot say everything: `groundwork validate` stays the judge.\n"
            "With --markdown, print the same schema as a reference page instead: one table "
            "per object of the stack file, each field with its type, its default and what "
            "it holds (the copy in docs/stack-reference.md is held to the same test)."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork schema > stack.schema.json\n"
            "  # first line of a stack file, for the YAML language server:\n"
            "  # yaml-language-server: $schema=../docs/stack.schema.json\n"
            "  groundwork schema --markdown > docs/stack-reference.md"
        ),
        run=_run,
        stack=False,
    )
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="the stack file reference in Markdown instead of the JSON Schema",
    )

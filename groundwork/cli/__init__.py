"""The `groundwork` command: thin verbs on top of groundwork.phases.

Each verb lives in its own module with a `register(subparsers)` function.
Exit codes (common.py): 0 success, 1 failure, 2 invalid stack declaration,
64 usage error, 130 interrupted, 141 output pipe closed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rich.markup import escape

from groundwork.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_INVALID_STACK,
    CommandFailed,
    Parser,
    add_common_options,
    configure_output,
    err_console,
    error_document,
    invalid_document,
    print_json,
    wants_json,
)
from groundwork.plan.membership import ScaleRefused
from groundwork.spec import SpecError, StackFileError

# Verb modules, in the order `--help` lists them. A module that is not
# written yet is simply absent from this tuple.
VERB_MODULES: tuple[str, ...] = (
    "init",
    "plan",
    "graph",
    "schema",
    "completion",
    "build",
    "lab",
    "up",
    "pulumi",
    "kubeconfig",
    "verify",
    "etcd",
    "certs",
    "conformance",
    "cis",
    "destroy",
    "rebuild",
)


# Verbs that a module of another name registers.
VERBS_OF_OTHER_MODULES: dict[str, str] = {"validate": "plan"}


def version_line() -> str:
    """Groundwork's version and the pinned releases it installs by default."""
    from importlib.metadata import PackageNotFoundError, version

    from groundwork.spec.model import Kubernetes

    try:
        own = version("groundwork")
    except PackageNotFoundError:  # run from a checkout that was never installed
        own = "unknown"
    kubernetes = Kubernetes.model_fields["version"].default
    return f"groundwork {own} (Kubernetes {kubernetes} by default; pulumi {version('pulumi')})"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command's parser; with `only`, that verb alone (the others' modules
    are not imported: 0.25 s of every command)."""
    parser = Parser(
        prog="groundwork",
        description=(
            "Declarative Kubernetes clusters on machines you own. One stack file per "
            "environment (stacks/Pulumi.<env>.yaml); the same steps as `pulumi up`."
        ),
        epilog="Exit codes: 0 ok, 1 failure, 2 invalid stack (every error listed with its "
        "path), 64 usage error, 130 interrupted, 141 output pipe closed.",
    )
    add_common_options(parser)
    parser.add_argument("--version", action="version", version=version_line())
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name in VERB_MODULES if only is None else (only,):
        module = importlib.import_module(f"groundwork.cli.{name}")
        module.register(subparsers)
    return parser


def verb_module(argv: Sequence[str]) -> str | None:
    """The module of the verb the command line names, when it names one before
    any help or version flag: the global options before it take no value, so
    the first word that is not an option is the verb. None: the whole parser
    is needed (top-level help, a misspelt verb and its suggestion)."""
    for word in argv:
        if word in ("-h", "--help", "--version"):
            return None
        if not word.startswith("-"):
            return word if word in VERB_MODULES else VERBS_OF_OTHER_MODULES.get(word)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(only=verb_module(words)).parse_args(words)
    configure_output(args)
    try:
        code = run_verb(args)
        # Flushed here, so that a closed pipe shows up here too.
        sys.stdout.flush()
    except BrokenPipeError:
        return quiet_broken_pipe()
    return code


def quiet_broken_pipe() -> int:
    """The reader went away (`groundwork plan -o json | head -1`): no traceback.
    Python flushes stdout again at exit; point it at /dev/null so that fails
    quietly too (the way the Python docs on SIGPIPE advise)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def run_verb(args: argparse.Namespace) -> int:
    """Run the verb; every failure is reported here, once, plain or as JSON."""
    try:
        code: int = args.func(args)
    except SpecError as err:
        return report_invalid_stack(args, err)
    except ScaleRefused as err:
        # Like an invalid stack: every reason, each naming its config path,
        # and nothing was touched.
        for problem in err.problems:
            err_console.print(f"[red]refused[/red] {escape(str(problem))}")
        err_console.print("nothing was changed: no node was contacted")
        if wants_json(args):
            print_json(error_document("refused", "nothing was changed", err.problems))
        return EXIT_INVALID_STACK
    except (StackFileError, CommandFailed) as err:
        return report_failure(args, err.message, err.hint)
    except KeyboardInterrupt:
        return report_failure(args, "interrupted", code=EXIT_INTERRUPTED)
    return code


def report_invalid_stack(args: argparse.Namespace, err: SpecError) -> int:
    if wants_json(args):
        print_json(invalid_document(err))
        return EXIT_INVALID_STACK
    where = f" ({err.source})" if err.source else ""
    err_console.print(f"[red]invalid stack{escape(where)}: {len(err.problems)} problem(s)[/red]")
    for problem in err.problems:
        # One line per problem, starting with its config path, on stdout
        # so scripts can parse it.
        print(problem)
    return EXIT_INVALID_STACK


def report_failure(
    args: argparse.Namespace, message: str, hint: str = "", code: int = EXIT_FAILURE
) -> int:
    """The error and what to do next on stderr; with --output json also as a
    JSON object on stdout (a script reads stdout, and must not read nothing)."""
    # Escaped: a message is text ("cluster.nodes[2]", "[lab]"), not markup.
    err_console.print(f"[red]error[/red] {escape(message)}")
    if hint:
        err_console.print(f"  next: {escape(hint)}")
    if wants_json(args):
        print_json(error_document(message, hint))
    return code


if __name__ == "__main__":
    sys.exit(main())

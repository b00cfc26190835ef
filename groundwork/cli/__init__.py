"""The `groundwork` command: thin verbs on top of groundwork.phases.

Each verb lives in its own module with a `register(subparsers)` function.
Exit codes: 0 success, 1 failure, 2 invalid stack declaration.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from groundwork.cli.common import err_console
from groundwork.plan.membership import ScaleRefused
from groundwork.spec import SpecError, StackFileError

# Verb modules, in the order `--help` lists them. A module that is not
# written yet is simply absent from this tuple.
VERB_MODULES: tuple[str, ...] = (
    "plan",
    "graph",
    "build",
    "lab",
    "up",
    "kubeconfig",
    "verify",
    "conformance",
    "destroy",
    "rebuild",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groundwork",
        description=(
            "Declarative Kubernetes clusters on machines you own. One stack file per "
            "environment (stacks/Pulumi.<env>.yaml); the same steps as `pulumi up`."
        ),
        epilog="Exit codes: 0 ok, 1 failure, 2 invalid stack (every error listed with its path).",
    )
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name in VERB_MODULES:
        module = importlib.import_module(f"groundwork.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except SpecError as err:
        where = f" ({err.source})" if err.source else ""
        err_console.print(f"[red]invalid stack{where}: {len(err.problems)} problem(s)[/red]")
        for problem in err.problems:
            # One line per problem, starting with its config path, on stdout
            # so scripts can parse it.
            print(problem)
        return 2
    except ScaleRefused as err:
        # Like an invalid stack: every reason, each naming its config path,
        # and nothing was touched.
        for problem in err.problems:
            err_console.print(f"[red]refused[/red] {problem}")
        err_console.print("nothing was changed: no node was contacted")
        return 2
    except StackFileError as err:
        err_console.print(f"[red]error[/red] {err.message}")
        if err.hint:
            err_console.print(f"  next: {err.hint}")
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

"""`groundwork build`: build the pinned upstream components from their Go modules."""

from __future__ import annotations

import argparse
from pathlib import Path

from groundwork.build import (
    BY_COMPONENT,
    DEFAULT_RECIPES,
    LAB_RECIPES,
    RECIPES,
    BuildError,
    Built,
    RecipeError,
    build_all,
)
from groundwork.build.tools import link, venv_bin
from groundwork.cli.common import Subparsers, add_verb, fail, print_json, timed_progress
from groundwork.progress import Progress


def register(subparsers: Subparsers) -> None:
    parser = add_verb(
        subparsers,
        "build",
        summary="build Kubernetes, etcd, containerd, runc, CNI, crictl, CoreDNS, the "
        "registry and the Pulumi CLI and plugins from their pinned Go modules",
        description=(
            "Build every component the lab serves from the Go module of the project's own "
            "that pins it (components/<name>/go.mod and go.sum): Go fetches the modules "
            "through the module proxy and checks each against go.sum. The programs land in "
            "the host cache (/var/cache/groundwork/build/<name>-<version>-<key>, the key a "
            "hash of go.mod, go.sum, the recipe and the Go release), with their sha256 in "
            "SHA256SUMS: a second run builds nothing. `lab up` runs the same build. The Pulumi "
            "CLI and its plugins (pulumi, pulumi-kubernetes) are linked into the virtualenv's "
            "bin that runs groundwork (.venv/bin), where an activated venv finds them."
        ),
        epilog=(
            "Examples:\n"
            "  groundwork build                    # every component but kubernetes-1.37\n"
            "  groundwork build kubernetes-1.37    # the release an upgrade goes to\n"
            "  groundwork build kubernetes etcd    # some of them\n"
            "  groundwork build pulumi pulumi-kubernetes  # the Pulumi CLI and provider\n"
            "  groundwork build -o json            # where each one is, with its sha256\n"
            "  groundwork build --mirror-dir /srv/gw --mirror-url http://mirror.internal/gw\n"
            "\nExit codes: 0 built (or found in the cache), 1 a build failed (the error names "
            "the module and Go's own message)."
        ),
        run=run_build,
        stack=False,
        output="component, version and directory",
    )
    parser.add_argument(
        "components",
        nargs="*",
        metavar="COMPONENT",
        help=f"which to build (default: {', '.join(r.component for r in DEFAULT_RECIPES)}; "
        f"on demand: {', '.join(r.component for r in RECIPES if r.on_demand)})",
    )
    parser.add_argument(
        "--mirror-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="also lay out a site's mirror in DIR (with --mirror-url): the apt repository "
        "the roles need, the built release files with their .sha256, and index.json, for "
        "stacks with `artifacts: {source: mirror, mirror: URL}`",
    )
    parser.add_argument(
        "--mirror-url", default=None, metavar="URL", help="where the site serves DIR"
    )


def export_mirror(directory: Path, url: str) -> int:
    """Build what a site's mirror serves and lay it out in `directory`."""
    from groundwork.lab.errors import LabError
    from groundwork.lab.mirror import ensure_content
    from groundwork.lab.site import export_site
    from groundwork.paths import cache_dir

    progress = timed_progress()
    try:
        built = build_all(LAB_RECIPES, progress=progress)
        content = ensure_content(cache_dir(), built, progress)
        index = export_site(directory, url, content)
    except (BuildError, RecipeError, LabError) as err:
        return fail(str(err))
    print(
        f"mirror for {url}: {len(index['artifacts'])} release files and the apt repository "
        f"in {directory}"
    )
    print(
        "images (pause, CoreDNS, agnhost, local-path-provisioner) are not exported: "
        "`groundwork lab up` pushes them to the lab's registry only"
    )
    return 0


def link_tools(built: list[Built], progress: Progress) -> None:
    """Put the controller's programs (the Pulumi CLI and plugins) on the
    project's PATH: its virtualenv's bin, where `pulumi` and the ambient
    plugins it looks up are found once the venv is activated."""
    directory = venv_bin()
    if not built or directory is None:
        return
    for path in link(built, directory):
        progress(f"build: linked {path}")


def run_build(args: argparse.Namespace) -> int:
    if (args.mirror_dir is None) != (args.mirror_url is None):
        return fail("--mirror-dir and --mirror-url go together")
    if args.mirror_dir is not None:
        return export_mirror(args.mirror_dir, args.mirror_url)
    unknown = [c for c in args.components if c not in BY_COMPONENT]
    if unknown:
        return fail(
            f"no component {', '.join(unknown)}",
            f"choose among {', '.join(r.component for r in RECIPES)}",
        )
    recipes = [BY_COMPONENT[c] for c in args.components] or list(DEFAULT_RECIPES)
    progress = timed_progress()
    try:
        built = build_all(recipes, progress=progress)
    except (BuildError, RecipeError) as err:
        return fail(str(err))
    link_tools([b for r in recipes if r.on_path for b in [built[r.component]]], progress)
    if args.output == "json":
        print_json(
            {
                name: {"version": b.version, "directory": str(b.directory), "sha256": b.sha256}
                for name, b in built.items()
            }
        )
    else:
        for name, b in built.items():
            # Plain print: one line per component, never wrapped in a log.
            print(f"{name:<24} {b.version:<10} {b.directory}")
    return 0

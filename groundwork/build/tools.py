"""The Pulumi CLI and its plugins, built like the cluster's components, on PATH.

`groundwork build` builds them into the host cache (components/pulumi and
components/pulumi-kubernetes) and links them into the project's virtualenv
bin, so an activated .venv has `pulumi`, and the CLI finds the Kubernetes
provider there as an ambient plugin. What Groundwork itself starts gets
pulumi_env(): the built directories first on PATH, and nothing fetched at
run time (no plugin download, no update check), so a plugin that was not
built is an error, never a download.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from groundwork.build.recipes import PULUMI_RECIPES
from groundwork.build.run import Built, cached

# What a run must not do behind the user's back: download a plugin the
# program asks for (it is built here, pinned) or ask for a newer CLI.
OFFLINE_ENV: dict[str, str] = {
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_SKIP_UPDATE_CHECK": "true",
}


class ToolsMissing(Exception):
    """The Pulumi CLI or a plugin is not built; the message says how to build it."""


def build_command(components: Iterable[str]) -> str:
    return f"groundwork build {' '.join(components)}"


def bin_dirs(cache: Path | None = None, go: str | None = None) -> tuple[Path, ...]:
    """The cache directories of the pinned Pulumi CLI and plugins, refused
    with the command that builds them when one is not built."""
    found: list[Path] = []
    missing: list[str] = []
    for recipe in PULUMI_RECIPES:
        built = cached(recipe, cache, go)
        if built is None:
            missing.append(recipe.component)
        else:
            found.append(built.directory)
    if missing:
        programs = [name for r in PULUMI_RECIPES if r.component in missing for name in r.outputs]
        raise ToolsMissing(
            f"{', '.join(programs)} not built for the pinned versions (and never downloaded): "
            f"run `{build_command(missing)}`"
        )
    return tuple(found)


def pulumi_env(base: Mapping[str, str], directories: Iterable[Path]) -> dict[str, str]:
    """`base` with the built Pulumi programs first on PATH, and offline."""
    env = dict(base)
    path = [str(d) for d in directories]
    env["PATH"] = os.pathsep.join([*path, base.get("PATH", os.defpath)])
    env.update(OFFLINE_ENV)
    return env


def venv_bin() -> Path | None:
    """The bin directory of the virtualenv running Groundwork, if it runs in one."""
    if sys.prefix == sys.base_prefix:
        return None
    return Path(sys.prefix) / "bin"


def link(built: Iterable[Built], directory: Path) -> list[Path]:
    """Symlink each built program into `directory` (the venv's bin). A link
    into the build cache (an older build's) is replaced; anything else there
    is someone else's and left alone."""
    linked: list[Path] = []
    for component in built:
        cache = component.directory.parent
        for name in sorted(component.sha256):
            target = component.path(name)
            link_path = directory / name
            if link_path.is_symlink():
                current = link_path.readlink()
                if current == target or current.parent.parent != cache:
                    continue
                link_path.unlink()
            elif link_path.exists():
                continue
            link_path.symlink_to(target)
            linked.append(link_path)
    return linked

"""The one build step pyproject.toml cannot declare: ship the files Groundwork
runs but does not import (groundwork.paths.SHIPPED: the roles, playbooks,
plugins, templates, components, node checks and the Pulumi project) inside
the wheel, under groundwork/_share/.

The repository keeps them at its top, where the design puts them; a
Groundwork installed with pip into a user's own repository finds the copy
through groundwork.paths.data_dir(). An editable install copies nothing: it
runs from the checkout, whose files data_dir() finds first.
"""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# paths.py read by file, not imported: importing the package would need its
# dependencies at build time. One list, shared with the code that reads it.
_PATHS = runpy.run_path(str(HERE / "groundwork" / "paths.py"))
SHIPPED: tuple[str, ...] = _PATHS["SHIPPED"]
SHARE_NAME: str = _PATHS["SHARE_NAME"]
# A checkout's bytecode and caches are not part of what it runs.
IGNORED = shutil.ignore_patterns("__pycache__", "*.py[co]", ".pytest_cache")


class BuildPyWithShare(build_py):
    """build_py, then a fresh copy of SHIPPED into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        share = Path(self.build_lib) / "groundwork" / SHARE_NAME
        # A build folder kept from an earlier build would otherwise still ship
        # a file removed from the repository since.
        shutil.rmtree(share, ignore_errors=True)
        for name in SHIPPED:
            source, target = HERE / name, share / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=IGNORED)
            elif name == "Pulumi.yaml":
                target.write_text(installed_project(source.read_text()))
            else:
                shutil.copy2(source, target)


def installed_project(text: str) -> str:
    """Pulumi.yaml for an installed Groundwork: without the checkout's
    `virtualenv: .venv`, which names a folder an install does not have. The
    dynamic-provider launcher then runs PULUMI_PYTHON_CMD, which `groundwork
    pulumi` sets to the Python it runs in."""
    return "".join(line for line in text.splitlines(True) if line.strip() != "virtualenv: .venv")


setup(cmdclass={"build_py": BuildPyWithShare})

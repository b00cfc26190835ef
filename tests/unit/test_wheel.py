"""Groundwork installed with pip, run from a user's own repository: the wheel
ships the roles, playbooks, plugins, templates, components, node checks and
Pulumi project (groundwork/paths.py SHIPPED), and every part of a run finds
them there, not in a checkout.

The wheel is built offline from a copy of the sources (nothing is written in
the checkout) with this environment's setuptools, installed without its
dependencies into a fresh virtualenv that borrows this one's (a .pth line,
after its own site-packages, so its groundwork is the wheel's), and run from
a folder outside the checkout holding only stacks/Pulumi.dev.yaml. Nothing
here contacts a machine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from groundwork import paths
from groundwork.build.recipes import RECIPES, release_version

ROOT = Path(__file__).resolve().parents[2]
# What the build reads besides SHIPPED: the package and its metadata.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "groundwork")
IGNORED = shutil.ignore_patterns("__pycache__", "*.py[co]", ".pytest_cache", ".mypy_cache")


def files_under(path: Path) -> set[str]:
    """The files of a shipped entry, relative to it, without bytecode (pip
    compiles the installed .py files; the checkout has its own caches)."""
    if path.is_file():
        return {path.name}
    return {
        p.relative_to(path).as_posix()
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    share: Path  # where the wheel's SHIPPED files are, in the venv
    repo: Path  # the user's repository: only stacks/
    env: dict[str, str]

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv, cwd=self.repo, env=self.env, capture_output=True, text=True, timeout=120
        )
        if check:
            assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done


def _venv_purelib(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    for name in (*SOURCES, *paths.SHIPPED):
        origin, target = ROOT / name, source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=IGNORED)
        else:
            shutil.copy2(origin, target)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    built = subprocess.run(
        [*pip, "wheel", *offline, str(source), "-w", str(work / "dist")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # An old setuptools (without its own bdist_wheel) cannot build offline:
    # the dev dependencies pin the one this needs (scripts/setup.sh installs it).
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (work / "dist").glob("groundwork-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    purelib = _venv_purelib(python)
    # The dependencies of this environment, after the venv's own packages.
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (purelib / "zz-groundwork-test-deps.pth").write_text("\n".join(ours) + "\n")
    repo = work / "repo"
    (repo / "stacks").mkdir(parents=True)
    shutil.copy2(ROOT / "stacks" / "Pulumi.dev.yaml", repo / "stacks" / "Pulumi.dev.yaml")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GROUNDWORK_STACKS_DIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env |= {
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "GROUNDWORK_STATE_DIR": str(work / "state"),
        "GROUNDWORK_CACHE_DIR": str(work / "cache"),
        "ANSIBLE_HOME": str(work / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible" / "tmp"),
        "NO_COLOR": "1",
    }
    yield Installed(venv, python, purelib / "groundwork" / paths.SHARE_NAME, repo, env)


# Run by the wheel's Python: where each part of a run looks for its files.
PROBE = """
import json, sys
from pathlib import Path
import groundwork
from groundwork import paths
from groundwork.build.recipes import COMPONENTS_DIR, RECIPES, release_version
from groundwork.inventory.fingerprint import CODE_ROOTS
from groundwork.manifests import templating
from groundwork.runner.run import PLAYBOOKS_DIR, runner_env
from groundwork.verify.run import INFRA_DIR
env = runner_env(Path(sys.argv[1]), 5)
print(json.dumps({
    "package": groundwork.__file__,
    "data_dir": str(paths.data_dir()),
    "stacks_dir": str(paths.stacks_dir()),
    "inventories_dir": str(paths.inventories_dir()),
    "ansible_config": env["ANSIBLE_CONFIG"],
    "callback_plugins": env["ANSIBLE_CALLBACK_PLUGINS"],
    "playbooks": str(PLAYBOOKS_DIR),
    "code_roots": [str(p) for p in CODE_ROOTS],
    "components": str(COMPONENTS_DIR),
    "versions": {r.component: release_version(r) for r in RECIPES},
    "infra": str(INFRA_DIR),
    "templates": str(templating.TEMPLATES_DIR),
}))
"""


@pytest.fixture(scope="module")
def probed(installed: Installed) -> dict[str, Any]:
    done = installed.run(str(installed.python), "-c", PROBE, str(installed.venv / "state"))
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_validate_and_plan_run_from_the_users_repository(installed: Installed) -> None:
    groundwork = str(installed.venv / "bin" / "groundwork")
    validated = installed.run(groundwork, "validate", "--stack", "dev")
    assert "valid" in validated.stdout
    planned = json.loads(installed.run(groundwork, "plan", "--stack", "dev", "-o", "json").stdout)
    assert planned["name"] == "dev"
    assert [n["name"] for n in planned["nodes"]] == ["dev-cp1", "dev-w1", "dev-w2"]


def test_init_writes_a_stack_into_an_empty_repository(installed: Installed) -> None:
    """No ./stacks yet and no checkout to fall back on: `init` makes ./stacks
    (with the versions the shipped components pin), then `--stack` reads it."""
    empty = installed.repo.parent / "empty"
    empty.mkdir()
    groundwork = str(installed.venv / "bin" / "groundwork")
    node = ["--node", "cp1=10.20.0.11:cp", "--node", "w1=10.20.0.21"]
    mirror = ["--mirror", "http://mirror.site.internal/groundwork"]
    answers = [*node, "--endpoint-dns", "api.site.internal", *mirror, "--no-scan"]
    inside = dataclasses.replace(installed, repo=empty)
    inside.run(groundwork, "init", "site", *answers)
    assert (empty / "stacks" / "Pulumi.site.yaml").is_file()
    assert "valid" in inside.run(groundwork, "validate", "--stack", "site").stdout


def test_the_wheel_ships_every_file_a_run_reads(installed: Installed) -> None:
    for name in paths.SHIPPED:
        assert files_under(installed.share / name) == files_under(ROOT / name), name
    roles = {p.name for p in (ROOT / "roles").iterdir() if p.is_dir()}
    assert roles and {p.name for p in (installed.share / "roles").iterdir()} >= roles
    # The installed Pulumi project names no virtualenv (an install has no
    # .venv beside it): the dynamic providers run `groundwork pulumi`'s Python.
    project = yaml.safe_load((installed.share / "Pulumi.yaml").read_text())
    assert "virtualenv" not in project["runtime"]["options"]
    assert project["name"] == yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]


def test_every_part_of_a_run_finds_the_installed_files(
    installed: Installed, probed: dict[str, Any]
) -> None:
    share = installed.share
    assert Path(probed["package"]).is_relative_to(installed.venv), "not the wheel's groundwork"
    assert Path(probed["data_dir"]) == share
    # The user's stacks and inventories, never the package's folder.
    assert Path(probed["stacks_dir"]) == installed.repo / "stacks"
    assert Path(probed["inventories_dir"]) == installed.repo / "inventories"
    assert Path(probed["ansible_config"]) == share / "ansible.cfg"
    assert Path(probed["callback_plugins"]) == share / "plugins" / "callback"
    assert Path(probed["playbooks"]) == share / "playbooks"
    assert [Path(p) for p in probed["code_roots"]] == [
        share / "playbooks",
        share / "roles",
        share / "plugins",
    ]
    assert Path(probed["components"]) == share / "components"
    assert probed["versions"] == {r.component: release_version(r) for r in RECIPES}
    assert Path(probed["infra"]) == share / "tests" / "infra"
    assert Path(probed["templates"]) == share / "templates"


def test_ansible_finds_the_roles_modules_and_plugins_of_the_install(
    installed: Installed, probed: dict[str, Any]
) -> None:
    """A syntax check of every playbook with the configuration the runner
    passes: it fails on a role, module or action plugin Ansible cannot find
    (the roles path and the plugin folders are relative to ansible.cfg)."""
    playbooks = sorted(str(p) for p in Path(probed["playbooks"]).glob("*.yml"))
    assert len(playbooks) >= 5
    env = installed.env | {
        "ANSIBLE_CONFIG": probed["ansible_config"],
        "ANSIBLE_CALLBACK_PLUGINS": probed["callback_plugins"],
    }
    ansible_playbook = [str(installed.python), "-m", "ansible", "playbook"]
    checked = subprocess.run(
        [*ansible_playbook, "--syntax-check", "-i", "localhost,", *playbooks],
        cwd=installed.repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-3000:]
    assert checked.stdout.count("playbook: ") == len(playbooks)


def test_verify_collects_the_installed_node_checks(installed: Installed) -> None:
    """verify's pytest, as it starts it, collects the shipped checks (no host
    is contacted by collection)."""
    script = """
import subprocess, sys
from pathlib import Path
from groundwork.paths import data_dir
from groundwork.verify.run import pytest_argv, pytest_env
stack = Path(sys.argv[1])
argv = pytest_argv(stack, Path(sys.argv[2])) + ["--collect-only"]
env = pytest_env(stack, Path(sys.argv[3]))
sys.exit(subprocess.run(argv, env=env, cwd=data_dir()).returncode)
"""
    stack = installed.repo / "stacks" / "Pulumi.dev.yaml"
    done = installed.run(
        str(installed.python),
        "-c",
        script,
        str(stack),
        str(installed.venv / "junit.xml"),
        str(installed.venv / "ssh_config"),
    )
    assert "test_etcd.py::" in done.stdout, done.stdout[-2000:]
    assert re.search(r"\d+(/\d+)? tests collected", done.stdout), done.stdout[-2000:]


def test_the_sdist_carries_what_the_wheel_ships() -> None:
    """MANIFEST.in names SHIPPED, so a wheel built from the sdist (`python -m
    build`) ships the same files."""
    named: set[str] = set()
    for line in (ROOT / "MANIFEST.in").read_text().splitlines():
        words = line.split()
        if words and words[0] in ("graft", "include"):
            named.update(words[1:])
    assert named == set(paths.SHIPPED)


def test_a_checkout_runs_its_own_files() -> None:
    """From the checkout (an editable install, the tests), data_dir() is the
    checkout: an edited role takes effect without a reinstall."""
    assert paths.data_dir() == ROOT
    assert paths.PROJECT_ROOT == ROOT

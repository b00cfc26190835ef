"""Build the components from their pinned Go modules into the host cache.

Each component builds into cache/build/<component>-<version>-<key>/, the
key a hash of its go.mod, go.sum, recipe and Go release: a second run finds
the directory and builds nothing. A build writes into a temporary
directory and renames it into place when every program is built, so an
interrupted build leaves nothing half-done. Go's own module and build
caches (`go env GOMODCACHE GOCACHE`) make a rebuild after a pin change
compile only what changed.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from groundwork.build.recipes import (
    RECIPES,
    ModuleInfo,
    Program,
    Recipe,
    cache_key,
    ldflags,
    release_version,
)
from groundwork.paths import cache_dir
from groundwork.progress import Progress, silent

SUMS = "SHA256SUMS"
# Go at least this release: the newest `go` line among the pinned modules.
MINIMUM_GO = (1, 26)


class BuildError(Exception):
    """A component could not be built; the message names the module and Go's error."""


@dataclass(frozen=True)
class Built:
    """A component's built programs in the cache, with their sha256."""

    component: str
    version: str  # "1.36.3", without the v
    directory: Path
    sha256: dict[str, str]  # program name -> sha256

    def path(self, program: str) -> Path:
        return self.directory / program


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    # The pinned modules' `go` lines are within the installed Go: never let a
    # `toolchain` line download another toolchain behind the user's back.
    env.setdefault("GOTOOLCHAIN", "local")
    env.setdefault("GOFLAGS", "")
    env["GOFLAGS"] = f"{env['GOFLAGS']} -mod=readonly".strip()
    return env


def go_version() -> str:
    """The installed Go release ("go1.26.8"), refused when too old or missing."""
    try:
        out = subprocess.run(
            ["go", "env", "GOVERSION"], capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()
    except FileNotFoundError:
        raise BuildError(
            "Go is not installed: the components are built from their Go modules "
            f"(install Go {'.'.join(map(str, MINIMUM_GO))} or newer)"
        ) from None
    except subprocess.CalledProcessError as err:
        raise BuildError(f"`go env GOVERSION` failed: {err.stderr.strip()}") from None
    digits = out.removeprefix("go").split(".")
    if tuple(int(d) for d in digits[:2] if d.isdigit()) < MINIMUM_GO:
        raise BuildError(
            f"{out} is too old: the pinned modules need go{'.'.join(map(str, MINIMUM_GO))}"
        )
    return out


def _go(recipe: Recipe, argv: Sequence[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        ["go", *argv], cwd=recipe.directory, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise BuildError(
            f"building {recipe.component} ({recipe.module}, components/{recipe.component}): "
            f"go {argv[0]} failed:\n{tail}"
        )
    return result.stdout


def module_info(recipe: Recipe, env: dict[str, str], module: str = "") -> ModuleInfo:
    """The pinned module (downloaded into Go's module cache if needed): the
    recipe's own, or another one its go.mod pins."""
    module = module or recipe.module
    _go(recipe, ["mod", "download", module], env)
    doc = json.loads(_go(recipe, ["list", "-m", "-json", module], env))
    return ModuleInfo(doc["Path"], doc["Version"], doc.get("Time", ""), Path(doc["Dir"]))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_sums(directory: Path) -> dict[str, str]:
    sums = {}
    for line in (directory / SUMS).read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.lstrip("*")] = digest
    return sums


def _destination(recipe: Recipe, cache: Path | None, go: str) -> tuple[str, Path]:
    version = release_version(recipe).removeprefix("v")
    base = (cache or cache_dir()) / "build"
    return version, base / f"{recipe.component}-{version}-{cache_key(recipe, go)}"


def cached(recipe: Recipe, cache: Path | None = None, go: str | None = None) -> Built | None:
    """The component's programs if the cache has this build of them, else None."""
    version, dest = _destination(recipe, cache, go or go_version())
    if (dest / SUMS).exists():
        return Built(recipe.component, version, dest, _read_sums(dest))
    return None


def _generate(
    recipe: Recipe, program: Program, info: ModuleInfo, work: Path, env: dict[str, str]
) -> list[str]:
    """Run upstream's go:generate program for `program` in a scratch
    directory, link the package's Go files beside its outputs there, and
    return those files for `go build`: Go refuses an -overlay of files in the
    module cache, and embeds only files in the package's own directory."""
    spec = program.generate
    assert spec is not None
    scratch = work / f".generate-{program.name}"
    scratch.mkdir()
    generator = scratch / ".generator"
    # A file named on the command line is built whatever its build constraint
    # (upstream's generator is `//go:build ignore`), with the dependencies
    # our go.sum pins.
    _go(
        recipe,
        ["build", "-trimpath", "-o", str(generator), str(info.dir / spec.program)],
        env | {"CGO_ENABLED": "0"},
    )
    package_dir = (info.dir / spec.program).parent
    for name in spec.inputs:
        (scratch / name).symlink_to(package_dir / name)
    result = subprocess.run(
        [str(generator)],
        cwd=scratch,
        env=env | spec.env(info),
        capture_output=True,
        text=True,
        check=False,
    )
    missing = [name for name in spec.outputs if not (scratch / name).is_file()]
    if result.returncode != 0 or missing:
        raise BuildError(
            f"building {recipe.component}: {spec.program} (upstream's go:generate program) "
            f"failed{f', it wrote no {missing[0]}' if missing else ''}:\n"
            + "\n".join(result.stderr.strip().splitlines()[-15:])
        )
    # The package's own Go files, as `go list` selects them (not the generator).
    names = _go(recipe, ["list", "-e", "-f", '{{join .GoFiles "\\n"}}', program.package], env)
    sources = []
    for name in names.split():
        (scratch / name).symlink_to(package_dir / name)
        sources.append(str(scratch / name))
    return sources


def build(
    recipe: Recipe, progress: Progress = silent, cache: Path | None = None, go: str | None = None
) -> Built:
    """The component's programs, built now unless the cache has them."""
    go = go or go_version()
    found = cached(recipe, cache, go)
    if found is not None:
        return found
    version, dest = _destination(recipe, cache, go)
    base = dest.parent
    base.mkdir(parents=True, exist_ok=True)
    # One build of a component at a time on a host: a second `groundwork
    # build` (the test command's background build, another clone's CI) waits
    # for the first and then finds its result in the cache.
    with (base / f".{recipe.component}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = cached(recipe, cache, go)
        if found is not None:
            return found
        return _build_locked(recipe, progress, go, version, dest)


def _build_locked(recipe: Recipe, progress: Progress, go: str, version: str, dest: Path) -> Built:
    base = dest.parent
    env = go_env()
    # The stamps name the release (a module pinned by commit has a pseudo-version).
    info = dataclasses.replace(module_info(recipe, env), version=f"v{version}")
    work = Path(tempfile.mkdtemp(prefix=f".{recipe.component}-", dir=base))
    try:
        # One program per `go build`: -o names the file, and the cgo setting,
        # tags and link flags may differ per program.
        for program in recipe.programs:
            progress(f"build: {recipe.component} {version}: {program.name}")
            sources = [program.package]
            if program.generate is not None:
                sources = _generate(recipe, program, info, work, env)
            argv = [
                *(["test", "-c"] if program.test else ["build"]),
                "-trimpath",
                "-buildvcs=false",
                *(["-tags", ",".join(program.tags)] if program.tags else []),
                "-ldflags",
                ldflags(program, info),
                "-o",
                str(work / program.name),
                *sources,
            ]
            _go(recipe, argv, env | {"CGO_ENABLED": "1" if program.cgo else "0"})
            if program.generate is not None:
                shutil.rmtree(work / f".generate-{program.name}")
        for file in recipe.files:
            source = module_info(recipe, env, file.module).dir / file.path
            shutil.copyfile(source, work / file.name)
            (work / file.name).chmod(0o755)
        sums = {name: sha256_file(work / name) for name in recipe.outputs}
        (work / SUMS).write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())))
        work.chmod(0o755)
        shutil.rmtree(dest, ignore_errors=True)
        work.replace(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Older builds of this component are dropped: the cache holds what the pins name.
    for old in base.glob(f"{recipe.component}-*"):
        if old != dest and _is_build_of(old, recipe):
            shutil.rmtree(old, ignore_errors=True)
    return Built(recipe.component, version, dest, sums)


def _is_build_of(directory: Path, recipe: Recipe) -> bool:
    """cache/build/<component>-<version>-<key>: the component's own, not one
    whose name starts the same (containerd vs containerd-shim...)."""
    rest = directory.name.removeprefix(f"{recipe.component}-")
    parts = rest.split("-")
    return len(parts) == 2 and parts[0][:1].isdigit()


def build_all(
    recipes: Sequence[Recipe] = RECIPES, progress: Progress = silent, cache: Path | None = None
) -> dict[str, Built]:
    """Every component, one after another (each `go build` already uses every core)."""
    go = go_version()
    built: dict[str, Built] = {}
    started = time.monotonic()
    for number, recipe in enumerate(recipes, 1):
        elapsed = time.monotonic() - started
        progress(
            f"build: component {number} of {len(recipes)}: {recipe.component} ({elapsed:.0f} s)"
        )
        built[recipe.component] = build(recipe, progress, cache, go)
    return built

"""The Pulumi CLI and the Kubernetes provider are built like the cluster's
components: pinned at the versions of the Python SDKs pyproject.toml pins,
stamped as upstream's releases, a module pinned by commit named as its
release, and put on PATH offline, a missing one refused with the command
that builds it."""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from pathlib import Path

import pytest

from groundwork.build import BY_COMPONENT, DEFAULT_RECIPES, PULUMI_RECIPES, Built, RecipeError
from groundwork.build.recipes import (
    RELEASES,
    ModuleFile,
    ModuleInfo,
    cache_key,
    ldflags,
    pinned_version,
    release_of,
    release_version,
)
from groundwork.build.run import SUMS, cached
from groundwork.build.tools import OFFLINE_ENV, ToolsMissing, bin_dirs, link, pulumi_env
from groundwork.paths import PROJECT_ROOT


def _pins() -> dict[str, str]:
    """pyproject.toml's dependencies: name -> the version it pins."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    pins = {}
    for dependency in pyproject["project"]["dependencies"]:
        name, version = dependency.split("==")
        pins[name] = version
    return pins


PINS = _pins()
GO = "go1.26.8"


def test_the_cli_and_the_provider_are_the_versions_of_the_pinned_python_sdks() -> None:
    # The engine and the SDK speak one protocol version; the provider and the
    # pulumi_kubernetes SDK one schema: each pair moves together.
    assert release_version(BY_COMPONENT["pulumi"]) == "v" + PINS["pulumi"]
    assert release_version(BY_COMPONENT["pulumi-kubernetes"]) == "v" + PINS["pulumi-kubernetes"]


def test_the_provider_pinned_by_commit_is_named_as_its_release() -> None:
    provider = BY_COMPONENT["pulumi-kubernetes"]
    pinned = pinned_version(provider)
    assert pinned.startswith("v4.0.0-20260115033456-")  # what the proxy serves
    assert RELEASES[(provider.module, pinned)] == "v4.25.0"
    assert release_of("k8s.io/kubernetes", "v1.36.3") == "v1.36.3"
    for pseudo in (
        "v4.0.0-20260115033456-f47bc2d6f199",
        "v4.25.1-0.20260115033456-f47bc2d6f199",
        "v4.26.0-rc.1.0.20260115033456-f47bc2d6f199",
    ):
        with pytest.raises(RecipeError, match=r"pinned by commit .*name the release it is"):
            release_of("example.com/other/v4", pseudo)


INFO = ModuleInfo("github.com/pulumi/pulumi/pkg/v3", "v3.260.0", "2026-10-01T00:00:00Z", Path("/m"))


def test_the_cli_is_stamped_and_built_as_upstreams_release() -> None:
    (cli,) = BY_COMPONENT["pulumi"].programs
    assert cli.package == "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
    assert not cli.cgo and cli.tags == ("osusergo",)
    assert ldflags(cli, INFO) == (
        "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.260.0"
    )


def test_the_cli_ships_the_python_sdks_scripts_from_the_pinned_sdk_module() -> None:
    recipe = BY_COMPONENT["pulumi"]
    assert {f.name for f in recipe.files} == {
        "pulumi-language-python-exec",
        "pulumi-resource-pulumi-python",
    }
    go_mod = (recipe.directory / "go.mod").read_text()
    go_sum = (recipe.directory / "go.sum").read_text()
    for file in recipe.files:
        # The module is pinned (its zip's checksum in go.sum), at the CLI's version.
        assert f"\t{file.module} {pinned_version(recipe)} // indirect" in go_mod
        assert f"{file.module} {pinned_version(recipe)} h1:" in go_sum


def test_the_provider_embeds_the_schema_its_own_generator_writes() -> None:
    (provider,) = BY_COMPONENT["pulumi-kubernetes"].programs
    info = dataclasses.replace(INFO, version="v4.25.0")
    package = "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
    assert ldflags(provider, info) == f"-s -w -X {package}.Version=4.25.0"
    generate = provider.generate
    assert generate is not None
    assert provider.package.endswith("/" + generate.program.rsplit("/", 1)[0])
    assert generate.outputs == ("schema-embed.json", "terraform-mapping-embed.json")
    # Upstream's Makefile passes `pulumictl get version`: no leading v.
    assert generate.env(info) == {"VERSION": "4.25.0"}


def test_pulumi_is_built_on_demand_for_the_controller_not_served_to_the_lab() -> None:
    for recipe in PULUMI_RECIPES:
        assert recipe not in DEFAULT_RECIPES and recipe.on_demand
        assert not recipe.lab and recipe.on_path


def test_the_cache_key_follows_the_generator_and_the_shipped_files() -> None:
    recipe = BY_COMPONENT["pulumi"]
    key = cache_key(recipe, GO)
    more = (*recipe.files, ModuleFile("x", "github.com/pulumi/pulumi/sdk/v3", "x"))
    assert cache_key(dataclasses.replace(recipe, files=more), GO) != key
    provider = BY_COMPONENT["pulumi-kubernetes"]
    (program,) = provider.programs
    unpatched = dataclasses.replace(program, generate=None)
    assert cache_key(dataclasses.replace(provider, programs=(unpatched,)), GO) != cache_key(
        provider, GO
    )


def _fake_build(cache: Path, component: str) -> Built:
    """A cache entry as run.build leaves it: the programs and SHA256SUMS."""
    recipe = BY_COMPONENT[component]
    version = release_version(recipe).removeprefix("v")
    directory = cache / "build" / f"{component}-{version}-{cache_key(recipe, GO)}"
    directory.mkdir(parents=True)
    sums = {}
    for name in recipe.outputs:
        (directory / name).write_text(name)
        sums[name] = hashlib.sha256(name.encode()).hexdigest()
    (directory / SUMS).write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())))
    return Built(component, version, directory, sums)


def test_a_missing_cli_or_plugin_is_refused_with_the_command_that_builds_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(ToolsMissing) as err:
        bin_dirs(tmp_path, GO)
    assert "run `groundwork build pulumi pulumi-kubernetes`" in str(err.value)
    assert "never downloaded" in str(err.value)
    _fake_build(tmp_path, "pulumi")
    with pytest.raises(ToolsMissing, match=r"^pulumi-resource-kubernetes not built .*"):
        bin_dirs(tmp_path, GO)
    provider = _fake_build(tmp_path, "pulumi-kubernetes")
    dirs = bin_dirs(tmp_path, GO)
    assert dirs[1] == provider.directory
    assert cached(BY_COMPONENT["pulumi-kubernetes"], tmp_path, GO) == provider
    env = pulumi_env({"PATH": "/usr/bin", "HOME": "/root"}, dirs)
    assert env["PATH"].split(":") == [str(d) for d in dirs] + ["/usr/bin"]
    assert env["HOME"] == "/root"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert OFFLINE_ENV.items() <= env.items()


def test_the_built_programs_are_linked_into_the_venv_bin(tmp_path: Path) -> None:
    cache, bin_dir = tmp_path / "cache", tmp_path / "bin"
    bin_dir.mkdir()
    cli = _fake_build(cache, "pulumi")
    (bin_dir / "pulumi-language-python-exec").write_text("someone else's")
    linked = link([cli], bin_dir)
    assert sorted(p.name for p in linked) == ["pulumi", "pulumi-resource-pulumi-python"]
    assert (bin_dir / "pulumi").readlink() == cli.path("pulumi")
    assert (bin_dir / "pulumi-language-python-exec").read_text() == "someone else's"
    assert link([cli], bin_dir) == []  # already there
    # A newer build replaces the links to the older one, and only those.
    newer = Built(cli.component, cli.version, cache / "build" / "pulumi-new", cli.sha256)
    (bin_dir / "other").symlink_to(tmp_path / "elsewhere" / "pulumi")
    assert (bin_dir / "pulumi").readlink() != newer.path("pulumi")
    assert len(link([newer], bin_dir)) == 2
    assert (bin_dir / "pulumi").readlink() == newer.path("pulumi")
    assert (bin_dir / "other").readlink() == tmp_path / "elsewhere" / "pulumi"

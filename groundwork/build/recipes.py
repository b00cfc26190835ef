"""What Groundwork builds from upstream Go modules, and how (pure).

Each component is a Go module of the project's own under components/<name>/:
its go.mod requires the upstream module at the pinned version (and lists
the programs as `tool` lines, so `go mod tidy` keeps them), its go.sum
pins every dependency's checksum. No upstream file is copied: `go build`
fetches the modules through the module proxy and checks them against
go.sum. The version of a component is its upstream module's version in
that go.mod; a version bump is `go get MODULE@VERSION` there.

The flags follow upstream's own release builds: -trimpath, static where
upstream's releases are (CGO off, or cgo with -static for runc),
stripped (-s -w), and the version stamped where the program reports it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from groundwork import versions
from groundwork.paths import PROJECT_ROOT

COMPONENTS_DIR = PROJECT_ROOT / "components"

# Bump when the way a component is built changes what ends up in the cache.
RECIPE_VERSION = "1"


@dataclass(frozen=True)
class ModuleInfo:
    """The pinned upstream module of a component, as `go list -m -json` says."""

    path: str
    version: str  # "v1.36.3"
    time: str  # the commit time, RFC 3339: a reproducible build date
    dir: Path  # where the module's files are in the module cache


@dataclass(frozen=True)
class Program:
    """One executable: a Go package built to a file named `name`."""

    name: str
    package: str
    cgo: bool = False
    tags: tuple[str, ...] = ()
    # -X stamps that need the module's version (and commit time).
    stamp: Callable[[ModuleInfo], tuple[str, ...]] = field(default=lambda _: (), compare=False)
    extldflags: str = ""
    # A test binary (`go test -c`): upstream's e2e.test is the e2e package's test.
    test: bool = False


@dataclass(frozen=True)
class Recipe:
    component: str  # components/<component>
    module: str  # the upstream module whose version is the component's
    programs: tuple[Program, ...]
    # Bump when this recipe's flags or stamps change what it builds.
    revision: int = 1
    # The Go module (under components/) that pins it, when not its own.
    module_dir: str = ""
    # Served by the lab (mirror or registry); else built for the tests only.
    lab: bool = True
    # Built only for a stack that declares its version (or when named):
    # a Kubernetes release to upgrade to costs a quarter of an hour to build.
    on_demand: bool = False

    @property
    def directory(self) -> Path:
        return COMPONENTS_DIR / (self.module_dir or self.component)


def _kubernetes_stamp(info: ModuleInfo) -> tuple[str, ...]:
    """What upstream's hack/lib/version.sh stamps, so `kubectl version` and
    /version report the release. The commit is not known from the module
    proxy: gitCommit is stamped empty rather than made up (unstamped, it
    reads "$Format:%H$")."""
    major, minor = info.version.removeprefix("v").split(".")[:2]
    values = {
        "gitVersion": info.version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": info.time,
    }
    return tuple(
        f"-X {package}.{key}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in values.items()
    )


def _containerd_stamp(info: ModuleInfo) -> tuple[str, ...]:
    return (
        f"-X github.com/containerd/containerd/v2/version.Version={info.version}",
        "-X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2",
    )


def _runc_stamp(info: ModuleInfo) -> tuple[str, ...]:
    return (f"-X main.version={info.version.removeprefix('v')}",)


def _cri_tools_stamp(info: ModuleInfo) -> tuple[str, ...]:
    return (f"-X sigs.k8s.io/cri-tools/pkg/version.Version={info.version}",)


def _traefik_stamp(info: ModuleInfo) -> tuple[str, ...]:
    """What upstream's Makefile stamps (its codename is not in the module)."""
    package = "github.com/traefik/traefik/v3/pkg/version"
    return (f"-X {package}.Version={info.version}", f"-X {package}.BuildDate={info.time}")


def _cni_stamp(info: ModuleInfo) -> tuple[str, ...]:
    return (
        f"-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion={info.version}",
    )


# Upstream builds the Kubernetes binaries with these tags and CGO off.
_KUBE_TAGS = ("selinux", "notest", "grpcnotrace")


def _kube(name: str, package: str = "") -> Program:
    return Program(
        name=name,
        package=package or f"k8s.io/kubernetes/cmd/{name}",
        tags=_KUBE_TAGS,
        stamp=_kubernetes_stamp,
    )


_CNI = "github.com/containernetworking/plugins/plugins"
CNI_PLUGINS: tuple[str, ...] = (
    "main/bridge",
    "main/loopback",
    "main/host-device",
    "main/macvlan",
    "main/ptp",
    "ipam/host-local",
    "ipam/static",
    "meta/portmap",
    "meta/bandwidth",
    "meta/firewall",
    "meta/tuning",
)

KUBE_PROGRAMS: tuple[Program, ...] = tuple(_kube(name) for name in versions.KUBE_BINARIES)

RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "kubernetes",
        "k8s.io/kubernetes",
        (
            *KUBE_PROGRAMS,
            # The test image's program, from the same module (groundwork.build.images).
            _kube("agnhost", "k8s.io/kubernetes/test/images/agnhost"),
        ),
        revision=2,
    ),
    # The next minor, the one an upgrade goes to; the lab builds it when a
    # stack declares its version (lab_recipes). agnhost and the conformance
    # suite stay with the release above.
    Recipe("kubernetes-1.37", "k8s.io/kubernetes", KUBE_PROGRAMS, lab=False, on_demand=True),
    # Upstream's conformance suite, from the same pinned kubernetes module: the
    # test command runs a focused set of it, bench/conformance.py all of it.
    Recipe(
        "conformance",
        "k8s.io/kubernetes",
        (
            Program(
                "e2e.test",
                "k8s.io/kubernetes/test/e2e",
                tags=_KUBE_TAGS,
                stamp=_kubernetes_stamp,
                test=True,
            ),
            Program("ginkgo", "github.com/onsi/ginkgo/v2/ginkgo"),
        ),
        module_dir="kubernetes",
        lab=False,
    ),
    Recipe(
        "etcd",
        "go.etcd.io/etcd/server/v3",
        (
            Program("etcd", "go.etcd.io/etcd/server/v3"),
            Program("etcdctl", "go.etcd.io/etcd/etcdctl/v3"),
            Program("etcdutl", "go.etcd.io/etcd/etcdutl/v3"),
        ),
    ),
    Recipe(
        "containerd",
        "github.com/containerd/containerd/v2",
        tuple(
            Program(
                name,
                f"github.com/containerd/containerd/v2/cmd/{name}",
                # btrfs and devmapper snapshotters need cgo and their headers;
                # the lab and the roles use overlayfs.
                tags=("no_btrfs", "no_devmapper"),
                stamp=_containerd_stamp,
            )
            for name in ("containerd", "containerd-shim-runc-v2", "ctr")
        ),
    ),
    Recipe(
        "runc",
        "github.com/opencontainers/runc",
        (
            # As upstream's release: cgo for libseccomp, linked statically.
            Program(
                "runc",
                "github.com/opencontainers/runc",
                cgo=True,
                tags=("seccomp", "urfave_cli_no_docs", "netgo", "osusergo"),
                stamp=_runc_stamp,
                extldflags="-static -pthread",
            ),
        ),
    ),
    Recipe(
        "cni-plugins",
        "github.com/containernetworking/plugins",
        tuple(Program(p.rsplit("/", 1)[1], f"{_CNI}/{p}", stamp=_cni_stamp) for p in CNI_PLUGINS),
    ),
    Recipe(
        "cri-tools",
        "sigs.k8s.io/cri-tools",
        (Program("crictl", "sigs.k8s.io/cri-tools/cmd/crictl", stamp=_cri_tools_stamp),),
    ),
    Recipe(
        "coredns", "github.com/coredns/coredns", (Program("coredns", "github.com/coredns/coredns"),)
    ),
    # The lab's Gateway API controller; its go.sum also pins the Gateway API
    # CRDs the cluster gets (groundwork.manifests.gateway).
    Recipe(
        "traefik",
        "github.com/traefik/traefik/v3",
        (Program("traefik", "github.com/traefik/traefik/v3/cmd/traefik", stamp=_traefik_stamp),),
    ),
    Recipe(
        "local-path-provisioner",
        "github.com/rancher/local-path-provisioner",
        (Program("local-path-provisioner", "github.com/rancher/local-path-provisioner"),),
    ),
)

BY_COMPONENT: dict[str, Recipe] = {r.component: r for r in RECIPES}
# What the lab's mirror and registry serve.
LAB_RECIPES: tuple[Recipe, ...] = tuple(r for r in RECIPES if r.lab)
# What `groundwork build` builds unless told which: everything but the
# releases built on demand.
DEFAULT_RECIPES: tuple[Recipe, ...] = tuple(r for r in RECIPES if not r.on_demand)
# Every recipe of Kubernetes' server and node binaries, one per release.
KUBERNETES_RECIPES: tuple[Recipe, ...] = tuple(
    r for r in RECIPES if r.module == "k8s.io/kubernetes" and KUBE_PROGRAMS[0] in r.programs
)


class RecipeError(Exception):
    """A component's go.mod does not say what the recipe needs."""


_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)", re.MULTILINE)


def required_version(go_mod: str, module: str) -> str:
    """The version a go.mod requires of `module` (pure)."""
    for path, version in _REQUIRE.findall(go_mod):
        if path == module:
            return str(version)
    raise RecipeError(f"go.mod does not require {module}")


def pinned_version(recipe: Recipe) -> str:
    """The component's version: its upstream module's, as its go.mod pins it."""
    go_mod = recipe.directory / "go.mod"
    try:
        text = go_mod.read_text()
    except OSError as err:
        raise RecipeError(f"{go_mod}: {err.strerror}") from None
    try:
        return required_version(text, recipe.module)
    except RecipeError as err:
        raise RecipeError(f"{go_mod}: {err}") from None


def ldflags(program: Program, info: ModuleInfo) -> str:
    flags = ["-s", "-w", *program.stamp(info)]
    if program.extldflags:
        flags.append(f"-extldflags '{program.extldflags}'")
    return " ".join(flags)


def cache_key(recipe: Recipe, go_version: str) -> str:
    """What the built files depend on: the pins, the recipe and the Go release."""
    directory = recipe.directory
    doc = {
        "go.mod": (directory / "go.mod").read_text(),
        "go.sum": (directory / "go.sum").read_text(),
        "programs": [
            [p.name, p.package, p.cgo, list(p.tags), p.extldflags, p.test] for p in recipe.programs
        ],
        "go": go_version,
        "recipe": [RECIPE_VERSION, recipe.revision],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def kubernetes_versions() -> dict[str, Recipe]:
    """The Kubernetes releases that can be built here: version -> recipe."""
    return {pinned_version(r).removeprefix("v"): r for r in KUBERNETES_RECIPES}


def lab_recipes(kubernetes_version: str) -> tuple[Recipe, ...]:
    """What a lab stack at this Kubernetes version builds and serves."""
    wanted = kubernetes_versions().get(kubernetes_version.removeprefix("v"))
    extra = (wanted,) if wanted is not None and wanted not in LAB_RECIPES else ()
    return (*LAB_RECIPES, *extra)

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
from groundwork.paths import data_dir

COMPONENTS_DIR = data_dir() / "components"

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
class Generate:
    """Files a program's package embeds (go:embed) that its module does not
    ship: upstream writes them with a `go:generate` program before its release
    build. That program, a file of the same module, is built and run in a
    scratch directory holding the module files it reads; the package's Go
    files are linked beside its outputs there and built as they are (the
    module cache is read-only, Go refuses an -overlay of it, and nothing of
    upstream's is copied into the repository)."""

    program: str  # the generator's file, relative to the module root
    inputs: tuple[str, ...]  # module files it reads from its working directory
    outputs: tuple[str, ...]  # files it writes there, embedded beside `program`
    # Its environment, from the module (upstream passes the release version).
    env: Callable[[ModuleInfo], dict[str, str]] = field(default=lambda _: {}, compare=False)


@dataclass(frozen=True)
class ModuleFile:
    """A file shipped as it is in a pinned module (a script, not a Go program),
    installed beside the programs under `name`."""

    name: str
    module: str  # a module the component's go.sum pins
    path: str  # relative to that module's root


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
    generate: Generate | None = None


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
    # Files from pinned modules installed beside the programs.
    files: tuple[ModuleFile, ...] = ()
    # Programs run on the controller host (the Pulumi CLI and its plugins):
    # `groundwork build` links them into the project's virtualenv bin.
    on_path: bool = False
    # A network plugin's component: a lab stack whose `network.plugin` is
    # this builds it and serves it (lab_recipes); other labs do not.
    plugin: str = ""

    @property
    def directory(self) -> Path:
        return COMPONENTS_DIR / (self.module_dir or self.component)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of what a build installs: the programs, then the files."""
        return (*(p.name for p in self.programs), *(f.name for f in self.files))


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


def _pulumi_stamp(info: ModuleInfo) -> tuple[str, ...]:
    """What upstream's release build (.goreleaser.yml) stamps: `pulumi version`
    prints it, and the engine checks plugins and SDKs against it."""
    return (f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={info.version}",)


def _pulumi_kubernetes_version(info: ModuleInfo) -> str:
    # Upstream's Makefile stamps `pulumictl get version`: the tag without its v.
    return info.version.removeprefix("v")


def _pulumi_kubernetes_stamp(info: ModuleInfo) -> tuple[str, ...]:
    package = "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
    return (f"-X {package}.Version={_pulumi_kubernetes_version(info)}",)


def _kube_bench_stamp(info: ModuleInfo) -> tuple[str, ...]:
    """What upstream's makefile stamps: `kube-bench version` prints it."""
    return (f"-X github.com/aquasecurity/kube-bench/cmd.KubeBenchVersion={info.version}",)


def _flannel_stamp(info: ModuleInfo) -> tuple[str, ...]:
    return (f"-X github.com/flannel-io/flannel/pkg/version.Version={info.version}",)


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


_PULUMI_SDK = "github.com/pulumi/pulumi/sdk/v3"
_PULUMI_K8S = "github.com/pulumi/pulumi-kubernetes/provider/v4"
_PULUMI_K8S_CMD = "cmd/pulumi-resource-kubernetes"

# Modules the proxy serves only by commit: a nested module (pulumi-kubernetes'
# provider/) whose repository tags name the root (v4.25.0), not the module
# (provider/v4.25.0), gets pseudo-versions only. Each is the release its
# commit was tagged as; the release is the component's version and stamp.
RELEASES: dict[tuple[str, str], str] = {
    # pulumi-kubernetes v4.25.0: the commit crd2pulumi's "Update to
    # pulumi-kubernetes v4.25.0" pins; its schema's resources are those of the
    # 4.25.0 Python SDK on PyPI.
    (_PULUMI_K8S, "v4.0.0-20260115033456-f47bc2d6f199"): "v4.25.0",
}

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
            # The test images' programs, from the same module (groundwork.build.images).
            _kube("agnhost", "k8s.io/kubernetes/test/images/agnhost"),
            _kube("nnp", "k8s.io/kubernetes/test/images/nonewprivs"),
            _kube("sample-apiserver", "k8s.io/sample-apiserver"),
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
    # The Pulumi CLI at the version of the Python SDK (pyproject.toml), with
    # the Python SDK's scripts the CLI runs: the language host's exec helper
    # and the dynamic-provider launcher, shipped in the sdk/v3 module (the
    # PyPI wheel does not ship them). The Python language host itself,
    # pulumi-language-python, is a nested module the proxy does not serve
    # (docs/pulumi.md). CGO off and the osusergo tag, as upstream's release.
    Recipe(
        "pulumi",
        "github.com/pulumi/pulumi/pkg/v3",
        (
            Program(
                "pulumi",
                "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
                tags=("osusergo",),
                stamp=_pulumi_stamp,
            ),
        ),
        lab=False,
        files=(
            ModuleFile(
                "pulumi-language-python-exec", _PULUMI_SDK, "python/cmd/pulumi-language-python-exec"
            ),
            ModuleFile(
                "pulumi-resource-pulumi-python",
                _PULUMI_SDK,
                "python/dist/pulumi-resource-pulumi-python",
            ),
        ),
        on_path=True,
        # Not in a plain `groundwork build`: the cluster does not need it, and
        # the test command builds it in the background, niced, while the lab
        # tests run (scripts/test.sh; with the provider, 9 min 40 s on 2 cores from
        # an empty Go build cache).
        on_demand=True,
    ),
    # The Kubernetes provider the pulumi_kubernetes SDK (pyproject.toml) drives.
    Recipe(
        "pulumi-kubernetes",
        _PULUMI_K8S,
        (
            Program(
                "pulumi-resource-kubernetes",
                f"{_PULUMI_K8S}/{_PULUMI_K8S_CMD}",
                stamp=_pulumi_kubernetes_stamp,
                # main.go's `go:generate go run ./generate.go`, as upstream's
                # Makefile runs it: the schema with the release version set.
                generate=Generate(
                    f"{_PULUMI_K8S_CMD}/generate.go",
                    inputs=("schema.json", "terraform-mapping.json"),
                    outputs=("schema-embed.json", "terraform-mapping-embed.json"),
                    env=lambda info: {"VERSION": _pulumi_kubernetes_version(info)},
                ),
            ),
        ),
        lab=False,
        on_path=True,
        on_demand=True,
    ),
    # The flannel network plugin (stacks with `network.plugin: flannel`):
    # flanneld as upstream's Makefile builds it (cgo, linked statically: its
    # udp backend is C), and its CNI plugin from the last
    # containernetworking/plugins release that carries it.
    Recipe(
        "flannel",
        "github.com/flannel-io/flannel",
        (
            Program(
                "flanneld",
                "github.com/flannel-io/flannel",
                cgo=True,
                tags=("netgo", "osusergo"),
                stamp=_flannel_stamp,
                extldflags="-static",
            ),
            # What the DaemonSet's install-cni step runs (CGO off, as upstream).
            Program("install-conf", "github.com/flannel-io/flannel/cmd/install_conf"),
        ),
        lab=False,
        on_demand=True,
        plugin="flannel",
    ),
    Recipe(
        "flannel-cni",
        "github.com/containernetworking/plugins",
        (Program("flannel", f"{_CNI}/meta/flannel", stamp=_cni_stamp),),
        lab=False,
        on_demand=True,
        plugin="flannel",
    ),
    # MetalLB (stacks with `loadBalancer.provider: metallb`): its two
    # programs as upstream's images carry them (CGO off; the version is in
    # its source). Its go.sum also pins the objects the cluster gets
    # (config/manifests/metallb-native.yaml, groundwork.manifests.bundles).
    # Built for a site's mirror when named: the lab declares no load balancer.
    Recipe(
        "metallb",
        "go.universe.tf/metallb",
        tuple(
            Program(name, f"go.universe.tf/metallb/{name}") for name in ("controller", "speaker")
        ),
        lab=False,
        on_demand=True,
    ),
    # kube-bench, the CIS Kubernetes Benchmark's runner (`groundwork cis`),
    # CGO off as upstream's makefile builds it. Its benchmark definitions
    # (cfg/) are read from the same pinned module (groundwork.cis.source).
    # Built when named: the cluster does not need it, and the test command
    # builds it in the background, niced, for tests/lab/test_cis.py.
    Recipe(
        "kube-bench",
        "github.com/aquasecurity/kube-bench",
        (Program("kube-bench", "github.com/aquasecurity/kube-bench", stamp=_kube_bench_stamp),),
        lab=False,
        on_demand=True,
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
# The Pulumi CLI and the plugins a Groundwork program loads.
PULUMI_RECIPES: tuple[Recipe, ...] = (BY_COMPONENT["pulumi"], BY_COMPONENT["pulumi-kubernetes"])
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


def release_of(module: str, pinned: str) -> str:
    """The release a pinned version is: itself, or for a commit the release
    RELEASES names (pure)."""
    release = RELEASES.get((module, pinned))
    if release is not None:
        return release
    if _PSEUDO.search(pinned):
        raise RecipeError(
            f"{module} is pinned by commit ({pinned}): name the release it is in "
            "groundwork/build/recipes.py RELEASES"
        )
    return pinned


def release_version(recipe: Recipe) -> str:
    """The component's version ("v4.25.0"): the pinned one, or for a module
    pinned by commit the release that commit is (RELEASES)."""
    try:
        return release_of(recipe.module, pinned_version(recipe))
    except RecipeError as err:
        raise RecipeError(f"{recipe.directory / 'go.mod'}: {err}") from None


# A pseudo-version ends in a commit time and hash: v4.0.0-20260115033456-f47bc2d6f199.
_PSEUDO = re.compile(r"[-.]\d{14}-[0-9a-f]{12}$")


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
            [p.name, p.package, p.cgo, list(p.tags), p.extldflags, p.test]
            # Only where set, so the components built before these existed
            # keep their keys (a changed key rebuilds and drops the old build).
            + ([_generate_doc(p.generate)] if p.generate else [])
            for p in recipe.programs
        ],
        "go": go_version,
        "recipe": [RECIPE_VERSION, recipe.revision],
    }
    if recipe.files:
        doc["files"] = [[f.name, f.module, f.path] for f in recipe.files]
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _generate_doc(g: Generate) -> list[object]:
    return [g.program, list(g.inputs), list(g.outputs)]


def kubernetes_versions() -> dict[str, Recipe]:
    """The Kubernetes releases that can be built here: version -> recipe."""
    return {pinned_version(r).removeprefix("v"): r for r in KUBERNETES_RECIPES}


def lab_recipes(kubernetes_version: str, network_plugin: str) -> tuple[Recipe, ...]:
    """What a lab stack at this Kubernetes version, with this network plugin,
    builds and serves."""
    wanted = kubernetes_versions().get(kubernetes_version.removeprefix("v"))
    extra = (wanted,) if wanted is not None and wanted not in LAB_RECIPES else ()
    plugin = tuple(r for r in RECIPES if r.plugin and r.plugin == network_plugin)
    return (*LAB_RECIPES, *extra, *plugin)

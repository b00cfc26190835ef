"""groundwork/build: the recipes read their versions from the committed go.mod
files, the lab stack and the version table name exactly what is built, and
the release files and images are laid out like upstream's and reproducible."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from groundwork import versions
from groundwork.build import (
    BY_COMPONENT,
    DEFAULT_RECIPES,
    KUBERNETES_RECIPES,
    LAB_RECIPES,
    RECIPES,
    Built,
    Recipe,
    RecipeError,
    images,
    kubernetes_versions,
    lab_recipes,
)
from groundwork.build.images import (
    Image,
    Layer,
    assemble,
    glibc_dns_testing_tag,
    layer,
    makefile_tag,
    nginx_tags,
)
from groundwork.build.manifests import bundle_objects
from groundwork.build.recipes import (
    COMPONENTS_DIR,
    ModuleInfo,
    cache_key,
    ldflags,
    pinned_version,
    required_version,
)
from groundwork.build.run import BuildError
from groundwork.lab import mirror
from groundwork.lab.errors import LabError
from groundwork.manifests import versions as addon_versions
from groundwork.manifests.gateway import bundles as gateway_bundles
from groundwork.spec import load_stack

GO_MOD = """module groundwork.local/components/x

go 1.26.0

require k8s.io/kubernetes v1.36.3

require (
\tgithub.com/a/b v1.2.3 // indirect
\tgo.etcd.io/etcd/server/v3 v3.6.17
)

replace k8s.io/api => k8s.io/api v0.36.3
"""


def test_required_version_reads_single_and_block_requires() -> None:
    assert required_version(GO_MOD, "k8s.io/kubernetes") == "v1.36.3"
    assert required_version(GO_MOD, "go.etcd.io/etcd/server/v3") == "v3.6.17"
    assert required_version(GO_MOD, "github.com/a/b") == "v1.2.3"
    with pytest.raises(RecipeError, match=r"does not require k8s\.io/api"):
        required_version(GO_MOD, "k8s.io/api")  # a replace is not a requirement


def test_every_recipe_has_its_module_pinned_with_a_go_sum() -> None:
    assert {r.directory.name for r in RECIPES} == {p.name for p in COMPONENTS_DIR.iterdir()}
    for recipe in RECIPES:
        assert pinned_version(recipe).startswith("v")
        go_mod = (recipe.directory / "go.mod").read_text()
        tools = {
            line.split()[-1]
            for line in go_mod.splitlines()
            if line.startswith(("tool ", "\t")) and "." in line and len(line.split()) in (1, 2)
        }
        # Each program is a tool of the module, so `go mod tidy` keeps it; a
        # test binary's package is imported by a tools-tagged file instead.
        for program in recipe.programs:
            if program.test:
                imports = "".join(p.read_text() for p in recipe.directory.glob("*.go"))
                assert f'_ "{program.package}/' in imports, (recipe.component, program.package)
            else:
                assert program.package in tools, (recipe.component, program.package)
        assert (recipe.directory / "go.sum").stat().st_size > 0


@pytest.mark.parametrize("recipe", KUBERNETES_RECIPES, ids=lambda r: r.component)
def test_the_kubernetes_staging_modules_are_pinned_to_the_matching_release(recipe: Recipe) -> None:
    go_mod = (recipe.directory / "go.mod").read_text()
    kube = pinned_version(recipe)  # v1.36.3
    staging = "v0." + kube.removeprefix("v1.")
    replaces = [line.split() for line in go_mod.splitlines() if "=> k8s.io/" in line]
    assert len(replaces) >= 30
    assert all(parts[0] == parts[2] and parts[3] == staging for parts in replaces)


def test_a_lab_builds_the_kubernetes_release_its_stack_declares_and_no_other() -> None:
    releases = kubernetes_versions()
    assert sorted(releases) == ["1.36.3", "1.37.2"]
    assert lab_recipes("1.36.3", "bridge") == LAB_RECIPES
    upgraded = lab_recipes("v1.37.2", "bridge")
    # The upgrade's release beside everything else (agnhost comes from 1.36).
    assert upgraded == (*LAB_RECIPES, releases["1.37.2"])
    assert releases["1.37.2"] not in DEFAULT_RECIPES  # built on demand only
    assert lab_recipes("1.35.0", "bridge") == LAB_RECIPES  # validate refuses it first


def test_a_lab_builds_its_network_plugin_and_no_other() -> None:
    flannel = (BY_COMPONENT["flannel"], BY_COMPONENT["flannel-cni"])
    assert lab_recipes("1.36.3", "flannel") == (*LAB_RECIPES, *flannel)
    assert not set(flannel) & (set(LAB_RECIPES) | set(DEFAULT_RECIPES))


def test_the_mirror_serves_the_declared_kubernetes_release(tmp_path: Path) -> None:
    old = _built(tmp_path, "kubernetes", "1.36.3", [*versions.KUBE_BINARIES, "agnhost"])
    new = _built(tmp_path, "kubernetes-1.37", "1.37.2", list(versions.KUBE_BINARIES))
    etcd = _built(tmp_path, "etcd", "3.6.17", ["etcd"])
    built = {"kubernetes": old, "kubernetes-1.37": new, "etcd": etcd}
    assert mirror.served_builds(built, "1.37.2") == {"kubernetes": new, "etcd": etcd}
    assert mirror.served_builds(built, "1.36.3") == {"kubernetes": old, "etcd": etcd}
    with pytest.raises(
        LabError, match=r"no Kubernetes 1\.35\.1 was built \(built: 1\.36\.3, 1\.37\.2\)"
    ):
        mirror.served_builds(built, "1.35.1")


def test_the_lab_stack_and_the_version_table_name_what_is_built() -> None:
    spec = load_stack("lab")
    built = {r.component: pinned_version(r).removeprefix("v") for r in RECIPES}
    assert spec.kubernetes.version == built["kubernetes"]
    assert spec.etcd.version == built["etcd"]
    assert spec.container_runtime.version == built["containerd"]
    assert built["runc"] == versions.DEFAULT_RUNC
    assert built["cni-plugins"] == versions.DEFAULT_CNI_PLUGINS
    assert built["cri-tools"] == versions.DEFAULT_CRICTL


INFO = ModuleInfo("k8s.io/kubernetes", "v1.36.3", "2026-07-22T18:07:38Z", Path("/m"))


def test_flannel_images_are_the_versions_the_manifests_name() -> None:
    flannel = pinned_version(BY_COMPONENT["flannel"])
    cni = pinned_version(BY_COMPONENT["flannel-cni"])
    assert addon_versions.FLANNEL.version == flannel
    assert addon_versions.FLANNEL.image("flannel") == f"ghcr.io/flannel-io/flannel:{flannel}"
    assert addon_versions.FLANNEL.image("cni-plugin").endswith(f":{cni}")


def test_traefik_and_its_gateway_api_crds_are_the_versions_the_manifests_name() -> None:
    traefik = BY_COMPONENT["traefik"]
    assert pinned_version(traefik) == addon_versions.TRAEFIK.version
    go_mod = (traefik.directory / "go.mod").read_text()
    # The CRDs come from the Gateway API module Traefik is built against.
    assert required_version(go_mod, "sigs.k8s.io/gateway-api") == addon_versions.GATEWAY_API.version
    flags = ldflags(traefik.programs[0], INFO)
    assert "-X github.com/traefik/traefik/v3/pkg/version.Version=v1.36.3" in flags


def test_the_gateway_api_crds_are_read_from_the_pinned_module() -> None:
    (bundle,) = gateway_bundles(load_stack("lab"))
    objects = bundle_objects(bundle)
    names = sorted(o["metadata"]["name"] for o in objects)
    assert names == [
        "backendtlspolicies.gateway.networking.k8s.io",
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "grpcroutes.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "referencegrants.gateway.networking.k8s.io",
    ]
    for crd in objects:
        annotations = crd["metadata"]["annotations"]
        assert annotations["gateway.networking.k8s.io/bundle-version"] == bundle.version
        assert annotations["gateway.networking.k8s.io/channel"] == "standard"
    wrong = dataclasses.replace(bundle, version="v1.3.0")
    with pytest.raises(
        BuildError, match=r"bundle gateway-api-crds is v1\.3\.0, but components/traefik"
    ):
        bundle_objects(wrong)


def test_kubernetes_is_stamped_like_upstreams_release() -> None:
    flags = ldflags(BY_COMPONENT["kubernetes"].programs[0], INFO)
    assert flags.startswith("-s -w ")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.36.3" in flags
        assert f"-X {package}.gitMinor=36" in flags
        assert f"-X {package}.buildDate=2026-07-22T18:07:38Z" in flags
        assert f"-X {package}.gitCommit= " in flags


def test_runc_links_statically_with_seccomp() -> None:
    (runc,) = BY_COMPONENT["runc"].programs
    assert runc.cgo and "seccomp" in runc.tags
    assert "-extldflags '-static -pthread'" in ldflags(runc, INFO)


def test_cache_key_follows_the_pins_and_the_go_release(tmp_path: Path) -> None:
    recipe = BY_COMPONENT["cri-tools"]
    key = cache_key(recipe, "go1.26.8")
    assert key == cache_key(recipe, "go1.26.8")
    assert key != cache_key(recipe, "go1.26.9")
    moved = type(recipe)(recipe.component, recipe.module, recipe.programs, revision=99)
    assert cache_key(moved, "go1.26.8") != key


def _built(tmp_path: Path, component: str, version: str, programs: list[str]) -> Built:
    directory = tmp_path / component
    directory.mkdir()
    sums = {}
    for name in programs:
        (directory / name).write_bytes(name.encode())
        sums[name] = hashlib.sha256(name.encode()).hexdigest()
    return Built(component, version, directory, sums)


def test_release_files_have_upstreams_layout(tmp_path: Path) -> None:
    built = {
        "kubernetes": _built(tmp_path, "kubernetes", "1.36.3", list(versions.KUBE_BINARIES)),
        "etcd": _built(tmp_path, "etcd", "3.6.17", ["etcd", "etcdctl", "etcdutl"]),
        "containerd": _built(
            tmp_path, "containerd", "2.3.7", ["containerd", "containerd-shim-runc-v2", "ctr"]
        ),
        "runc": _built(tmp_path, "runc", "1.5.3", ["runc"]),
        "cni-plugins": _built(tmp_path, "cni-plugins", "1.10.0", ["bridge", "loopback"]),
        "cri-tools": _built(tmp_path, "cri-tools", "1.37.0", ["crictl"]),
    }
    files = mirror.release_files(built)
    assert files[("kubelet", "1.36.3")] == b"kubelet"
    assert files[("runc", "1.5.3")] == b"runc"

    def names(data: bytes) -> list[str]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
            return tar.getnames()

    assert names(files[("containerd", "2.3.7")]) == [
        "bin",
        "bin/containerd",
        "bin/containerd-shim-runc-v2",
        "bin/ctr",
    ]
    assert names(files[("cni-plugins", "1.10.0")]) == ["bridge", "loopback"]
    assert names(files[("crictl", "1.37.0")]) == ["crictl"]
    assert names(files[("etcd", "3.6.17")])[0] == "etcd-v3.6.17-linux-amd64"
    assert files == mirror.release_files(built)  # reproducible
    assert mirror.releases_cache_key(built) == mirror.releases_cache_key(dict(built))


def test_pause_tag_from_upstreams_makefile() -> None:
    assert makefile_tag("IMAGE = x\nTAG ?= 3.10.2\nREV = 1\n") == "3.10.2"


def test_image_is_one_reproducible_layer_under_its_upstream_name() -> None:
    image = Image(
        "registry.k8s.io/e2e-test-images/agnhost:2.63.0",
        {"agnhost": b"\x7fELF", "bin/busybox": b"bb"},
        entrypoint=["/agnhost"],
        links={"bin/sh": "/bin/busybox"},
    )
    assert image.repository == "registry.k8s.io/e2e-test-images/agnhost"
    assert image.tag == "2.63.0"
    first, second = assemble(image), assemble(image)
    assert first == second
    manifest = json.loads(first.manifest)
    (layer_ref,) = manifest["layers"]
    config = json.loads(first.blobs[manifest["config"]["digest"]])
    assert config["config"]["Entrypoint"] == ["/agnhost"]
    raw = layer(image.files, image.links)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(raw).hexdigest()]
    compressed = first.blobs[layer_ref["digest"]]
    assert gzip.decompress(compressed) == raw
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        assert tar.getmember("bin/sh").linkname == "/bin/busybox"
        assert tar.getmember("agnhost").mode == 0o755


def test_an_image_on_a_distribution_layer_lists_it_first() -> None:
    raw_base = layer({"etc/os-release": b"ID=debian\n"}, {})
    base = Layer(gzip.compress(raw_base, mtime=0), "sha256:" + hashlib.sha256(raw_base).hexdigest())
    image = Image(
        "registry.k8s.io/e2e-test-images/nginx:1.27-0",
        {"etc/nginx/sites-enabled/default": b"server {}\n"},
        cmd=["nginx", "-g", "daemon off;"],
        base=base,
    )
    assembled = assemble(image)
    manifest = json.loads(assembled.manifest)
    config = json.loads(assembled.blobs[manifest["config"]["digest"]])
    own = layer(image.files, image.links)
    assert config["rootfs"]["diff_ids"] == [
        base.diff_id,
        "sha256:" + hashlib.sha256(own).hexdigest(),
    ]
    first, second = (assembled.blobs[ref["digest"]] for ref in manifest["layers"])
    assert first == base.compressed
    assert gzip.decompress(second) == own


def test_test_image_tags_come_from_upstreams_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "test/utils/image/manifest.go"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(
        '\tconfigs[GlibcDnsTesting] = Config{list.PromoterE2eRegistry, "glibc-dns-testing", "2.0.0"}\n'
        '\tconfigs[Nginx] = Config{list.PromoterE2eRegistry, "nginx", "1.15-4"}\n'
        '\tconfigs[NginxNew] = Config{list.PromoterE2eRegistry, "nginx", "1.27-0"}\n'
    )
    assert nginx_tags(tmp_path) == ("1.15-4", "1.27-0")
    assert glibc_dns_testing_tag(tmp_path) == "2.0.0"
    manifest.write_text("")
    with pytest.raises(BuildError, match="names no image GlibcDnsTesting"):
        glibc_dns_testing_tag(tmp_path)


def test_an_image_can_hold_empty_folders_and_files_with_their_modes() -> None:
    raw = layer(
        {"bin/busybox": b"bb", "usr/local/bin/nnp": b"nnp"},
        {},
        {"tmp": 0o1777, "root": 0o700},
        {"usr/local/bin/nnp": 0o4755},
    )
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        assert tar.getmember("usr/local/bin/nnp").mode == 0o4755
        assert tar.getmember("usr/local/bin/nnp").uid == 0
        assert tar.getmember("bin/busybox").mode == 0o755
        assert tar.getmember("tmp").isdir() and tar.getmember("tmp").mode == 0o1777
        assert tar.getmember("root").mode == 0o700
        assert tar.getmember("bin").mode == 0o755


def test_the_busybox_stand_in_has_every_applet_in_bin_and_bash_as_sh() -> None:
    files, links = images.busybox_stand_in_files()
    assert links["bin/sysctl"] == links["bin/cat"] == "/bin/busybox"
    assert links["bin/sh"] == "/bin/bash" and "bin/busybox" not in links
    assert set(files) == {"bin/busybox", "bin/bash"}
    assert images.BUSYBOX_FOLDERS["tmp"] == 0o1777


def test_kitten_is_agnhost_with_its_files_under_the_tag_e2e_asks_for(tmp_path: Path) -> None:
    (tmp_path / "test/utils/image").mkdir(parents=True)
    (tmp_path / "test/utils/image/manifest.go").write_text(
        'configs[Kitten] = Config{list.PromoterE2eRegistry, "kitten", "1.8"}\n'
    )
    html = tmp_path / "test/images/kitten/html"
    html.mkdir(parents=True)
    (html.parent / "VERSION").write_text("1.9\n")
    (html / "data.json").write_text('{"image": "kitten.jpg"}\n')
    (html / "kitten.jpg").write_bytes(b"\xff\xd8")
    agnhost = Image(
        "registry.k8s.io/e2e-test-images/agnhost:2.63.0",
        {"agnhost": b"\x7fELF"},
        entrypoint=["/agnhost"],
        cmd=["pause"],
    )
    kitten = images.agnhost_web_image(agnhost, tmp_path, "kitten", "Kitten")
    assert kitten.reference == "registry.k8s.io/e2e-test-images/kitten:1.8"
    assert (kitten.entrypoint, kitten.cmd) == (["/agnhost"], ["test-webserver"])
    assert kitten.files["data.json"] == b'{"image": "kitten.jpg"}\n'
    assert kitten.files["agnhost"] == b"\x7fELF" and b"kitten 1.9" in kitten.files["STAND-IN"]

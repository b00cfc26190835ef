"""Container images of the components built here, pushed to an OCI registry.

An image is one layer (a reproducible tar of its files) and a config naming
its entrypoint, pushed under its upstream name (registry.k8s.io/pause:3.10.2
goes to <registry>/v2/registry.k8s.io/pause): nodes keep upstream image
references, and containerd reaches the registry through its mirror
configuration (hosts.toml with override_path), as at a site with a registry
of its own. Pushing speaks the OCI distribution API; a blob the registry
has is not sent again.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from groundwork.build.run import BuildError, Built

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static (scripts/host-packages.txt)
BASH = Path("/bin/bash-static")  # Debian's bash-static (scripts/host-packages.txt)
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Layer:
    """A layer made elsewhere (groundwork/lab/debian_layer.py), as pushed."""

    compressed: bytes  # the gzipped tar
    diff_id: str  # "sha256:..." of the uncompressed tar, as the image config names it


@dataclass(frozen=True)
class Image:
    reference: str  # upstream name and tag: "registry.k8s.io/pause:3.10.2"
    files: Mapping[str, bytes]  # path in the image -> content (executables)
    entrypoint: Sequence[str] = ()
    cmd: Sequence[str] = ()
    links: Mapping[str, str] = field(default_factory=dict)  # path -> target
    user: str = ""
    base: Layer | None = None  # a layer under the image's own files (a distribution)
    folders: Mapping[str, int] = field(default_factory=dict)  # empty folder -> mode
    modes: Mapping[str, int] = field(default_factory=dict)  # file -> mode, where not 0755

    @property
    def repository(self) -> str:
        return self.reference.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.reference.rsplit(":", 1)[1]


def layer(
    files: Mapping[str, bytes],
    links: Mapping[str, str],
    folders: Mapping[str, int] | None = None,
    modes: Mapping[str, int] | None = None,
) -> bytes:
    """The uncompressed layer tar, byte-for-byte reproducible (pure), owned
    by root. Files and the folders holding them are 0755 unless `modes` says
    otherwise; `folders` adds empty ones, with their modes."""
    implied = {
        "/".join(p.split("/")[:i]) for p in [*files, *links] for i in range(1, p.count("/") + 1)
    }
    folder_modes = {name: 0o755 for name in implied} | dict(folders or {})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(folder_modes):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, folder_modes[name]
            tar.addfile(info)
        for name in sorted(links):
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, links[name], 0o777
            tar.addfile(info)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.mode, info.size = (modes or {}).get(name, 0o755), len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Assembled:
    blobs: dict[str, bytes]  # digest -> content (layer, config)
    manifest: bytes


def assemble(image: Image) -> Assembled:
    """The image's blobs and OCI manifest (pure)."""
    raw = layer(image.files, image.links, image.folders, image.modes)
    compressed = gzip.compress(raw, mtime=0)
    layers = [(compressed, _digest(raw))]
    if image.base is not None:
        layers.insert(0, (image.base.compressed, image.base.diff_id))
    config_doc = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": [PATH_ENV],
            **({"Entrypoint": list(image.entrypoint)} if image.entrypoint else {}),
            **({"Cmd": list(image.cmd)} if image.cmd else {}),
            **({"User": image.user} if image.user else {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in layers]},
    }
    config = json.dumps(config_doc, sort_keys=True, separators=(",", ":")).encode()
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _digest(config), "size": len(config)},
        "layers": [
            {"mediaType": OCI_LAYER, "digest": _digest(blob), "size": len(blob)}
            for blob, _ in layers
        ],
    }
    manifest = json.dumps(manifest_doc, sort_keys=True, separators=(",", ":")).encode()
    blobs = {_digest(blob): blob for blob, _ in layers}
    return Assembled({**blobs, _digest(config): config}, manifest)


def _request(
    method: str, url: str, data: bytes | None = None, content_type: str = ""
) -> tuple[int, Mapping[str, str]]:
    request = urllib.request.Request(url, data=data, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    # No proxy: the registry listens on this host's lab gateway.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as err:
        if method == "HEAD" and err.code == 404:
            return 404, {}
        body = err.read().decode(errors="replace")[:300]
        raise BuildError(f"registry: {method} {url}: HTTP {err.code}: {body}") from None
    except OSError as err:
        raise BuildError(f"registry: {method} {url}: {err}") from None


def push(image: Image, registry: str) -> str:
    """Push the image to the registry (http://host:port); its manifest digest."""
    assembled = assemble(image)
    base = f"{registry.rstrip('/')}/v2/{image.repository}"
    for digest, blob in assembled.blobs.items():
        if _request("HEAD", f"{base}/blobs/{digest}")[0] == 200:
            continue
        _, headers = _request("POST", f"{base}/blobs/uploads/", b"")
        location = headers.get("Location", "")
        if location.startswith("/"):
            location = registry.rstrip("/") + location
        separator = "&" if "?" in location else "?"
        _request("PUT", f"{location}{separator}digest={digest}", blob, "application/octet-stream")
    _request("PUT", f"{base}/manifests/{image.tag}", assembled.manifest, OCI_MANIFEST)
    return _digest(assembled.manifest)


# --- the images the lab serves ---------------------------------------------------


def busybox_files() -> tuple[dict[str, bytes], dict[str, str]]:
    """A shell and the usual tools: Debian's static busybox and a link per applet."""
    if not BUSYBOX.exists():
        raise BuildError(f"{BUSYBOX} is missing: install Debian's busybox-static")
    applets = subprocess.run(
        [str(BUSYBOX), "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    links = {a: "/bin/busybox" for a in applets if a != "bin/busybox"}
    return {"bin/busybox": BUSYBOX.read_bytes()}, links


def busybox_stand_in_files() -> tuple[dict[str, bytes], dict[str, str]]:
    """busybox_files laid out as upstream's busybox image: every applet in
    /bin (specs run /bin/sysctl), and a static bash as sh. Debian's busybox
    ash drops environment variables whose names are not shell identifiers
    (`data-1`) before any program it starts sees them (1.35 here, and 1.37
    in trixie: tried on 2026-12-07); bash passes them on, and the conformance
    specs that read a Secret or ConfigMap into such variables (`sh -c env`)
    depend on it. The price: a spec matching ash's own error text fails."""
    if not BASH.exists():
        raise BuildError(f"{BASH} is missing: install Debian's bash-static")
    files, links = busybox_files()
    in_bin = {f"bin/{path.rsplit('/', 1)[-1]}": target for path, target in links.items()}
    in_bin.pop("bin/busybox", None)
    return {**files, "bin/bash": BASH.read_bytes()}, {**links, **in_bin, "bin/sh": "/bin/bash"}


# The folders upstream's busybox image has beside /bin that programs write
# to: specs write /tmp/health and read it back.
BUSYBOX_FOLDERS: Mapping[str, int] = {"tmp": 0o1777, "root": 0o700, "home": 0o755}


def pause_binary(kubernetes_module: Path, tag: str, work: Path) -> bytes:
    """pause, compiled statically from upstream's build/pause/linux/pause.c in
    the pinned kubernetes module, with upstream's flags."""
    out = work / "pause"
    source = kubernetes_module / "build/pause/linux/pause.c"
    result = subprocess.run(
        [
            "gcc",
            "-Os",
            "-Wall",
            "-Werror",
            "-static",
            f"-DVERSION=v{tag}",
            "-o",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"compiling {source} failed: {result.stderr.strip()}")
    return out.read_bytes()


def _manifest_tag(kubernetes_module: Path, constant: str) -> str:
    """The tag test/utils/image/manifest.go gives an e2e image, e.g.
    `configs[Nginx] = Config{list.PromoterE2eRegistry, "nginx", "1.15-4"}`."""
    text = (kubernetes_module / "test/utils/image/manifest.go").read_text()
    found = re.search(rf'configs\[{constant}\] = Config{{[^,]+, "[^"]+", "([^"]+)"}}', text)
    if not found:
        raise BuildError(f"test/utils/image/manifest.go names no image {constant}")
    return found.group(1)


def nginx_tags(kubernetes_module: Path) -> tuple[str, ...]:
    return tuple(_manifest_tag(kubernetes_module, c) for c in ("Nginx", "NginxNew"))


def glibc_dns_testing_tag(kubernetes_module: Path) -> str:
    return _manifest_tag(kubernetes_module, "GlibcDnsTesting")


def makefile_tag(makefile: str) -> str:
    """`TAG ?= 3.10.2` in upstream's build/pause/Makefile (pure)."""
    for line in makefile.splitlines():
        if line.startswith("TAG ?="):
            return line.split("=", 1)[1].strip()
    raise BuildError("build/pause/Makefile names no TAG")


BUSYBOX_STAND_IN = (
    b"Debian's busybox-static (BusyBox 1.35.0) standing in for busybox 1.37, "
    b"with Debian's bash-static as sh\n"
)

# Upstream's test/images/kitten and nautilus: agnhost serving a picture and
# a data.json from its root (ImageVolume specs mount kitten as a volume and
# read them; kubectl's Update Demo rolls nautilus out): image name and its
# constant in test/utils/image/manifest.go.
AGNHOST_WEB_IMAGES: tuple[tuple[str, str], ...] = (("kitten", "Kitten"), ("nautilus", "Nautilus"))


def agnhost_web_image(agnhost: Image, kubernetes_module: Path, name: str, constant: str) -> Image:
    """One of AGNHOST_WEB_IMAGES as its Dockerfile in the kubernetes module
    lays it out, on the agnhost built here, under the tag e2e asks for."""
    folder = kubernetes_module / "test/images" / name
    version = (folder / "VERSION").read_text().strip()
    tag = _manifest_tag(kubernetes_module, constant)
    html = {p.name: p.read_bytes() for p in sorted((folder / "html").iterdir())}
    stand_in = f"{name} {version} from the kubernetes module on the agnhost built here, as {tag}\n"
    return dataclasses.replace(
        agnhost,
        reference=f"registry.k8s.io/e2e-test-images/{name}:{tag}",
        files={**agnhost.files, **html, "STAND-IN": stand_in.encode()},
        cmd=["test-webserver"],
    )


# nginx as upstream's nginx image serves: /usr/share/nginx/html on port 80.
NGINX_SITE = b"""server {
    listen 80 default_server;
    root /usr/share/nginx/html;
    index index.html;
}
"""


# The built components lab_images reads: a change to another one (a
# Kubernetes release to upgrade to) pushes nothing again. A network plugin's
# components are read when the lab built them (its stack declares the plugin).
IMAGE_COMPONENTS = ("kubernetes", "etcd", "coredns", "local-path-provisioner", "traefik")
PLUGIN_IMAGE_COMPONENTS = ("flannel", "flannel-cni")


def image_components(built: Mapping[str, Built]) -> tuple[str, ...]:
    """The built components the lab's images are made of (pure)."""
    return (*IMAGE_COMPONENTS, *(c for c in PLUGIN_IMAGE_COMPONENTS if c in built))


def flannel_images(flannel: Built, cni: Built, debian: Layer) -> list[Image]:
    """flannel's two images as upstream's images/Dockerfile lays them out:
    flanneld and install-conf under /opt/bin on a distribution with iproute2,
    iptables and nftables (Debian here, Alpine upstream), and the CNI plugin
    at /flannel beside a shell's cp (the DaemonSet's init step copies it onto
    the node)."""
    shell, shell_links = busybox_files()
    return [
        Image(
            f"ghcr.io/flannel-io/flannel:v{flannel.version}",
            {
                f"opt/bin/{name}": flannel.path(name).read_bytes()
                for name in ("flanneld", "install-conf")
            },
            entrypoint=["/opt/bin/flanneld"],
            base=debian,
        ),
        Image(
            f"ghcr.io/flannel-io/flannel-cni-plugin:v{cni.version}",
            {**shell, "flannel": cni.path("flannel").read_bytes()},
            cmd=["sh"],
            links=shell_links,
        ),
    ]


def lab_images(
    built: Mapping[str, Built], kubernetes_module: Path, work: Path, debian: Layer
) -> list[Image]:
    """Every image the lab's cluster runs, under its upstream name. `debian`
    (groundwork/lab/debian_layer.py) stands in for the distribution an upstream
    image starts from."""
    pause_tag = makefile_tag((kubernetes_module / "build/pause/Makefile").read_text())
    agnhost_tag = (kubernetes_module / "test/images/agnhost/VERSION").read_text().strip()
    shell, shell_links = busybox_files()
    stand_in, stand_in_links = busybox_stand_in_files()
    kube, coredns = built["kubernetes"], built["coredns"]
    local_path, traefik = built["local-path-provisioner"], built["traefik"]
    nginx = [
        Image(
            f"registry.k8s.io/e2e-test-images/nginx:{tag}",
            {
                "etc/nginx/sites-enabled/default": NGINX_SITE,
                "STAND-IN": f"Debian's nginx-light standing in for nginx {tag}\n".encode(),
            },
            cmd=["nginx", "-g", "daemon off;"],
            links={
                "var/log/nginx/access.log": "/dev/stdout",
                "var/log/nginx/error.log": "/dev/stderr",
            },
            base=debian,
        )
        for tag in nginx_tags(kubernetes_module)
    ]
    # As upstream's test/images/agnhost/Dockerfile lays it out, on Debian
    # instead of Alpine: the same tools (dig, curl, netcat-openbsd, iproute2,
    # iperf, bash), its user and group, porter's certificate (readiness
    # probes fetch /localhost.crt), the agnhost-2 link, `pause` by default.
    agnhost_files = {
        "agnhost": kube.path("agnhost").read_bytes(),
        **{
            name: (kubernetes_module / "test/images/agnhost/porter" / name).read_bytes()
            for name in ("localhost.crt", "localhost.key")
        },
    }
    agnhost = Image(
        f"registry.k8s.io/e2e-test-images/agnhost:{agnhost_tag}",
        agnhost_files,
        entrypoint=["/agnhost"],
        cmd=["pause"],
        links={"agnhost-2": "agnhost"},
        base=debian,
    )
    # A stand-in: e2e's "previous" agnhost (AgnhostPrev, the image specs
    # update from) is in no kubernetes module served here, so the agnhost
    # built here goes under its tag too, with a file saying so (a distinct
    # image, as an update needs).
    prev_tag = _manifest_tag(kubernetes_module, "AgnhostPrev")
    agnhost_prev = dataclasses.replace(
        agnhost,
        reference=f"registry.k8s.io/e2e-test-images/agnhost:{prev_tag}",
        files={
            **agnhost_files,
            "STAND-IN": f"agnhost {agnhost_tag} built here, standing in for {prev_tag}\n".encode(),
        },
    )
    etcd, etcd_tag = built["etcd"], _manifest_tag(kubernetes_module, "Etcd")
    sample_apiserver_tag = _manifest_tag(kubernetes_module, "APIServer")
    web_images = [
        agnhost_web_image(agnhost, kubernetes_module, name, constant)
        for name, constant in AGNHOST_WEB_IMAGES
    ]
    plugin_images = (
        flannel_images(built["flannel"], built["flannel-cni"], debian)
        if "flannel" in built and "flannel-cni" in built
        else []
    )
    return [
        *plugin_images,
        Image(
            f"registry.k8s.io/pause:{pause_tag}",
            {"pause": pause_binary(kubernetes_module, pause_tag, work)},
            entrypoint=["/pause"],
            user="65535:65535",
        ),
        Image(
            f"registry.k8s.io/coredns/coredns:v{coredns.version}",
            {"coredns": coredns.path("coredns").read_bytes()},
            entrypoint=["/coredns"],
        ),
        agnhost,
        agnhost_prev,
        *web_images,
        # Upstream's test/images/nonewprivs: nnp, setuid root, prints its
        # effective uid (Alpine beneath it upstream; nnp needs nothing else).
        Image(
            f"registry.k8s.io/e2e-test-images/nonewprivs:{_manifest_tag(kubernetes_module, 'Nonewprivs')}",
            {"usr/local/bin/nnp": kube.path("nnp").read_bytes()},
            cmd=["nnp"],
            modes={"usr/local/bin/nnp": 0o4755},
        ),
        # The aggregator spec runs upstream's sample API server beside an
        # etcd of its own: k8s.io/sample-apiserver at the cluster's release
        # under the tag e2e names (1.29.2 upstream), and the etcd built here
        # where upstream's etcd image has it, under that image's tag.
        Image(
            f"registry.k8s.io/e2e-test-images/sample-apiserver:{sample_apiserver_tag}",
            {
                "sample-apiserver": kube.path("sample-apiserver").read_bytes(),
                "STAND-IN": (
                    f"k8s.io/sample-apiserver v{kube.version} standing in for "
                    f"{sample_apiserver_tag}\n"
                ).encode(),
            },
            entrypoint=["/sample-apiserver"],
            folders={"tmp": 0o1777},
        ),
        Image(
            f"registry.k8s.io/etcd:{etcd_tag}",
            {
                "usr/local/bin/etcd": etcd.path("etcd").read_bytes(),
                "STAND-IN": f"etcd v{etcd.version} built here standing in for {etcd_tag}\n".encode(),
            },
            cmd=["/usr/local/bin/etcd"],
            folders={"tmp": 0o1777},
        ),
        # Upstream's test/images/glibc-dns-testing: Debian bookworm with
        # dnsutils, and a coredns binary at / (upstream's is 1.5.0; this one
        # is the cluster's).
        Image(
            f"registry.k8s.io/e2e-test-images/glibc-dns-testing:{glibc_dns_testing_tag(kubernetes_module)}",
            {"coredns": coredns.path("coredns").read_bytes()},
            cmd=["bash"],
            base=debian,
        ),
        *nginx,
        Image(
            "registry.k8s.io/e2e-test-images/busybox:1.37.0-1",
            {**stand_in, "STAND-IN": BUSYBOX_STAND_IN},
            cmd=["sh"],
            links=stand_in_links,
            folders=BUSYBOX_FOLDERS,
        ),
        # local-path's helper pods run shell scripts (mkdir, rm) in it.
        Image(
            "docker.io/library/busybox:1.37",
            {**stand_in, "STAND-IN": BUSYBOX_STAND_IN},
            cmd=["sh"],
            links=stand_in_links,
            folders=BUSYBOX_FOLDERS,
        ),
        # Upstream's image is Alpine with the binary at /usr/local/bin; the
        # manifests pass only flags, so the binary is the entrypoint.
        Image(
            f"docker.io/library/traefik:v{traefik.version}",
            {"usr/local/bin/traefik": traefik.path("traefik").read_bytes()},
            entrypoint=["/usr/local/bin/traefik"],
        ),
        Image(
            f"docker.io/rancher/local-path-provisioner:v{local_path.version}",
            {
                **shell,
                "usr/bin/local-path-provisioner": local_path.path(
                    "local-path-provisioner"
                ).read_bytes(),
            },
            entrypoint=["local-path-provisioner"],
            links=shell_links,
        ),
    ]

"""The lab's OCI registry: Debian's `docker-registry` (distribution 2.8),
holding the images of the components built here under their upstream names.

The registry is lab infrastructure, like podman and the mirror's web
server, not a cluster component: it comes from the host's Debian packages
rather than a Go build (which cost about 6 minutes on 2 cores).

The registry runs beside the mirror on the lab gateway; nodes reach it
through containerd's mirror configuration (hosts.toml per upstream
registry), the way a site with its own registry works. Its storage lives in
the host cache, shared by every lab; the images are pushed again only when
what they are built from changed.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

from groundwork.build import BY_COMPONENT, Built, images
from groundwork.build.images import lab_images, push
from groundwork.build.run import go_env, module_info, sha256_file
from groundwork.lab import debian_layer
from groundwork.lab.layout import LabLayout, lab_state_dir
from groundwork.lab.site import Server, server_pid, start_server, stop_server
from groundwork.progress import Progress

# Installed by the host's `docker-registry` package (groundwork/lab/host.py).
REGISTRY_BINARY = "/usr/bin/docker-registry"
# The upstream registries whose images the lab's registry holds.
MIRRORED = ("registry.k8s.io", "docker.io", "ghcr.io")


def config(lab: LabLayout, storage: Path) -> str:
    """The registry's configuration (pure): listens on the gateway only."""
    doc = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(storage)}},
        "http": {"addr": f"{lab.gateway}:{lab.registry_port}"},
    }
    return json.dumps(doc, indent=2) + "\n"


def server(lab: LabLayout, storage: Path) -> Server:
    path = lab_state_dir(lab.stack) / "registry.json"  # YAML reads JSON
    text = config(lab, storage)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    argv = (REGISTRY_BINARY, "serve", str(path))
    return Server("registry", str(path).encode(), lab.registry_port, argv)


def images_key(built: Mapping[str, Built]) -> str:
    doc = {
        "built": {name: built[name].sha256 for name in images.image_components(built)},
        # The images' recipe is the module that lays them out: any change to
        # it pushes them again.
        "recipe": sha256_file(Path(images.__file__)),
        "debian": debian_layer.recipe_key(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def ensure_registry(
    lab: LabLayout, built: Mapping[str, Built], cache: Path, progress: Progress
) -> bool:
    """Run the registry and push the images it lacks; True when anything changed."""
    storage = cache / "registry"
    storage.mkdir(parents=True, exist_ok=True)
    proc = server(lab, storage)
    changed = server_pid(lab.stack, proc.name, proc.marker) is None
    if changed:
        progress(f"starting the registry on {lab.registry_url}")
    start_server(lab, proc)
    stamp = pushed_stamp(built, cache)
    if stamp.exists():
        return changed
    recipe = BY_COMPONENT["kubernetes"]
    module = module_info(recipe, go_env()).dir
    with tempfile.TemporaryDirectory(prefix="groundwork-images-") as work:
        progress("registry: the Debian layer of the test images (debootstrap, cached)")
        debian = debian_layer.base_layer(cache / "images")
        images = lab_images(built, module, Path(work), debian)
        digests = {}
        for number, image in enumerate(images, 1):
            progress(f"registry: pushing {image.reference} ({number} of {len(images)})")
            digests[image.reference] = push(image, lab.registry_url)
    # Other stamps stay: labs of several stacks share this registry, each
    # with its own set of images (a network plugin's among them). Each line
    # is an image and the manifest digest it was pushed with.
    stamp.write_text("".join(f"{ref} {digest}\n" for ref, digest in digests.items()))
    return True


def pushed_stamp(built: Mapping[str, Built], cache: Path) -> Path:
    """The file that says this set of components' images were pushed."""
    return cache / "registry" / f".pushed-{images_key(built)}"


def served_digests(built: Mapping[str, Built], cache: Path) -> dict[str, str]:
    """reference -> the manifest digest the registry serves for this set of
    components' images, as its stamp recorded them at push time."""
    stamp = pushed_stamp(built, cache)
    lines = stamp.read_text().splitlines() if stamp.exists() else []
    return dict(line.split() for line in lines if len(line.split()) == 2)


def stop(lab: LabLayout) -> None:
    path = lab_state_dir(lab.stack) / "registry.json"
    stop_server(lab.stack, "registry", str(path).encode())


def running(lab: LabLayout) -> bool:
    path = lab_state_dir(lab.stack) / "registry.json"
    return server_pid(lab.stack, "registry", str(path).encode()) is not None

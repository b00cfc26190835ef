"""Images cached on the lab's nodes that the lab's registry has since replaced.

The registry serves each image under its upstream name and tag. When what
an image is made of changes (groundwork/build/images.py), the lab pushes new
content under the same tag; a node that pulled the old content keeps it,
because the kubelet pulls a tag only when it is absent (IfNotPresent), and
resetting a node keeps containerd's image store. So after the registry
changed, each running node drops its copies whose digest is not the one the
registry serves now, and pulls the new one when a pod next needs it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from groundwork.lab import nodes
from groundwork.lab.layout import LabLayout, LabNode, lab_state_dir
from groundwork.lab.proc import run
from groundwork.progress import Progress

# Per stack: the set of images (registry.images_key) its running nodes were
# last checked against; a no-change `lab up` asks nothing.
CHECKED = "images-checked"


def stale(node_images: Mapping[str, Any], digests: Mapping[str, str]) -> list[str]:
    """The tags in `crictl images -o json` whose digest is not the registry's (pure)."""
    out = []
    for image in node_images.get("images") or []:
        held = {d.rsplit("@", 1)[-1] for d in image.get("repoDigests") or []}
        for tag in image.get("repoTags") or []:
            want = digests.get(tag)
            if want is not None and want not in held:
                out.append(tag)
    return sorted(out)


def checked(lab: LabLayout, images_key: str) -> bool:
    """Whether the running nodes were checked against this set of images."""
    stamp = lab_state_dir(lab.stack) / CHECKED
    return stamp.exists() and stamp.read_text() == images_key


def mark_checked(lab: LabLayout, images_key: str) -> None:
    (lab_state_dir(lab.stack) / CHECKED).write_text(images_key)


def drop_stale(
    lab: LabLayout, running: list[LabNode], digests: Mapping[str, str], progress: Progress
) -> dict[str, list[str]]:
    """On each running node, remove the cached tags the registry has replaced;
    node -> the tags removed."""

    def one(node: LabNode) -> list[str]:
        listed = run(
            nodes.exec_argv(lab, node.container, ["crictl", "images", "-o", "json"]), check=False
        )
        if listed.returncode != 0:
            return []  # no container runtime yet: nothing cached
        tags = stale(json.loads(listed.stdout or "{}"), digests)
        if tags:
            progress(f"{node.name}: dropping images the lab's registry replaced: {', '.join(tags)}")
            # A tag a running container uses stays referenced by it; the
            # next pull of the tag brings the registry's content.
            run(nodes.exec_argv(lab, node.container, ["crictl", "rmi", *tags]), check=False)
        return tags

    removed = dict(zip((n.name for n in running), nodes.parallel(one, running), strict=True))
    return {name: tags for name, tags in removed.items() if tags}

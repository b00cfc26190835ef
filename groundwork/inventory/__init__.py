"""Spec + plan -> Ansible inventory (`inventories/<stack>/`).

`render_inventory` is pure (it returns the files' text); `write_inventory`
writes them only when their bytes change, so a re-run touches nothing.
`release_sha256` (and `substrate_sha256`, for each release file the
substrate roles install) is the one piece of I/O the inventory needs
besides writing: the sha256 of a release file served by a mirror.
"""

from groundwork.inventory.artifacts import (
    InventoryError,
    kube_offer,
    mirror_index,
    release_sha256,
    substrate_artifacts,
    substrate_sha256,
)
from groundwork.inventory.render import (
    Connection,
    KubeArtifacts,
    RenderedInventory,
    connection_for,
    group_vars,
    hosts,
    render_inventory,
)
from groundwork.inventory.write import inventory_dir, write_inventory

__all__ = [
    "Connection",
    "InventoryError",
    "KubeArtifacts",
    "RenderedInventory",
    "connection_for",
    "group_vars",
    "hosts",
    "inventory_dir",
    "kube_offer",
    "mirror_index",
    "release_sha256",
    "render_inventory",
    "substrate_artifacts",
    "substrate_sha256",
    "write_inventory",
]

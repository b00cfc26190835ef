"""Storage: provisioners per driver, static local PVs, and the StorageClasses.

- local-path: rancher's local-path-provisioner, the node directory from the
  class (`localPath`), WaitForFirstConsumer (the volume lives on one node).
  Its objects are upstream's deploy/local-path-storage.yaml, read from the
  module components/local-path-provisioner pins (`storage_bundles`), with
  Groundwork's patches (local-path-provisioner-patches.yaml.j2): the images,
  each class's node directory, the namespace's pod security.
- nfs: csi-driver-nfs (CSIDriver, controller Deployment, node DaemonSet),
  Immediate binding, `server`/`share` parameters.
- local-static: no provisioner; one PersistentVolume per declared volume
  with `local.path` and a nodeAffinity to its node, WaitForFirstConsumer.

Exactly one class is the default (validation guarantees it; `storage()`
checks it again because a cluster with two defaults picks at random).

Groundwork's own objects are the templates under templates/addons/storage/:
csi-driver-nfs.yaml.j2, storage-class.yaml.j2 (one per class) and
local-volumes.yaml.j2 (one per local-static class); this module gives them
their values.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundwork.manifests import versions
from groundwork.manifests.bundles import Bundle, ModuleFiles, render_patches
from groundwork.manifests.common import Obj
from groundwork.manifests.templating import render_objects
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, NfsParameters, StorageClass, StorageDriver

# The CSIDriver's name in csi-driver-nfs.yaml.j2 is NFS_PROVISIONER.
LOCAL_PATH_PROVISIONER = "rancher.io/local-path"
NFS_PROVISIONER = "nfs.csi.k8s.io"
NO_PROVISIONER = "kubernetes.io/no-provisioner"

PROVISIONERS: dict[StorageDriver, str] = {
    StorageDriver.LOCAL_PATH: LOCAL_PATH_PROVISIONER,
    StorageDriver.NFS: NFS_PROVISIONER,
    StorageDriver.LOCAL_STATIC: NO_PROVISIONER,
}
NODE_LOCAL = frozenset({StorageDriver.LOCAL_PATH, StorageDriver.LOCAL_STATIC})

LOCAL_PATH_FILES = ModuleFiles(
    "local-path-provisioner",
    "github.com/rancher/local-path-provisioner",
    "deploy/local-path-storage.yaml",
)


@dataclass(frozen=True)
class StorageClassView:
    """The values of storage-class.yaml.j2."""

    name: str
    is_default: str  # the annotation's value: "true" or "false"
    provisioner: str
    reclaim_policy: str
    binding_mode: str
    nfs: NfsParameters | None  # the export's parameters, nfs classes only


@dataclass(frozen=True)
class LocalVolumeView:
    """One PersistentVolume of local-volumes.yaml.j2."""

    name: str
    node: str
    path: str
    capacity: str
    reclaim_policy: str
    storage_class: str


def storage(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    classes = spec.storage.classes
    defaults = [c.name for c in classes if c.default]
    if classes and len(defaults) != 1:
        raise ValueError(f"exactly one default StorageClass is required, got {defaults}")
    drivers = {c.driver for c in classes}
    out: list[Obj] = []
    if StorageDriver.NFS in drivers:
        nfs = versions.CSI_NFS
        out += render_objects(
            "addons/storage/csi-driver-nfs.yaml.j2",
            provisioner_image=nfs.image("provisioner"),
            nfs_image=nfs.image("nfs"),
            registrar_image=nfs.image("registrar"),
        )
    # Each class, then its static volumes: the order the objects always had.
    for cls in classes:
        out += render_objects(
            "addons/storage/storage-class.yaml.j2", storage_class=_class_view(cls)
        )
        if cls.driver is StorageDriver.LOCAL_STATIC:
            out += render_objects(
                "addons/storage/local-volumes.yaml.j2", volumes=_local_volumes(cls)
            )
    return out


def storage_bundles(spec: ClusterSpec) -> list[Bundle]:
    """Upstream's local-path provisioner, patched, when a class uses it: one
    provisioner serves every local-path class."""
    local_paths = [c for c in spec.storage.classes if c.driver is StorageDriver.LOCAL_PATH]
    if not local_paths:
        return []
    patches = render_patches(
        "addons/storage/local-path-provisioner-patches.yaml.j2",
        provisioner_image=versions.LOCAL_PATH.image("provisioner"),
        helper_image=versions.LOCAL_PATH.image("helper"),
        config=_local_path_config(local_paths),
    )
    lp = versions.LOCAL_PATH
    return [
        Bundle(
            "local-path-provisioner", lp.bundles["install"], lp.version, LOCAL_PATH_FILES, patches
        )
    ]


def _class_view(cls: StorageClass) -> StorageClassView:
    if cls.driver is StorageDriver.NFS and cls.nfs is None:
        raise ValueError(f"storage class {cls.name}: nfs needs server and share")
    return StorageClassView(
        name=cls.name,
        is_default="true" if cls.default else "false",
        provisioner=PROVISIONERS[cls.driver],
        reclaim_policy=cls.reclaim_policy,
        binding_mode="WaitForFirstConsumer" if cls.driver in NODE_LOCAL else "Immediate",
        # Only the nfs driver takes parameters (validation refuses nfs elsewhere).
        nfs=cls.nfs if cls.driver is StorageDriver.NFS else None,
    )


def _local_volumes(cls: StorageClass) -> list[LocalVolumeView]:
    # The index keeps two volumes on one node apart.
    return [
        LocalVolumeView(
            name=f"{cls.name}-{vol.node}-{index}",
            node=vol.node,
            path=vol.path,
            capacity=vol.capacity,
            reclaim_policy=cls.reclaim_policy,
            storage_class=cls.name,
        )
        for index, vol in enumerate(cls.volumes)
    ]


def _local_path_config(classes: list[StorageClass]) -> Obj:
    """The provisioner's config.json: one provisioner serves every local-path
    class, each class has its directory (the default class's is the fallback)."""

    def path_map(path: str) -> list[Obj]:
        return [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [path]}]

    first = next((c for c in classes if c.default), classes[0])
    return {
        "nodePathMap": path_map(first.local_path),
        "storageClassConfigs": {c.name: {"nodePathMap": path_map(c.local_path)} for c in classes},
    }

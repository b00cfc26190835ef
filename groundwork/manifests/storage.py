"""Storage: provisioners per driver, static local PVs, and the StorageClasses.

- local-path: rancher's local-path-provisioner, the node directory from the
  class (`localPath`), WaitForFirstConsumer (the volume lives on one node).
- nfs: csi-driver-nfs (CSIDriver, controller Deployment, node DaemonSet),
  Immediate binding, `server`/`share` parameters.
- local-static: no provisioner; one PersistentVolume per declared volume
  with `local.path` and a nodeAffinity to its node, WaitForFirstConsumer.

Exactly one class is the default (validation guarantees it; `storage()`
checks it again because a cluster with two defaults picks at random).
"""

from __future__ import annotations

import json

from groundwork.manifests import versions
from groundwork.manifests.common import (
    CONTROL_PLANE_TOLERATIONS,
    TOLERATE_ALL,
    Obj,
    config_map,
    env_field,
    host_path,
    meta,
    mount,
    namespace,
    rbac,
    rule,
    workload,
)
from groundwork.plan import ClusterPlan
from groundwork.spec.model import ClusterSpec, StorageClass, StorageDriver

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
LOCAL_PATH_NS = "local-path-storage"
LOCAL_PATH_PROVISIONER = "rancher.io/local-path"
NFS_PROVISIONER = "nfs.csi.k8s.io"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
NFS_NS = "kube-system"

PROVISIONERS: dict[StorageDriver, str] = {
    StorageDriver.LOCAL_PATH: LOCAL_PATH_PROVISIONER,
    StorageDriver.NFS: NFS_PROVISIONER,
    StorageDriver.LOCAL_STATIC: NO_PROVISIONER,
}
NODE_LOCAL = frozenset({StorageDriver.LOCAL_PATH, StorageDriver.LOCAL_STATIC})


def storage(spec: ClusterSpec, _plan: ClusterPlan) -> list[Obj]:
    classes = spec.storage.classes
    defaults = [c.name for c in classes if c.default]
    if classes and len(defaults) != 1:
        raise ValueError(f"exactly one default StorageClass is required, got {defaults}")
    drivers = {c.driver for c in classes}
    out: list[Obj] = []
    local_paths = [c for c in classes if c.driver is StorageDriver.LOCAL_PATH]
    if local_paths:
        out += local_path_provisioner(local_paths)
    if StorageDriver.NFS in drivers:
        out += csi_driver_nfs()
    for cls in classes:
        out.append(storage_class(cls))
        if cls.driver is StorageDriver.LOCAL_STATIC:
            out += local_volumes(cls)
    return out


def storage_class(cls: StorageClass) -> Obj:
    obj: Obj = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            **meta(cls.name),
            "annotations": {DEFAULT_CLASS_ANNOTATION: "true" if cls.default else "false"},
        },
        "provisioner": PROVISIONERS[cls.driver],
        "reclaimPolicy": cls.reclaim_policy,
        "volumeBindingMode": "WaitForFirstConsumer" if cls.driver in NODE_LOCAL else "Immediate",
    }
    if cls.driver is StorageDriver.NFS:
        if cls.nfs is None:
            raise ValueError(f"storage class {cls.name}: nfs needs server and share")
        obj["parameters"] = {"server": cls.nfs.server, "share": cls.nfs.share}
        obj["mountOptions"] = ["nfsvers=4.1"]
    return obj


def local_volumes(cls: StorageClass) -> list[Obj]:
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": meta(f"{cls.name}-{vol.node}-{index}"),
            "spec": {
                "capacity": {"storage": vol.capacity},
                "accessModes": ["ReadWriteOnce"],
                "volumeMode": "Filesystem",
                "persistentVolumeReclaimPolicy": cls.reclaim_policy,
                "storageClassName": cls.name,
                "local": {"path": vol.path},
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "kubernetes.io/hostname",
                                        "operator": "In",
                                        "values": [vol.node],
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
        }
        for index, vol in enumerate(cls.volumes)
    ]


def local_path_config(classes: list[StorageClass]) -> Obj:
    """One provisioner serves every local-path class; each class has its directory."""

    def path_map(path: str) -> list[Obj]:
        return [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [path]}]

    first = next((c for c in classes if c.default), classes[0])
    return {
        "nodePathMap": path_map(first.local_path),
        "storageClassConfigs": {c.name: {"nodePathMap": path_map(c.local_path)} for c in classes},
    }


_SETUP = """#!/bin/sh
set -eu
mkdir -m 0777 -p "$VOL_DIR"
"""
_TEARDOWN = """#!/bin/sh
set -eu
rm -rf "$VOL_DIR"
"""
_HELPER_POD = """apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  priorityClassName: system-node-critical
  tolerations:
    - key: node.kubernetes.io/disk-pressure
      operator: Exists
      effect: NoSchedule
  containers:
    - name: helper-pod
      image: %s
      imagePullPolicy: IfNotPresent
"""


def local_path_provisioner(classes: list[StorageClass]) -> list[Obj]:
    rules = [
        rule(
            [""],
            ["nodes", "persistentvolumeclaims", "configmaps", "pods", "pods/log"],
            ["get", "list", "watch"],
        ),
        rule(
            [""],
            ["persistentvolumes", "pods"],
            ["get", "list", "watch", "create", "patch", "update", "delete"],
        ),
        rule([""], ["events"], ["create", "patch"]),
        rule(["storage.k8s.io"], ["storageclasses"], ["get", "list", "watch"]),
        rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"]),
    ]
    pod: Obj = {
        "serviceAccountName": "local-path-provisioner-service-account",
        "tolerations": CONTROL_PLANE_TOLERATIONS,
        "containers": [
            {
                "name": "local-path-provisioner",
                "image": versions.LOCAL_PATH.image("provisioner"),
                "command": [
                    "local-path-provisioner",
                    "--debug",
                    "start",
                    "--config",
                    "/etc/config/config.json",
                ],
                "env": [env_field("POD_NAMESPACE", "metadata.namespace")],
                "volumeMounts": [mount("config-volume", "/etc/config/")],
            }
        ],
        "volumes": [{"name": "config-volume", "configMap": {"name": "local-path-config"}}],
    }
    sa = "local-path-provisioner-service-account"
    objs = rbac(sa, LOCAL_PATH_NS, rules)
    return [
        namespace(LOCAL_PATH_NS, **{"pod-security.kubernetes.io/enforce": "privileged"}),
        *objs,
        config_map(
            "local-path-config",
            LOCAL_PATH_NS,
            {
                "config.json": json.dumps(local_path_config(classes), indent=2),
                "setup": _SETUP,
                "teardown": _TEARDOWN,
                "helperPod.yaml": _HELPER_POD % versions.LOCAL_PATH.image("helper"),
            },
        ),
        workload("Deployment", "local-path-provisioner", LOCAL_PATH_NS, pod, replicas=1),
    ]


def csi_driver_nfs() -> list[Obj]:
    nfs = versions.CSI_NFS
    socket_dir = "/csi"
    controller_rules = [
        rule([""], ["persistentvolumes"], ["get", "list", "watch", "create", "delete"]),
        rule([""], ["persistentvolumeclaims"], ["get", "list", "watch", "update"]),
        rule(["storage.k8s.io"], ["storageclasses", "csinodes"], ["get", "list", "watch"]),
        rule([""], ["events"], ["get", "list", "watch", "create", "update", "patch"]),
        rule([""], ["nodes", "secrets"], ["get", "list", "watch"]),
        rule(
            ["coordination.k8s.io"],
            ["leases"],
            ["get", "list", "watch", "create", "update", "patch"],
        ),
    ]
    node_args = ["-v=2", "--nodeid=$(NODE_ID)", "--endpoint=$(CSI_ENDPOINT)"]
    nfs_env = [
        env_field("NODE_ID", "spec.nodeName"),
        {"name": "CSI_ENDPOINT", "value": f"unix://{socket_dir}/csi.sock"},
    ]
    # The NFS plugin container is the same in the controller and on every node.
    nfs_container: Obj = {
        "name": "nfs",
        "image": nfs.image("nfs"),
        "args": node_args,
        "env": nfs_env,
        "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
        "volumeMounts": [
            mount("socket-dir", socket_dir),
            {
                **mount("pods-mount-dir", "/var/lib/kubelet/pods"),
                "mountPropagation": "Bidirectional",
            },
        ],
    }
    controller_pod: Obj = {
        "serviceAccountName": "csi-nfs-controller-sa",
        "hostNetwork": True,
        "priorityClassName": "system-cluster-critical",
        "tolerations": CONTROL_PLANE_TOLERATIONS,
        "containers": [
            {
                "name": "csi-provisioner",
                "image": nfs.image("provisioner"),
                "args": [
                    "-v=2",
                    "--csi-address=$(ADDRESS)",
                    "--leader-election",
                    "--extra-create-metadata=true",
                ],
                "env": [{"name": "ADDRESS", "value": f"{socket_dir}/csi.sock"}],
                "volumeMounts": [mount("socket-dir", socket_dir)],
            },
            nfs_container,
        ],
        "volumes": [
            {"name": "socket-dir", "emptyDir": {}},
            host_path("pods-mount-dir", "/var/lib/kubelet/pods", "Directory"),
        ],
    }
    plugin_dir = "/var/lib/kubelet/plugins/csi-nfsplugin"
    node_pod: Obj = {
        "serviceAccountName": "csi-nfs-node-sa",
        "hostNetwork": True,
        "dnsPolicy": "ClusterFirstWithHostNet",
        "priorityClassName": "system-node-critical",
        "tolerations": TOLERATE_ALL,
        "containers": [
            {
                "name": "node-driver-registrar",
                "image": nfs.image("registrar"),
                "args": [
                    "--v=2",
                    f"--csi-address={socket_dir}/csi.sock",
                    f"--kubelet-registration-path={plugin_dir}/csi.sock",
                ],
                "volumeMounts": [
                    mount("socket-dir", socket_dir),
                    mount("registration-dir", "/registration"),
                ],
            },
            nfs_container,
        ],
        "volumes": [
            host_path("socket-dir", plugin_dir, "DirectoryOrCreate"),
            host_path("pods-mount-dir", "/var/lib/kubelet/pods", "Directory"),
            host_path("registration-dir", "/var/lib/kubelet/plugins_registry", "Directory"),
        ],
    }
    return [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": meta(NFS_PROVISIONER),
            "spec": {
                "attachRequired": False,
                "volumeLifecycleModes": ["Persistent"],
                "fsGroupPolicy": "File",
            },
        },
        *rbac("csi-nfs-controller-sa", NFS_NS, controller_rules),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("csi-nfs-node-sa", NFS_NS)},
        workload("Deployment", "csi-nfs-controller", NFS_NS, controller_pod, replicas=1),
        workload("DaemonSet", "csi-nfs-node", NFS_NS, node_pod),
    ]

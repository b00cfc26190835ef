"""Kernel modules to load and sysctls to set on every kubelet node, and why;
and the filesystems every kubelet node's kernel must be able to mount.

Each entry carries its reason so the Ansible role can write it as a comment
next to the setting in /etc/modules-load.d and /etc/sysctl.d. The
filesystems are only checked (by the pre-flight, groundwork/preflight.py):
a kernel without one is refused before any change, never loaded for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from groundwork.spec.model import (
    IPIP_BACKENDS,
    VXLAN_BACKENDS,
    Backend,
    KubeProxyMode,
    Plugin,
    StorageDriver,
)
from groundwork.spec.problems import path_of

# Kernel config symbols of modules whose name does not map by upper-casing:
# a module built into the kernel shows as CONFIG_<symbol>=y, not in
# /proc/modules. Read by the node probe (through the inventory) and by the
# node checks.
KCONFIG_SYMBOLS: dict[str, str] = {
    "overlay": "OVERLAY_FS",
    "br_netfilter": "BRIDGE_NETFILTER",
    "ip_tables": "IP_NF_IPTABLES",
    "iptable_nat": "IP_NF_NAT",
    "iptable_filter": "IP_NF_FILTER",
    "xt_set": "NETFILTER_XT_SET",
    "ipip": "NET_IPIP",
}


def kconfig_symbol(module: str) -> str:
    """The CONFIG_<symbol> that builds `module` into the kernel."""
    return KCONFIG_SYMBOLS.get(module, module.upper())


@dataclass(frozen=True)
class KernelModule:
    name: str
    reason: str

    @property
    def kconfig(self) -> str:
        return kconfig_symbol(self.name)


@dataclass(frozen=True)
class Sysctl:
    key: str  # may be a sysctl.d glob (net.ipv4.conf.lxc*.rp_filter): write a file
    value: str
    reason: str


@dataclass(frozen=True)
class KernelFilesystem:
    """A filesystem the kernel of every kubelet node must mount, and the stack
    field that asks for it (the pre-flight's refusal names that field)."""

    name: str  # as /proc/filesystems lists it, and the module that provides it
    field: str  # e.g. cluster.storage.classes[1].driver
    reason: str


_ALWAYS_MODULES = (
    KernelModule("overlay", "containerd's overlayfs snapshotter"),
    KernelModule(
        "br_netfilter",
        "bridged pod traffic must pass netfilter so Service NAT works between pods "
        "on one node; also creates the net.bridge.* sysctls",
    ),
    KernelModule("nf_conntrack", "Service NAT and kube-proxy's conntrack tuning"),
    KernelModule("veth", "the pair linking each pod to the node"),
)

_KUBE_PROXY_MODULES: dict[KubeProxyMode, tuple[KernelModule, ...]] = {
    KubeProxyMode.NFTABLES: (KernelModule("nf_tables", "kube-proxy nftables mode"),),
    KubeProxyMode.IPTABLES: (
        KernelModule("ip_tables", "kube-proxy iptables mode"),
        KernelModule("iptable_nat", "kube-proxy iptables mode: Service DNAT"),
        KernelModule("iptable_filter", "kube-proxy iptables mode: filter rules"),
    ),
    KubeProxyMode.IPVS: tuple(
        KernelModule(name, f"kube-proxy ipvs mode ({what})")
        for name, what in (
            ("ip_vs", "virtual servers"),
            ("ip_vs_rr", "round robin"),
            ("ip_vs_wrr", "weighted round robin"),
            ("ip_vs_sh", "source hashing"),
        )
    ),
    KubeProxyMode.NONE: (),
}


def _backend_modules(plugin: Plugin, backend: Backend) -> list[KernelModule]:
    out: list[KernelModule] = []
    if backend is Backend.MACVLAN:
        out.append(KernelModule("macvlan", "pods' macvlan devices on the node's interface"))
    elif plugin in {Plugin.BRIDGE, Plugin.FLANNEL}:
        out.append(KernelModule("bridge", "the CNI bridge (cni0) pods attach to"))
    if backend in VXLAN_BACKENDS:
        out.append(KernelModule("vxlan", f"{plugin.value} VXLAN tunnels"))
    if backend is Backend.GENEVE:
        out.append(KernelModule("geneve", "cilium Geneve tunnels"))
    if backend in IPIP_BACKENDS:
        out.append(KernelModule("ipip", f"{plugin.value} IP-in-IP tunnels (tunl0)"))
    if backend is Backend.WIREGUARD:
        out.append(KernelModule("wireguard", "flannel WireGuard tunnels"))
    if plugin in {Plugin.CALICO, Plugin.KUBE_ROUTER}:
        out.append(KernelModule("ip_set", f"{plugin.value} network policy ipsets"))
        out.append(KernelModule("xt_set", f"{plugin.value} network policy ipset matches"))
    return out


def kernel_modules(
    plugin: Plugin, backend: Backend, kube_proxy: KubeProxyMode
) -> tuple[KernelModule, ...]:
    return (*_ALWAYS_MODULES, *_KUBE_PROXY_MODULES[kube_proxy], *_backend_modules(plugin, backend))


_ALWAYS_SYSCTLS = (
    Sysctl("net.ipv4.ip_forward", "1", "nodes route pod traffic"),
    Sysctl(
        "net.bridge.bridge-nf-call-iptables",
        "1",
        "bridged IPv4 pod traffic passes netfilter (Service NAT between pods on one node)",
    ),
    Sysctl("net.bridge.bridge-nf-call-ip6tables", "1", "the same for IPv6 (dual-stack later)"),
    Sysctl(
        "fs.inotify.max_user_instances", "8192", "kubelet, containerd and pods watch many files"
    ),
    Sysctl(
        "fs.inotify.max_user_watches", "524288", "kubelet, containerd and pods watch many files"
    ),
    # kubelet's protectKernelDefaults (set by the kubelet role) refuses to
    # start unless these hold; kubelet would otherwise change them itself.
    Sysctl("vm.overcommit_memory", "1", "kubelet expects it (protectKernelDefaults)"),
    Sysctl("vm.panic_on_oom", "0", "kubelet expects it: the OOM killer, not a panic"),
    Sysctl("kernel.panic", "10", "kubelet expects it: reboot 10 s after a panic"),
    Sysctl("kernel.panic_on_oops", "1", "kubelet expects it"),
    Sysctl("kernel.keys.root_maxkeys", "1000000", "kubelet expects it (one keyring per container)"),
    Sysctl("kernel.keys.root_maxbytes", "25000000", "kubelet expects it"),
)


def sysctls(plugin: Plugin, backend: Backend, kube_proxy: KubeProxyMode) -> tuple[Sysctl, ...]:
    out = list(_ALWAYS_SYSCTLS)
    if plugin is Plugin.CALICO:
        out.append(
            Sysctl(
                "net.ipv4.conf.all.rp_filter",
                "1",
                "calico's felix refuses loose reverse-path filtering (2, systemd's default)",
            )
        )
    if plugin is Plugin.CILIUM:
        out.append(
            Sysctl(
                "net.ipv4.conf.lxc*.rp_filter",
                "0",
                "systemd sets rp_filter=2 on new interfaces, which drops cilium's pod traffic",
            )
        )
    if kube_proxy is KubeProxyMode.IPVS:
        out.append(Sysctl("net.ipv4.vs.conntrack", "1", "ipvs connections are NATed by netfilter"))
    return tuple(out)


# The filesystem each storage driver's volumes are mounted with, on the node
# of the pod that claims them. csi-driver-nfs's node plugin runs on every
# kubelet node (it tolerates every taint), and the kernel of the pod's node
# does the mount: a kernel without an NFS client fails it only when a pod
# first claims a volume, long after `up` said the cluster was ready.
# local-path and local-static volumes are directories: no filesystem to mount.
_DRIVER_FILESYSTEMS: dict[StorageDriver, str] = {StorageDriver.NFS: "nfs"}


def kernel_filesystems(
    classes: Sequence[tuple[str, StorageDriver]],
) -> tuple[KernelFilesystem, ...]:
    """One entry per storage class (name, driver) whose volumes the kernel mounts."""
    return tuple(
        KernelFilesystem(
            _DRIVER_FILESYSTEMS[driver],
            path_of(("storage", "classes", i, "driver")),
            f"storage class {name}",
        )
        for i, (name, driver) in enumerate(classes)
        if driver in _DRIVER_FILESYSTEMS
    )

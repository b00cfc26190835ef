"""What goes into the lab: the node image's packages and the mirror's packages.

Kept in one place so the roles can extend the mirror without touching the
mirror code: add a Debian package name to MIRROR_PACKAGES and the next
`lab up` rebuilds the mirror (the list is part of its cache key).
"""

from __future__ import annotations

DEBIAN_SUITE = "bookworm"

# Installed in the node image by debootstrap. Beyond a booting systemd with
# sshd, Ansible needs python3 (and python3-apt for its apt module) and sudo.
IMAGE_PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "sudo",
    "iproute2",
    "ca-certificates",
)

# Served by the lab's offline apt repository, with their whole dependency
# closure, so nodes can install them with no route out of the host.
# containerd, runc, the CNI plugins and etcd are not among them: the mirror
# serves the ones built from their Go modules (groundwork/build).
MIRROR_PACKAGES: tuple[str, ...] = (
    "haproxy",
    "keepalived",
    "iptables",
    "nftables",
    "chrony",
    "conntrack",
    "socat",
    "ipset",
    "ebtables",
    "curl",
    "nfs-common",
    "bird2",
    "kmod",
    "procps",
    "iputils-ping",
    "netcat-openbsd",
    "python3-apt",
)

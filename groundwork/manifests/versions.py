"""Every in-cluster addon version Groundwork installs, in one table.

Bumping an addon is one line here. These are the newest releases known to
this code base (late 2026); check upstream before a production rollout.

Images are pulled by the cluster's container runtime (through the stack's
registry mirrors), not by Groundwork, so no checksum is verified here.
Digests are not pinned: an image reference may carry `@sha256:...` once the
user copies the digest from the upstream release; Groundwork never invents
one. `Addon.image(...)` returns the tag, or `tag@digest` when pinned.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Addon:
    name: str
    version: str  # the upstream release tag
    images: dict[str, str]  # role -> repository:tag
    digests: dict[str, str] = field(default_factory=dict)  # role -> sha256:..., when pinned
    bundles: dict[str, str] = field(default_factory=dict)  # name -> upstream manifest URL

    def image(self, role: str) -> str:
        ref = self.images[role]
        digest = self.digests.get(role)
        return f"{ref}@{digest}" if digest else ref


# Built here (components/flannel, components/flannel-cni). The CNI plugin is
# the one of containernetworking/plugins v0.9.1, the last release carrying
# it: upstream's newer flannel-cni-plugin (github.com/flannel-io/cni-plugin)
# is not served by the module proxy, so the image is tagged with the release
# it is built from.
FLANNEL = Addon(
    "flannel",
    "v0.28.10",
    {
        "flannel": "ghcr.io/flannel-io/flannel:v0.28.10",
        "cni-plugin": "ghcr.io/flannel-io/flannel-cni-plugin:v0.9.1",
    },
    bundles={
        # Read from the module components/flannel pins, patched (groundwork.manifests.cni.flannel).
        "install": "https://raw.githubusercontent.com/flannel-io/flannel/v0.28.10/Documentation/kube-flannel.yml",
    },
)

CALICO = Addon(
    "calico",
    "v3.31.0",
    # The operator's own image (quay.io/tigera/operator:v1.40.0) is inside the bundle;
    # the operator pulls the calico images of its release.
    {"operator": "quay.io/tigera/operator:v1.40.0"},
    bundles={
        # CRDs of operator.tigera.io and crd.projectcalico.org, then the operator.
        "crds": "https://raw.githubusercontent.com/projectcalico/calico/v3.31.0/manifests/operator-crds.yaml",
        "operator": "https://raw.githubusercontent.com/projectcalico/calico/v3.31.0/manifests/tigera-operator.yaml",
    },
)

CILIUM = Addon(
    "cilium",
    "v1.18.3",
    {
        "agent": "quay.io/cilium/cilium:v1.18.3",
        "operator": "quay.io/cilium/operator-generic:v1.18.3",
    },
)

KUBE_ROUTER = Addon(
    "kube-router", "v2.6.1", {"kube-router": "docker.io/cloudnativelabs/kube-router:v2.6.1"}
)

# The provisioner and CoreDNS: the versions the lab builds from their modules
# (components/local-path-provisioner, components/coredns).
LOCAL_PATH = Addon(
    "local-path-provisioner",
    "v0.0.30",
    {
        "provisioner": "docker.io/rancher/local-path-provisioner:v0.0.30",
        "helper": "docker.io/library/busybox:1.37",
    },
    bundles={
        # Read from the module components/local-path-provisioner pins, patched
        # (groundwork.manifests.storage).
        "install": "https://raw.githubusercontent.com/rancher/local-path-provisioner/v0.0.30/deploy/local-path-storage.yaml",
    },
)

CSI_NFS = Addon(
    "csi-driver-nfs",
    "v4.12.0",
    {
        "nfs": "registry.k8s.io/sig-storage/nfsplugin:v4.12.0",
        "provisioner": "registry.k8s.io/sig-storage/csi-provisioner:v5.3.0",
        "registrar": "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.15.0",
        "liveness": "registry.k8s.io/sig-storage/livenessprobe:v2.17.0",
    },
)

METALLB = Addon(
    "metallb",
    "v0.15.2",
    {
        "controller": "quay.io/metallb/controller:v0.15.2",
        "speaker": "quay.io/metallb/speaker:v0.15.2",
    },
    bundles={
        # CRDs, controller, speaker, webhook and its certificate rotation.
        "native": "https://raw.githubusercontent.com/metallb/metallb/v0.15.2/config/manifests/metallb-native.yaml",
    },
)

KUBE_VIP = Addon(
    "kube-vip",
    "v1.0.1",
    {
        "kube-vip": "ghcr.io/kube-vip/kube-vip:v1.0.1",
        "cloud-provider": "ghcr.io/kube-vip/kube-vip-cloud-provider:v0.0.12",
    },
)

GATEWAY_API = Addon(
    "gateway-api",
    "v1.4.0",
    {},
    bundles={
        "standard": "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.0/standard-install.yaml",
    },
)

ENVOY_GATEWAY = Addon(
    "envoy-gateway",
    "v1.6.0",
    {"envoy-gateway": "docker.io/envoyproxy/gateway:v1.6.0"},
    bundles={
        # The Gateway API CRDs of the matching release, Envoy Gateway's CRDs, the
        # controller, its RBAC and the certgen Job that creates its xDS certificates.
        "install": "https://github.com/envoyproxy/gateway/releases/download/v1.6.0/install.yaml",
    },
)

# Built from its module in the lab (components/traefik), whose go.sum also
# pins GATEWAY_API's CRDs at the version above.
TRAEFIK = Addon("traefik", "v3.6.12", {"traefik": "docker.io/library/traefik:v3.6.12"})

COREDNS = Addon("coredns", "v1.14.7", {"coredns": "registry.k8s.io/coredns/coredns:v1.14.7"})

# CoreDNS's objects are Kubernetes' own DNS addon file, in the kubernetes
# module components/kubernetes pins (its version, not CoreDNS's), patched
# (groundwork.manifests.coredns).
KUBERNETES_DNS = Addon(
    "kubernetes-dns",
    "v1.36.3",
    {},
    bundles={
        "coredns": "https://raw.githubusercontent.com/kubernetes/kubernetes/v1.36.3/cluster/addons/dns/coredns/coredns.yaml.base",
    },
)

# Kubernetes' e2e test server, built from the kubernetes module: the tag is
# that module's test/images/agnhost/VERSION (the lab's registry serves it).
AGNHOST = Addon("agnhost", "2.63.0", {"agnhost": "registry.k8s.io/e2e-test-images/agnhost:2.63.0"})

ALL: tuple[Addon, ...] = (
    FLANNEL,
    CALICO,
    CILIUM,
    KUBE_ROUTER,
    LOCAL_PATH,
    CSI_NFS,
    METALLB,
    KUBE_VIP,
    GATEWAY_API,
    ENVOY_GATEWAY,
    TRAEFIK,
    COREDNS,
    KUBERNETES_DNS,
    AGNHOST,
)

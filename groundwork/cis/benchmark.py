"""What `groundwork cis` asks of kube-bench, derived without I/O (pure).

kube-bench's benchmark definitions (cfg/ of its pinned module) are written
for kubeadm: the components' flags in static-pod manifests under
/etc/kubernetes/manifests, kubeconfigs named scheduler.conf and so on. This
install runs each component as a systemd service whose unit holds its flags
(or names its configuration file), with its files where the roles put them.
Groundwork's override config tells kube-bench where those are, read from
the roles' defaults (`InstallPaths`); what kube-bench's own config cannot
say (etcd reads its settings from a YAML file, not from flags) is added to
the upstream checks as a second place to look (`ADAPTATIONS`), never
instead of the first. A check that cannot apply here is skipped by id with
its reason (`NOT_APPLICABLE`); each check that stays WARN has its reason in
`WARN_REASONS`. docs/security.md lists both.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from groundwork.spec import ClusterSpec, Role

# Where the roles install the systemd units (roles/*/tasks/main.yml).
UNIT_DIR = "/etc/systemd/system"

# kube-bench's targets (files of a benchmark folder), by what a node runs.
CONTROL_PLANE_TARGETS = ("master", "controlplane")
ETCD_TARGETS = ("etcd",)
KUBELET_TARGETS = ("node",)
# Cluster-wide (RBAC, pod security, namespaces: asked through the API): run
# once, on the first control-plane node.
CLUSTER_TARGETS = ("policies",)


class BenchmarkError(Exception):
    """kube-bench's definitions do not have what this install needs."""


@dataclass(frozen=True)
class InstallPaths:
    """Where this install keeps what the benchmark audits (the roles' defaults)."""

    kube_config_dir: str  # control_plane_config_dir: kubeconfigs, encryption, audit
    kube_pki_dir: str  # control_plane_pki_dir / node_pki_dir
    kubelet_dir: str  # node_kubelet_dir: config.yaml, kubeconfig
    kube_proxy_dir: str  # node_kube_proxy_dir: config.yaml, kubeconfig
    etcd_config_dir: str  # etcd_config_dir: etcd.conf.yml
    etcd_data_dir: str  # etcd_data_dir

    @property
    def etcd_config(self) -> str:
        return f"{self.etcd_config_dir}/etcd.conf.yml"


def install_paths(defaults: Mapping[str, Mapping[str, Any]]) -> InstallPaths:
    """The paths from the roles' defaults (role -> its defaults/main.yml);
    each must be a plain path, not a template."""

    def value(role: str, key: str) -> str:
        found = defaults.get(role, {}).get(key)
        if not isinstance(found, str) or not found.startswith("/") or "{" in found:
            raise BenchmarkError(f"roles/{role}/defaults/main.yml: {key} is not a plain path")
        return found.rstrip("/")

    kube_pki = value("control_plane", "control_plane_pki_dir")
    if value("node", "node_pki_dir") != kube_pki:
        raise BenchmarkError("control_plane_pki_dir and node_pki_dir differ")
    return InstallPaths(
        kube_config_dir=value("control_plane", "control_plane_config_dir"),
        kube_pki_dir=kube_pki,
        kubelet_dir=value("node", "node_kubelet_dir"),
        kube_proxy_dir=value("node", "node_kube_proxy_dir"),
        etcd_config_dir=value("etcd", "etcd_config_dir"),
        etcd_data_dir=value("etcd", "etcd_data_dir"),
    )


def _component(conf: str = "", **files: str) -> dict[str, Any]:
    """One component's files: kube-bench takes the first candidate that
    exists, else the default; one candidate each, so it audits ours."""
    out: dict[str, Any] = {}
    if conf:
        out["confs"] = [conf]
        out["defaultconf"] = conf
    for key, path in files.items():
        out[key] = [path]
        out[f"default{key}"] = path
    return out


def override_config(paths: InstallPaths) -> dict[str, Any]:
    """Groundwork's part of kube-bench's config.yaml: where each component's
    "pod specification" (its systemd unit, which holds its flags),
    kubeconfig, configuration file, CA file and data directory are."""
    etcd = {
        **_component(f"{UNIT_DIR}/etcd.service"),
        "datadirs": [paths.etcd_data_dir],
        "defaultdatadir": paths.etcd_data_dir,
    }
    return {
        "master": {
            "apiserver": _component(f"{UNIT_DIR}/kube-apiserver.service"),
            "scheduler": _component(
                f"{UNIT_DIR}/kube-scheduler.service",
                kubeconfig=f"{paths.kube_config_dir}/kube-scheduler.conf",
            ),
            "controllermanager": _component(
                f"{UNIT_DIR}/kube-controller-manager.service",
                kubeconfig=f"{paths.kube_config_dir}/kube-controller-manager.conf",
            ),
            "etcd": etcd,
        },
        "node": {
            "kubelet": _component(
                f"{paths.kubelet_dir}/config.yaml",
                svc=f"{UNIT_DIR}/kubelet.service",
                kubeconfig=f"{paths.kubelet_dir}/kubeconfig",
                cafile=f"{paths.kube_pki_dir}/ca.crt",
            ),
            "proxy": _component(
                f"{paths.kube_proxy_dir}/config.yaml",
                svc=f"{UNIT_DIR}/kube-proxy.service",
                kubeconfig=f"{paths.kube_proxy_dir}/kubeconfig",
            ),
        },
        "etcd": {"etcd": etcd},
    }


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override` laid over it: mappings merge key by key, any
    other value (a list of candidates too) is replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.removeprefix("v").split(".")[:2]
    return int(major), int(minor)


def benchmark_for(version_mapping: Mapping[str, str], kubernetes: str) -> tuple[str, str]:
    """(benchmark, the Kubernetes minor it was mapped from) for a release, as
    kube-bench maps versions (cfg/config.yaml's version_mapping): the
    release's minor, else the nearest older minor it names."""
    major, minor = _minor(kubernetes)
    for older in range(minor, 0, -1):
        found = version_mapping.get(f"{major}.{older}")
        if found:
            return str(found), f"{major}.{older}"
    raise BenchmarkError(f"kube-bench maps no benchmark to Kubernetes {major}.{minor} or older")


def node_targets(spec: ClusterSpec, node: str) -> tuple[str, ...]:
    """kube-bench's targets for a node, by what it runs (the benchmark's
    order: master, controlplane, etcd, node, policies)."""
    found = next(n for n in spec.nodes if n.name == node)
    first_control_plane = next((n.name for n in spec.nodes if n.has(Role.CONTROL_PLANE)), "")
    targets: list[str] = []
    if found.has(Role.CONTROL_PLANE):
        targets += CONTROL_PLANE_TARGETS
    if found.has(Role.ETCD):
        targets += ETCD_TARGETS
    if found.has(Role.CONTROL_PLANE) or found.has(Role.WORKER):
        targets += KUBELET_TARGETS
    if node == first_control_plane:
        targets += CLUSTER_TARGETS
    return tuple(targets)


# Checks that audit a flag this install keeps in a configuration file: each
# test item also reads the same setting at `path` of the file `audit_config`
# prints (kube-bench's own mechanism for the kubelet's config.yaml). The
# flag on the command line still counts first. id -> (audit_config, flag ->
# JSONPath in that file).
def adaptations(paths: InstallPaths) -> dict[str, tuple[str, dict[str, str]]]:
    etcd = f"/bin/cat {paths.etcd_config}"
    return {
        # etcd reads --config-file only (its flags and environment are then
        # ignored): the TLS settings are in etcd.conf.yml.
        "2.1": (
            etcd,
            {
                "--cert-file": "{.client-transport-security.cert-file}",
                "--key-file": "{.client-transport-security.key-file}",
            },
        ),
        "2.2": (etcd, {"--client-cert-auth": "{.client-transport-security.client-cert-auth}"}),
        "2.3": (etcd, {"--auto-tls": "{.client-transport-security.auto-tls}"}),
        "2.4": (
            etcd,
            {
                "--peer-cert-file": "{.peer-transport-security.cert-file}",
                "--peer-key-file": "{.peer-transport-security.key-file}",
            },
        ),
        "2.5": (
            etcd,
            {"--peer-client-cert-auth": "{.peer-transport-security.client-cert-auth}"},
        ),
        "2.6": (etcd, {"--peer-auto-tls": "{.peer-transport-security.auto-tls}"}),
        "2.7": (etcd, {"--trusted-ca-file": "{.client-transport-security.trusted-ca-file}"}),
        # Upstream's check reads kube-proxy's kubeconfig for metricsBindAddress,
        # which a kubeconfig never has (so it always passes): read the
        # configuration file that does.
        "4.3.1": (
            f"/bin/cat {paths.kube_proxy_dir}/config.yaml",
            {"--metrics-bind-address": "{.metricsBindAddress}"},
        ),
    }


def adapt_controls(
    controls: Mapping[str, Any], changes: Mapping[str, tuple[str, Mapping[str, str]]]
) -> dict[str, Any]:
    """A benchmark file's controls with the `changes` to its checks applied
    (a copy; changes to checks of other files are left). A change whose check
    has no test item of a named flag is refused, so a new benchmark release
    cannot drop an adaptation silently."""
    out = copy.deepcopy(dict(controls))
    for group in out.get("groups") or []:
        for check in group.get("checks") or []:
            check_id = str(check.get("id"))
            if check_id not in changes:
                continue
            audit_config, flag_paths = changes[check_id]
            check["audit_config"] = audit_config
            missing = set(flag_paths)
            for item in (check.get("tests") or {}).get("test_items") or []:
                flag = item.get("flag")
                if flag in flag_paths:
                    item["path"] = flag_paths[flag]
                    missing.discard(flag)
            if missing:
                raise BenchmarkError(
                    f"check {check_id} of the benchmark has no test of {', '.join(sorted(missing))}"
                )
    return out


# Checks that cannot apply to this install: kube-bench skips them (INFO),
# and the reason is printed with them.
NOT_APPLICABLE: dict[str, str] = {
    "4.2.10": (
        "the kubelet's client certificate is Groundwork's, issued from the stack's PKI and "
        "re-issued by `up` 30 days before it expires (`certs renew` at will; `verify` fails "
        "under 30 days): rotateCertificates stays false so the kubelet does not replace it "
        "with one the PKI does not know"
    ),
}

# Why each check that stays WARN here does: a manual check (the benchmark
# asks a person to judge it) or a recommendation this install does not take.
_MANUAL = "a manual check: the benchmark asks a person to judge it, kube-bench cannot"
_POLICY = (
    "a manual check of the cluster's workloads and RBAC, which are the site's own: judge "
    "it for your workloads (some of kube-bench's audits need bash and jq; they run under "
    "/bin/sh, dash on Debian, and the nodes have no jq)"
)
WARN_REASONS: dict[str, str] = {
    "1.1.9": (
        "the host-local IPAM plugin's empty lock file under /var/lib/cni/networks, which "
        "the CNI plugin creates 0750 itself (its address reservations are 0600); the CNI "
        "configuration the network role writes in /etc/cni/net.d is 0600"
    ),
    "1.2.3": (
        "DenyServiceExternalIPs is not enabled: it refuses every Service with "
        "spec.externalIPs, which a site may use; add it with "
        "control_plane_apiserver_extra_args (enable-admission-plugins) where none does"
    ),
    "1.2.9": (
        "EventRateLimit is not enabled: it needs an admission configuration sized to the "
        "site's event rate (an alpha API, eventratelimit.admission.k8s.io/v1alpha1)"
    ),
    "1.2.11": (
        "AlwaysPullImages is not enabled: every pod start would then need the registry "
        "(an air-gapped site's mirror), and pods could not restart while it is down"
    ),
    "1.2.20": _MANUAL + " (--request-timeout keeps upstream's 60 s)",
    "1.3.1": (
        "--terminated-pod-gc-threshold keeps upstream's 12500: the benchmark asks for a "
        "value chosen for the site"
    ),
    "3.1.1": _MANUAL + " (people get admin kubeconfigs with client certificates: "
    "`groundwork kubeconfig`)",
    "3.1.2": _MANUAL,
    "3.1.3": _MANUAL,
    "3.2.2": _MANUAL + " (the audit policy is roles/control_plane/templates/audit-policy.yaml.j2)",
    "4.2.7": (
        "--hostname-override is set: the Node is named as the stack names it, which need "
        "not be the machine's hostname (kube-proxy's hostnameOverride matches it)"
    ),
    "4.2.15": (
        "IPAddressDeny is a systemd setting the benchmark looks for in the kubelet's "
        "configuration file, where it cannot be; the kubelet must reach the API, the "
        "runtime and every pod, so it is not restricted by address"
    ),
    **{
        check_id: _POLICY
        for check_id in (
            "5.1.1",
            "5.1.2",
            "5.1.3",
            "5.1.4",
            "5.1.5",
            "5.1.6",
            "5.1.7",
            "5.1.8",
            "5.1.9",
            "5.1.10",
            "5.1.11",
            "5.1.12",
            "5.1.13",
            "5.2.1",
            "5.2.2",
            "5.2.3",
            "5.2.4",
            "5.2.5",
            "5.2.6",
            "5.2.7",
            "5.2.8",
            "5.2.9",
            "5.2.10",
            "5.2.11",
            "5.2.12",
            "5.2.13",
            "5.3.1",
            "5.3.2",
            "5.4.1",
            "5.4.2",
            "5.5.1",
            "5.6.1",
            "5.6.2",
            "5.6.3",
            "5.6.4",
        )
    },
}


def skip_ids(targets: Iterable[str], checks_by_target: Mapping[str, Iterable[str]]) -> list[str]:
    """The NOT_APPLICABLE ids among the checks of these targets."""
    present = {c for t in targets for c in checks_by_target.get(t, ())}
    return sorted((c for c in NOT_APPLICABLE if c in present), key=check_sort_key)


def check_sort_key(check_id: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in check_id.split("."))

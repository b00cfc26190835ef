"""What the control_plane and node roles write, rendered for every stack.

The role templates are rendered with Ansible's own templating engine (the
one the `template` module uses: same filters, lookups and trim_blocks),
with the role defaults, the inventory variables groundwork/inventory and
groundwork/plan/kube_config_vars.py produce for the stack, a real PKI made
by groundwork.pki, and each template task's own `vars`. So these tests see
the bytes a node would get.

systemd units are checked with `systemd-analyze verify`; it needs the
ExecStart binary to exist and be executable, so units are rendered with
the binary directory pointed at a temporary directory of stand-ins (the only
difference from what a node gets). Where systemd-analyze is missing, a strict
parse of the unit stands in.
"""

from __future__ import annotations

import base64
import configparser
import dataclasses
import functools
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template
from cryptography import x509
from cryptography.x509.oid import NameOID

from groundwork import versions
from groundwork.inventory import Connection, group_vars, hosts
from groundwork.pki import ensure_pki
from groundwork.plan import ClusterPlan, build_plan
from groundwork.plan.kube_binaries import missing_kube_binaries, missing_message
from groundwork.plan.kube_config_vars import kube_binaries, kube_group_vars, kube_host_vars
from groundwork.spec import ClusterSpec, load_stack
from groundwork.spec.model import KubeProxyMode, Role

init_plugin_loader()

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
STACKS = ("lab", "dev", "prod")
FAKE_SHA = "ab" * 32
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


# --- rendering machinery -----------------------------------------------------


@dataclass
class Stack:
    name: str
    spec: ClusterSpec
    plan: ClusterPlan
    pki: Path
    group: dict[str, Any]
    hostvars: dict[str, dict[str, Any]]


@functools.cache
def _load(path: Path) -> Any:
    return DataLoader().load_from_file(str(path), trusted_as_template=True)


def _tasks(role: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = _load(ROLES / role / "tasks" / "main.yml")
    return tasks


FILTERS = ROOT / "plugins" / "filter" / "groundwork_filters.py"


@functools.cache
def _filters() -> dict[str, Any]:
    """The roles' own filters (plugins/filter), loaded as Ansible loads them."""
    spec = importlib.util.spec_from_file_location("gw_test_filters", FILTERS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    filters: dict[str, Any] = module.FilterModule().filters()
    return filters


def _file_entries(role: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(task, entry) for every literal file entry of the role's groundwork_files tasks."""
    return [
        (task, entry)
        for task in _tasks(role)
        for entry in (task.get("groundwork_files") or {}).get("files") or []
        if isinstance(entry, dict)
    ]


def file_entry(role: str, src: str, dest: str | None = None) -> dict[str, Any]:
    """The role's groundwork_files entry that renders template `src` (to a
    dest containing `dest`, when several entries render it)."""
    found = [
        entry
        for _, entry in _file_entries(role)
        if entry.get("template") == src and (dest is None or dest in str(entry["dest"]))
    ]
    assert len(found) == 1, f"{role}: expected one entry for {src}, got {len(found)}"
    return found[0]


def variables(stack: Stack, role: str, host: str, **extra: Any) -> dict[str, Any]:
    """Role defaults < inventory (group, then host) < role vars < entry vars,
    as Ansible layers them."""
    role_vars = ROLES / role / "vars" / "main.yml"
    return {
        **_load(ROLES / role / "defaults" / "main.yml"),
        **stack.group,
        **stack.hostvars[host],
        **(_load(role_vars) if role_vars.exists() else {}),
        "inventory_hostname": host,
        "role_path": str(ROLES / role),
        "ansible_managed": "Ansible managed",
        **extra,
    }


def templar(stack: Stack, role: str, host: str, **extra: Any) -> Templar:
    return Templar(loader=DataLoader(), variables=variables(stack, role, host, **extra))


def render(
    stack: Stack, role: str, src: str, host: str, *, dest: str | None = None, **extra: Any
) -> str:
    """Render the role template exactly as its groundwork_files entry would for `host`."""
    entry = file_entry(role, src, dest)
    entry_vars = templar(stack, role, host, **extra).template(entry.get("vars") or {})
    return render_template(stack, role, src, host, **extra, **entry_vars)


def render_template(stack: Stack, role: str, src: str, host: str, **extra: Any) -> str:
    engine = templar(stack, role, host, **extra)
    data = trust_as_template((ROLES / role / "templates" / src).read_text())
    out = engine.template(
        data, escape_backslashes=False, overrides={"trim_blocks": True, "lstrip_blocks": False}
    )
    assert isinstance(out, str)
    return out


def when(stack: Stack, role: str, task_name: str, host: str, **extra: Any) -> bool:
    """Whether the named task (in any of the role's task files) runs on the host."""
    tasks = [t for path in sorted((ROLES / role / "tasks").glob("*.yml")) for t in _load(path)]
    task = next(t for t in tasks if str(t["name"]) == task_name)
    condition = task["when"]
    conditions = condition if isinstance(condition, list) else [condition]
    engine = templar(stack, role, host, **extra)
    return all(engine.evaluate_conditional(c) for c in conditions)


def make_stack(name: str, base: Path) -> Stack:
    spec = load_stack(name)
    plan = build_plan(spec)
    pki = base / "pki"
    ensure_pki(pki, plan.certificates)
    group = group_vars(
        spec,
        plan,
        pki_dir=pki,
        release_sha256=dict.fromkeys(
            ("etcd", "containerd", "runc", "cni-plugins", "crictl"), FAKE_SHA
        ),
    )
    binaries = versions.KUBE_BINARIES
    group |= kube_group_vars(spec, plan, pki_dir=pki, checksums=dict.fromkeys(binaries, FAKE_SHA))
    connection = Connection(known_hosts=base / "known_hosts", lab_key=base / "lab_key")
    host_doc = hosts(spec, plan, connection)["all"]["hosts"]
    hostvars = {n: {**host_doc[n], **kube_host_vars(spec, n)} for n in host_doc}
    # The key exactly as the role makes it: its own script, on the "controller".
    key_file = Path(group["gw_encryption_key_file"])
    subprocess.run(
        [sys.executable, str(ROLES / "control_plane/files/encryption-key.py"), str(key_file)],
        check=True,
    )
    return Stack(name, spec, plan, pki, group, hostvars)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return {name: make_stack(name, tmp_path_factory.mktemp(f"stack-{name}")) for name in STACKS}


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest, stacks: dict[str, Stack]) -> Stack:
    return stacks[request.param]


def control_plane_hosts(stack: Stack) -> list[str]:
    return [n.name for n in stack.spec.nodes_with(Role.CONTROL_PLANE)]


def kubelet_hosts(stack: Stack) -> list[str]:
    return [n.name for n in stack.plan.nodes if n.runs_kubelet]


def parse(text: str) -> Any:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


# --- component configs ---------------------------------------------------------


def test_kubelet_configuration(stack: Stack) -> None:
    for host in kubelet_hosts(stack):
        config = parse(render(stack, "node", "kubelet-config.yaml.j2", host))
        assert config["apiVersion"] == "kubelet.config.k8s.io/v1beta1"
        assert config["kind"] == "KubeletConfiguration"
        assert config["clusterDNS"] == [str(stack.plan.network.cluster_dns_ip)]
        assert config["clusterDomain"] == stack.spec.kubernetes.cluster_domain
        assert config["cgroupDriver"] == stack.spec.container_runtime.cgroup_driver
        assert config["authentication"]["anonymous"]["enabled"] is False
        assert config["authentication"]["webhook"]["enabled"] is True
        assert config["authentication"]["x509"]["clientCAFile"] == "/etc/kubernetes/pki/ca.crt"
        assert config["authorization"]["mode"] == "Webhook"
        assert config["tlsCertFile"] == "/var/lib/kubelet/pki/kubelet.crt"
        assert config["tlsPrivateKeyFile"] == "/var/lib/kubelet/pki/kubelet.key"
        assert config["serializeImagePulls"] is False
        assert config["readOnlyPort"] == 0
        assert config["containerRuntimeEndpoint"] == "unix:///run/containerd/containerd.sock"
        # The lab's machines share the host kernel: they cannot set its sysctls.
        assert config["protectKernelDefaults"] is (stack.spec.lab is None)
        node = stack.plan.node(host)
        if stack.plan.network.plugin == "bridge":
            assert config["podCIDR"] == str(node.pod_subnet)
        else:
            assert "podCIDR" not in config
        expected_taints = [
            {"key": t.key, "value": t.value, "effect": t.effect}
            for t in stack.spec.node(host).taints
        ]
        assert config["registerWithTaints"] == expected_taints


def test_lab_kubelets_use_the_tenth_service_ip_for_dns(stacks: dict[str, Stack]) -> None:
    lab = stacks["lab"]
    for host in kubelet_hosts(lab):
        config = parse(render(lab, "node", "kubelet-config.yaml.j2", host))
        assert config["clusterDNS"] == ["10.96.0.10"]
    assert parse(render(lab, "node", "kubelet-config.yaml.j2", "w1"))["podCIDR"] == "10.244.21.0/24"


def test_prod_taints_and_labels_reach_the_kubelet(stacks: dict[str, Stack]) -> None:
    prod = stacks["prod"]
    config = parse(render(prod, "node", "kubelet-config.yaml.j2", "prod-w8"))
    assert config["registerWithTaints"] == [
        {"key": "dedicated", "value": "storage", "effect": "NoSchedule"}
    ]
    unit = render(prod, "node", "kubelet.service.j2", "prod-w8")
    assert (
        "--node-labels=groundwork.dev/storage=nfs-client,topology.kubernetes.io/zone=rack-b" in unit
    )


def test_kube_proxy_configuration(stack: Stack) -> None:
    for host in kubelet_hosts(stack):
        entry = file_entry("node", "kube-proxy-config.yaml.j2")
        enabled = templar(stack, "node", host).template(trust_as_template(entry["enabled"]))
        assert enabled is (stack.spec.kubernetes.kube_proxy.value != "none")
        config = parse(render(stack, "node", "kube-proxy-config.yaml.j2", host))
        assert config["apiVersion"] == "kubeproxy.config.k8s.io/v1alpha1"
        assert config["kind"] == "KubeProxyConfiguration"
        assert config["mode"] == stack.spec.kubernetes.kube_proxy.value
        assert config["clusterCIDR"] == str(stack.plan.network.pod_cidr)
        assert config["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig"
        assert config["hostnameOverride"] == host


def test_scheduler_configuration(stack: Stack) -> None:
    host = control_plane_hosts(stack)[0]
    config = parse(render(stack, "control_plane", "kube-scheduler.yaml.j2", host))
    assert config["apiVersion"] == "kubescheduler.config.k8s.io/v1"
    assert config["kind"] == "KubeSchedulerConfiguration"
    assert config["clientConnection"]["kubeconfig"] == "/etc/kubernetes/kube-scheduler.conf"
    assert config["leaderElection"]["leaderElect"] is True


def test_encryption_configuration(stack: Stack) -> None:
    host = control_plane_hosts(stack)[0]
    key_file = Path(stack.group["gw_encryption_key_file"])
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.parent.stat().st_mode & 0o777 == 0o700
    assert key_file.parent.parent == stack.pki.parent  # the stack's state dir
    config = parse(render(stack, "control_plane", "encryption-config.yaml.j2", host))
    assert config["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert config["kind"] == "EncryptionConfiguration"
    (entry,) = config["resources"]
    assert entry["resources"] == ["secrets"]
    first, last = entry["providers"][0], entry["providers"][-1]
    assert list(first) == ["secretbox"]
    (key,) = first["secretbox"]["keys"]
    assert len(base64.b64decode(key["secret"], validate=True)) == 32
    assert key["secret"] == key_file.read_text().strip()
    assert last == {"identity": {}}
    # Never in the inventory.
    assert key["secret"] not in yaml.safe_dump(stack.group) + yaml.safe_dump(stack.hostvars)
    # Mode 0600: groundwork_files never shows its content, not even under --diff.
    assert file_entry("control_plane", "encryption-config.yaml.j2")["mode"] == "0600"


def test_encryption_key_is_generated_once(tmp_path: Path) -> None:
    script = ROLES / "control_plane/files/encryption-key.py"
    key = tmp_path / "state" / "secrets" / "encryption-key"
    subprocess.run([sys.executable, str(script), str(key)], check=True)
    first = key.read_text()
    # The role runs it with `creates:`; even run again by hand it never replaces a key.
    again = subprocess.run([sys.executable, str(script), str(key)], capture_output=True)
    assert again.returncode != 0
    assert key.read_text() == first
    task = next(
        t
        for t in _tasks("control_plane")
        if str(t["name"]).startswith("Generate the Secrets encryption key")
    )
    assert task["ansible.builtin.command"]["creates"] == "{{ control_plane_encryption_key_file }}"
    assert task["delegate_to"] == "localhost" and task["run_once"] is True


def test_audit_policy(stack: Stack) -> None:
    host = control_plane_hosts(stack)[0]
    policy = parse(render(stack, "control_plane", "audit-policy.yaml.j2", host))
    assert policy["apiVersion"] == "audit.k8s.io/v1"
    assert policy["kind"] == "Policy"
    assert policy["omitStages"] == ["RequestReceived"]
    levels = {"None", "Metadata", "Request", "RequestResponse"}
    assert all(rule["level"] in levels for rule in policy["rules"])
    # The first rule naming Secrets logs them at Metadata: never their content.
    secrets_rule = next(
        r
        for r in policy["rules"]
        if any("secrets" in group.get("resources", []) for group in r.get("resources", []))
    )
    assert secrets_rule["level"] == "Metadata"
    assert policy["rules"].index(secrets_rule) < next(
        i for i, r in enumerate(policy["rules"]) if r["level"] in {"Request", "RequestResponse"}
    )
    assert policy["rules"][-1] == {"level": "Metadata"}


# --- kubeconfigs -----------------------------------------------------------------


def _kubeconfigs(stack: Stack) -> Iterator[tuple[str, str, str, str, str]]:
    """(host, file, expected user, mode, rendered text) for every kubeconfig the roles write."""
    make_entries = _filters()["kubeconfig_files"]
    for host in control_plane_hosts(stack):
        kubeconfigs = variables(stack, "control_plane", host)["control_plane_kubeconfigs"]
        for entry in make_entries(kubeconfigs, "/etc/kubernetes"):
            text = render_template(stack, "control_plane", "kubeconfig.j2", host, **entry["vars"])
            name = entry["dest"].rsplit("/", 1)[1]
            yield host, name, entry["vars"]["kubeconfig"]["user"], entry["mode"], text
    proxy = stack.spec.kubernetes.kube_proxy.value != "none"
    for host in kubelet_hosts(stack):
        entry = file_entry("node", "kubeconfig.j2", "kubelet")
        text = render(stack, "node", "kubeconfig.j2", host, dest="kubelet")
        yield host, "kubelet", f"system:node:{host}", entry["mode"], text
        if proxy:
            entry = file_entry("node", "kubeconfig.j2", "kube-proxy")
            text = render(stack, "node", "kubeconfig.j2", host, dest="kube-proxy")
            yield host, "kube-proxy", "system:kube-proxy", entry["mode"], text


def test_kubeconfigs_use_the_endpoint_and_embed_the_pki(stack: Stack) -> None:
    ca = (stack.pki / "ca.crt").read_bytes()
    seen = set()
    for host, file, user, mode, text in _kubeconfigs(stack):
        assert mode == "0600", (host, file)  # never shown, not even under --diff
        config = parse(text)
        assert config["apiVersion"] == "v1" and config["kind"] == "Config"
        (cluster,) = config["clusters"]
        assert cluster["cluster"]["server"] == stack.plan.endpoint.url, (host, file)
        assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == ca
        (entry,) = config["users"]
        assert entry["name"] == user
        cert = x509.load_pem_x509_certificate(
            base64.b64decode(entry["user"]["client-certificate-data"])
        )
        common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert common_name == user, (host, file)
        assert b"PRIVATE KEY" in base64.b64decode(entry["user"]["client-key-data"])
        (context,) = config["contexts"]
        assert config["current-context"] == context["name"]
        seen.add(file)
    expected = {"admin.conf", "kube-controller-manager.conf", "kube-scheduler.conf", "kubelet"}
    assert expected <= seen


def test_lab_endpoint_is_the_vip() -> None:
    assert build_plan(load_stack("lab")).endpoint.url == "https://10.77.0.10:6443"


# --- manifests -------------------------------------------------------------------


def test_kubelet_rbac_manifest_validates(stack: Stack) -> None:
    host = control_plane_hosts(stack)[0]
    doc = parse(render(stack, "control_plane", "kubelet-rbac.yaml.j2", host))
    minor = versions.kubernetes_minor(stack.plan.kubernetes_version)
    kubernetes_validate.validate(doc, f"{minor}.0", strict=True)
    assert doc["roleRef"]["name"] == "system:kubelet-api-admin"
    assert doc["subjects"][0]["name"] == "kube-apiserver-kubelet-client"


# --- systemd units -----------------------------------------------------------------


def _flags(unit: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.replace("\\\n", " "))
    exec_start = parser["Service"]["ExecStart"].split()
    assert exec_start[0].startswith("/"), exec_start[0]
    out: dict[str, str] = {}
    for arg in exec_start[1:]:
        assert arg.startswith("--"), arg
        key, _, value = arg[2:].partition("=")
        assert key not in out, f"--{key} given twice"
        out[key] = value
    return out


def _strict_parse(unit: str) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.replace("\\\n", " "))
    assert set(parser.sections()) == {"Unit", "Service", "Install"}
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    assert parser["Service"]["ExecStart"].startswith("/")


def _units(stack: Stack, bin_dir: Path) -> Iterator[tuple[str, str, str]]:
    """(host, unit file name, text) for every unit, binaries under `bin_dir`."""
    for host in control_plane_hosts(stack):
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            text = render(
                stack, "control_plane", f"{name}.service.j2", host, control_plane_bin_dir=bin_dir
            )
            yield host, f"{name}.service", text
    for host in kubelet_hosts(stack):
        yield (
            host,
            "kubelet.service",
            render(stack, "node", "kubelet.service.j2", host, node_bin_dir=bin_dir),
        )
        yield (
            host,
            "kube-proxy.service",
            render(stack, "node", "kube-proxy.service.j2", host, node_bin_dir=bin_dir),
        )


def test_units_verify(stack: Stack, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in versions.KUBE_BINARIES:
        stub = bin_dir / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    paths = []
    for host, file, text in _units(stack, bin_dir):
        _strict_parse(text)
        _flags(text)
        path = tmp_path / host / file
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        paths.append(path)
    if SYSTEMD_ANALYZE is None:
        pytest.skip("systemd-analyze is not installed: the strict parse above stands in")
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # Warnings (unknown keys, bad values) do not change the exit code.
    assert result.stderr == "", result.stderr


def test_apiserver_flags(stack: Stack) -> None:
    for host in control_plane_hosts(stack):
        flags = _flags(render(stack, "control_plane", "kube-apiserver.service.j2", host))
        address = str(stack.spec.node(host).address)
        assert flags["bind-address"] == address
        assert flags["advertise-address"] == address
        assert flags["secure-port"] == str(stack.plan.endpoint.apiserver_port)
        assert flags["etcd-servers"] == stack.plan.etcd.servers
        assert flags["etcd-certfile"].endswith("apiserver-etcd-client.crt")
        assert flags["etcd-keyfile"].endswith("apiserver-etcd-client.key")
        assert flags["etcd-cafile"] == "/etc/kubernetes/pki/etcd/ca.crt"
        assert flags["authorization-mode"] == "Node,RBAC"
        assert flags["anonymous-auth"] == "false"
        assert flags["service-account-key-file"].endswith("/sa.pub")
        assert flags["service-account-signing-key-file"].endswith("/sa.key")
        assert flags["service-account-issuer"] == (
            f"https://kubernetes.default.svc.{stack.spec.kubernetes.cluster_domain}"
        )
        assert flags["service-cluster-ip-range"] == str(stack.plan.network.service_cidr)
        assert flags["requestheader-allowed-names"] == "front-proxy-client"
        assert flags["proxy-client-cert-file"].endswith("front-proxy-client.crt")
        assert flags["encryption-provider-config"] == "/etc/kubernetes/encryption-config.yaml"
        assert flags["audit-policy-file"] == "/etc/kubernetes/audit-policy.yaml"
        assert {"audit-log-path", "audit-log-maxage", "audit-log-maxbackup"} <= set(flags)
    if stack.name == "lab":
        assert flags["secure-port"] == "6444"


def test_controller_manager_flags(stack: Stack) -> None:
    host = control_plane_hosts(stack)[0]
    flags = _flags(render(stack, "control_plane", "kube-controller-manager.service.j2", host))
    assert flags["cluster-cidr"] == str(stack.plan.network.pod_cidr)
    assert flags["service-cluster-ip-range"] == str(stack.plan.network.service_cidr)
    assert flags["cluster-signing-cert-file"] == "/etc/kubernetes/pki/ca.crt"
    assert flags["cluster-signing-key-file"] == "/etc/kubernetes/pki/ca.key"
    assert flags["kubeconfig"] == "/etc/kubernetes/kube-controller-manager.conf"
    if stack.plan.network.plugin == "bridge":
        # Groundwork assigns the bridge backend's node subnets itself.
        assert flags["allocate-node-cidrs"] == "false"
        assert "node-cidr-mask-size" not in flags
    else:
        assert flags["allocate-node-cidrs"] == "true"
        assert flags["node-cidr-mask-size"] == str(stack.plan.network.node_subnet_size)


def test_kubelet_unit_flags(stack: Stack) -> None:
    for host in kubelet_hosts(stack):
        flags = _flags(render(stack, "node", "kubelet.service.j2", host))
        assert flags["node-ip"] == str(stack.spec.node(host).address)
        assert flags["hostname-override"] == host
        assert flags["config"] == "/var/lib/kubelet/config.yaml"
        labels = stack.spec.node(host).labels
        if labels:
            assert dict(kv.split("=") for kv in flags["node-labels"].split(",")) == labels
        else:
            assert "node-labels" not in flags


# --- binaries --------------------------------------------------------------------


def test_binaries_without_checksum_are_refused(stacks: dict[str, Stack]) -> None:
    lab = stacks["lab"]
    spec, plan = lab.spec, lab.plan
    unpinned = kube_binaries(spec, plan)
    assert unpinned["kube-apiserver"]["sha256"] == ""
    assert unpinned["kube-apiserver"]["url"] == (
        "http://10.77.0.1:8080/kubernetes/release/v1.36.3/bin/linux/amd64/kube-apiserver"
    )
    refuse = "Refuse a binary that is not available with a pinned checksum"
    for role, item in (("control_plane", "kube-apiserver"), ("node", "kubelet")):
        assert when(lab, role, refuse, "cp1", item=item, gw_kube_binaries=unpinned)
        assert not when(lab, role, refuse, "cp1", item=item)  # FAKE_SHA in the inventory
        # Every pinned file on the node: nothing to fetch. One binary not
        # pinned at all: the probe leaves it out, and it counts as missing.
        fetch = "Fetch the missing binaries"
        present = {b["path"]: True for b in unpinned.values()}
        probe: dict[str, Any] = {"paths": present, "units": {}, "units_down": []}
        probes = {"control_plane_probe": probe, "node_probe": probe}
        assert not when(lab, role, fetch, "cp1", gw_kube_binaries=unpinned, **probes)
        without = {k: v for k, v in unpinned.items() if k != item}
        assert when(lab, role, fetch, "cp1", gw_kube_binaries=without, **probes)
    # A pinned version needs no checksum from the caller.
    older = spec.model_copy(
        update={"kubernetes": spec.kubernetes.model_copy(update={"version": "1.35.1"})}
    )
    pinned = kube_binaries(older, build_plan(older))
    sha = versions.SHA256[("kubelet", "1.35.1", "amd64")]
    assert pinned["kubelet"]["sha256"] == sha
    # Each binary's file on the node is named by its version and checksum.
    assert pinned["kubelet"]["path"] == f"/opt/groundwork/kubernetes-1.35.1/kubelet-{sha[:12]}"


def _index(entries: dict[str, str]) -> dict[str, Any]:
    return {
        "artifacts": {
            name: {"version": v, "path": f"x/{name}", "url": f"http://m/{name}", "sha256": FAKE_SHA}
            for name, v in entries.items()
        }
    }


def test_missing_kube_binaries_in_the_lab() -> None:
    spec = load_stack("lab")
    # A mirror that serves etcd and a kubectl only.
    index = _index({"etcd": "3.6.17", "kubectl": "1.37.1"})
    missing = missing_kube_binaries(spec, index)
    assert missing == [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
    ]
    assert missing_message(missing, "1.36.3") == (
        "Kubernetes components cannot be installed in this lab: kube-apiserver, "
        "kube-controller-manager, kube-scheduler, kubelet, kube-proxy v1.36.3 are not in the "
        "mirror. Supply the official binaries with `groundwork lab up --artifacts DIR` "
        "(their sha256 must match groundwork/versions.py)"
    )
    full = _index(
        {b: "1.36.3" for b in versions.KUBE_BINARIES if b != "kubectl"} | {"kubectl": "1.37.1"}
    )
    assert missing_kube_binaries(spec, full) == []
    # A different patch release is not the declared version; kubectl two minors off is too far.
    wrong = _index(
        {b: "1.36.2" for b in versions.KUBE_BINARIES if b != "kubectl"} | {"kubectl": "1.34.0"}
    )
    assert missing_kube_binaries(spec, wrong) == list(versions.KUBE_BINARIES)
    assert missing_kube_binaries(spec, full["artifacts"]) == []  # a bare mapping works too
    # When the CNI replaces kube-proxy, kube-proxy is neither needed nor installed.
    without_proxy = spec.model_copy(
        update={"kubernetes": spec.kubernetes.model_copy(update={"kube_proxy": KubeProxyMode.NONE})}
    )
    assert "kube-proxy" not in missing_kube_binaries(without_proxy, index)
    assert "kube-proxy" not in kube_binaries(without_proxy, build_plan(without_proxy))
    no_sha = _index({b: "1.36.3" for b in versions.KUBE_BINARIES})
    no_sha["artifacts"]["kubelet"]["sha256"] = ""
    assert missing_kube_binaries(spec, no_sha) == ["kubelet"]


def test_a_pinned_checksum_wins_over_the_mirrors() -> None:
    """A compromised mirror cannot swap a pinned binary by publishing its own checksum."""
    spec = load_stack("lab")
    plan = dataclasses.replace(build_plan(spec), kubernetes_version="1.35.1")
    binaries = kube_binaries(spec, plan, checksums={"kubelet": "0" * 64, "kube-proxy": "1" * 64})
    pinned = versions.SHA256[("kubelet", "1.35.1", "amd64")]
    assert pinned and binaries["kubelet"]["sha256"] == pinned
    # Unpinned (kube-proxy): the mirror's published checksum is the only one there is.
    assert versions.SHA256.get(("kube-proxy", "1.35.1", "amd64")) is None
    assert binaries["kube-proxy"]["sha256"] == "1" * 64

"""The read-only commands the checks run on a node, and a host wrapper that
runs all of them in ONE SSH round trip (the first time any is asked for).

Checks still read like `host.run(command)`; the wrapper answers from that
snapshot. Commands that change something (the pod network probes) are not
prefetched and go straight to the node.
"""

from __future__ import annotations

import base64
import shlex
import threading
from dataclasses import dataclass
from typing import Any

from groundwork.plan.kernel import kconfig_symbol
from groundwork.plan.underlay import SHIM_DEVICE
from groundwork.verify.expect import (
    CNI_CONFIG,
    CONTAINERD_CONFIG,
    ETCD_BINARIES,
    ETCD_DATA_DIR,
    ETCD_PKI,
    ClusterExpectation,
    NodeExpectation,
)

HOSTNAME = "hostname"
ADDRESSES = "ip -o -4 addr show"
VIRT = "systemd-detect-virt --container"
LISTENING = "ss -Hltn"
ROUTES = "ip -j -4 route show"
# The macvlan backend's shim device: its state and addresses.
SHIM = f"ip -d -j -4 addr show dev {SHIM_DEVICE}"
# The bgp backend: BIRD's sessions, and the routes it gave the kernel.
BIRD_PROTOCOLS = "birdc -r show protocols"
BIRD_ROUTES = "ip -j -4 route show proto bird"
CONTAINERD_VERSION = "containerd --version"
RUNC_VERSION = "runc --version"

ETCD_KEYS = ("server.key", "peer.key", "healthcheck-client.key")
ETCD_CERTS = ("ca.crt", "server.crt", "peer.crt", "healthcheck-client.crt")
ETCD_FILES = (*(f"{ETCD_PKI}/{f}" for f in ETCD_KEYS + ETCD_CERTS), ETCD_DATA_DIR)


def cat(path: str) -> str:
    return f"cat {shlex.quote(path)}"


def unit(name: str) -> str:
    return f"systemctl show -p ActiveState -p UnitFileState -- {name}"


def binary_version(path: str) -> str:
    return f"{path} {'version' if path.endswith('etcdctl') else '--version'}"


def stat(paths: tuple[str, ...]) -> str:
    return "stat -c '%n %a %U %F' " + " ".join(paths) + " 2>&1"


def sysctls(keys: list[str]) -> str:
    # "path<TAB>value" per line; a glob key expands to what it matches.
    paths = " ".join("/proc/sys/" + k.replace(".", "/") for k in keys)
    return f"for f in {paths}; do printf '%s\\t' $f; cat $f 2>/dev/null || echo '(absent)'; done"


def kernel_modules(modules: tuple[str, ...]) -> str:
    """Per module "<name> loaded|builtin|none", then the =y kernel config lines."""
    symbols = "|".join(kconfig_symbol(m) for m in modules)
    script = (
        f"SYMBOLS='{symbols}'; "
        'for m in "$@"; do '
        'if [ -d /sys/module/$m ] || grep -qs "^$m " /proc/modules; then echo "$m loaded"; '
        'elif grep -qs "/$m.ko" /lib/modules/$(uname -r)/modules.builtin; then echo "$m builtin"; '
        'else echo "$m none"; fi; done; '
        "[ -r /proc/config.gz ] && "
        'zcat /proc/config.gz | grep -E "^CONFIG_($SYMBOLS)=y\\$"; true'
    )
    return f"sh -c {shlex.quote(script)} check {' '.join(modules)}"


def etcdctl(endpoints: list[str] | tuple[str, ...], *args: str) -> str:
    return shlex.join(
        [
            "/usr/local/bin/etcdctl",
            f"--cacert={ETCD_PKI}/ca.crt",
            f"--cert={ETCD_PKI}/healthcheck-client.crt",
            f"--key={ETCD_PKI}/healthcheck-client.key",
            f"--endpoints={','.join(endpoints)}",
            "--command-timeout=3s",
            "--dial-timeout=2s",
            "-w",
            "json",
            *args,
        ]
    )


# One TLS client with a certificate (must be served) and one with only the CA
# (must be refused), both against one member's client URL.
_TLS_PROBE = r"""
import json, socket, ssl, sys
host, port, pki = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def get(cert):
    try:
        ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(pki + "/healthcheck-client.crt", pki + "/healthcheck-client.key")
        with socket.create_connection((host, port), timeout=3) as raw:
            with ctx.wrap_socket(raw) as tls:
                tls.sendall(b"GET /health HTTP/1.1\r\nHost: etcd\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        line = data.split(b"\r\n", 1)[0].decode(errors="replace")
        return line or "connection closed without an answer"
    except (ssl.SSLError, OSError) as err:
        return "refused: " + (type(err).__name__ + " " + str(err))[:160]
print(json.dumps({"with_cert": get(True), "without_cert": get(False)}))
"""


def client_url_parts(url: str) -> tuple[str, str]:
    host, _, port = url.split("//", 1)[1].rpartition(":")
    return host.strip("[]"), port


def tls_probe(client_url: str) -> str:
    host, port = client_url_parts(client_url)
    return f"python3 -c {shlex.quote(_TLS_PROBE)} {host} {port} {ETCD_PKI}"


def tcp_connect(address: str, port: int) -> str:
    return f"timeout 4 bash -c 'exec 3<>/dev/tcp/{address}/{port}' 2>&1"


def prefetch(node: NodeExpectation, cluster: ClusterExpectation) -> list[str]:
    """Every read-only command the checks will run on this node."""
    cmds = [HOSTNAME, ADDRESSES, VIRT, LISTENING]
    cmds += [unit(u) for u in node.services]
    cmds.append(sysctls(sorted(node.sysctls)))
    if node.kernel_modules:
        cmds.append(kernel_modules(node.kernel_modules))
    if "containerd" in node.services:
        cmds += [CONTAINERD_VERSION, RUNC_VERSION, cat(CONTAINERD_CONFIG)]
    if node.etcd_member is not None:
        urls = [m.client_url for m in cluster.etcd_members]
        cmds += [binary_version(p) for p in ETCD_BINARIES]
        cmds += [stat(ETCD_FILES), tls_probe(node.etcd_member.client_url)]
        cmds += [
            etcdctl([node.etcd_member.client_url], "member", "list"),
            etcdctl(urls, "endpoint", "health"),
        ]
    if cluster.vip is not None:
        cmds.append(tcp_connect(cluster.vip, cluster.endpoint_port))
    if cluster.bridge_network and node.pod_subnet:
        cmds += [cat(CNI_CONFIG), ROUTES, unit("groundwork-routes.service")]
        if node.underlay is not None:
            cmds.append(SHIM)
        if node.bgp is not None:
            cmds += [BIRD_PROTOCOLS, BIRD_ROUTES, unit("bird")]
    kube = cluster.kubernetes
    if kube is not None and node.name in kube.kubelet_nodes:
        cmds += [unit(u) for u in kube_units(node.name in kube.control_plane_nodes)]
        cmds += [binary_version(KUBELET), cat(KUBELET_CONFIG), CGROUP_HIERARCHY]
        if kube.service_ip:
            cmds.append(tcp_connect(kube.service_ip, SERVICE_PORT))
    return list(dict.fromkeys(cmds))


KUBELET = "/usr/local/bin/kubelet"
# The `kubernetes` Service's port.
SERVICE_PORT = 443
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
# "2" on the unified hierarchy, "1" on a v1 or hybrid one.
CGROUP_HIERARCHY = "test -e /sys/fs/cgroup/cgroup.controllers && echo 2 || echo 1"


def kube_units(control_plane: bool) -> tuple[str, ...]:
    """The Kubernetes layer's systemd units on a node."""
    own = ("kube-apiserver", "kube-controller-manager", "kube-scheduler") if control_plane else ()
    return ("kubelet", "kube-proxy", *own)


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str
    stderr: str


def batch_script(commands: list[str]) -> str:
    """One shell script running every command; per command one line:
    "<index> <rc> <base64 stdout> <base64 stderr>"."""
    lines = ["d=$(mktemp -d)", "trap 'rm -rf \"$d\"' EXIT"]
    for i, command in enumerate(commands):
        lines.append(
            f'( {command} ) >"$d/o" 2>"$d/e" </dev/null; r=$?; '
            f'echo "{i} $r $(base64 -w0 <"$d/o") $(base64 -w0 <"$d/e")"'
        )
    return "\n".join(lines)


def parse_batch(commands: list[str], output: str) -> dict[str, Result]:
    results: dict[str, Result] = {}
    for line in output.splitlines():
        parts = line.split(" ")
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        index, rc = int(parts[0]), int(parts[1])
        out = base64.b64decode(parts[2]).decode(errors="replace") if len(parts) > 2 else ""
        err = base64.b64decode(parts[3]).decode(errors="replace") if len(parts) > 3 else ""
        if index < len(commands):
            results[commands[index]] = Result(rc, out, err)
    return results


def ssh_failure(err: RuntimeError) -> str:
    """A short reason from testinfra's ssh error (which carries the whole command)."""
    result = err.args[0] if err.args else None
    detail = getattr(result, "stderr", b"") or b""
    if isinstance(detail, bytes):
        detail = detail.decode(errors="replace")
    lines = [ln.strip() for ln in str(detail).splitlines() if ln.strip()]
    return f"unreachable over SSH: {lines[-1] if lines else 'ssh failed'}"


class BatchedHost:
    """A testinfra host whose known read-only commands share one round trip."""

    def __init__(self, host: Any, commands: list[str], name: str = "") -> None:
        self.host = host
        self.name = name
        self.commands = commands
        self._cache: dict[str, Result] | None = None
        self._error: str | None = None
        self._lock = threading.Lock()

    def fetch(self) -> dict[str, Result]:
        """Run the batch once; an unreachable node fails every check at once
        (with the same reason) instead of timing out once per check."""
        with self._lock:
            if self._error is not None:
                raise RuntimeError(self._error)
            if self._cache is None:
                script = batch_script(self.commands)
                try:
                    out = self.host.run(f"bash -c {shlex.quote(script)}")
                except RuntimeError as err:
                    self._error = f"{self.name}: {ssh_failure(err)}".lstrip(": ")
                    raise RuntimeError(self._error) from None
                self._cache = parse_batch(self.commands, out.stdout)
            return self._cache

    @property
    def unreachable(self) -> str | None:
        """Why the node could not be reached (after a fetch), or None."""
        return self._error

    def run(self, command: str) -> Any:
        if command in self.commands:
            cached = self.fetch().get(command)
            if cached is not None:
                return cached
        return self.host.run(command)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.host, name)

"""The lab for real: up, reach every node, install from the mirror, no route out, down.

One `lab up` per session (module fixture), reusing the host's image and
mirror caches. Traffic goes only to the lab's own nodes and gateway.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from groundwork import lab
from groundwork.lab import network, nodes, site, ssh, storage
from groundwork.lab.apt_signing import KEYRING_ON_NODES
from groundwork.lab.layout import LabLayout, LabNode, layout
from groundwork.spec import ClusterSpec, load_stack

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (privileged podman)"),
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
]

STACKS = Path(__file__).resolve().parents[2] / "stacks"
CLI = "import sys; from groundwork.cli import main; sys.exit(main(sys.argv[1:]))"

# TEST-NET-1: documentation range. Only looked up on a node (no packet is sent).
OUTSIDE = "192.0.2.1"


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack("lab")


@pytest.fixture(scope="module")
def lab_up(spec: ClusterSpec) -> Iterator[lab.LabState]:
    # Start from nothing, so the test proves creation, not a lab left running.
    lab.down(spec)
    started = time.monotonic()
    state = lab.up(spec)
    print(f"lab up took {time.monotonic() - started:.1f} s")
    yield state
    lab.down(spec)


@pytest.fixture(scope="module")
def the_lab(spec: ClusterSpec, lab_up: lab.LabState) -> LabLayout:
    return layout(spec)


def on_node(spec: ClusterSpec, node: LabNode, command: str) -> subprocess.CompletedProcess[str]:
    """Run a shell command on a node over real SSH with the pinned host key."""
    argv = ssh.target(spec, node.name).argv(["sh", "-c", _quote(command)])
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def _quote(text: str) -> str:
    return shlex.quote(text)


def all_container_names() -> list[str]:
    """Names of every container in every podman storage the lab may use."""
    names: list[str] = []
    for store in storage.in_use():
        out = subprocess.run(
            store.podman("ps", "-a", "--format", "{{.Names}}"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        names += out.split()
    return names


def upper_dir(store: storage.Storage, container: str) -> Path:
    """Where a container's own writes go (its overlay upper directory)."""
    out = subprocess.run(
        store.podman("inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", container),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Path(out.strip())


def test_subnet_clash_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    # The lab stack moved into 10.88.5.0/24, inside podman's default network
    # (10.88.0.0/16): refused before any container or network exists.
    text = (STACKS / "Pulumi.lab.yaml").read_text()
    text = text.replace("10.77.0.", "10.88.5.").replace("name: lab", "name: clashlab")
    stack = tmp_path / "Pulumi.clashlab.yaml"
    stack.write_text(text)
    if "10.88.0.0/16" not in [str(s) for n in network.list_networks() for s in n.subnets]:
        pytest.skip("podman's default network is not 10.88.0.0/16 on this host")
    result = subprocess.run(
        [sys.executable, "-c", CLI, "lab", "up", "--stack-file", str(stack)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "clashes with podman network 'podman'" in result.stderr
    assert "choose another lab.subnet" in result.stderr
    assert "groundwork-clashlab" not in [n.name for n in network.list_networks()]
    assert not [n for n in all_container_names() if n.startswith("groundwork-clashlab-")]


def test_up_reports_every_node_running(lab_up: lab.LabState) -> None:
    assert lab_up.up, lab_up
    assert [n.state for n in lab_up.nodes] == ["running"] * len(lab_up.nodes)
    assert lab_up.mirror_running


def test_key_and_known_hosts_are_private(spec: ClusterSpec, the_lab: LabLayout) -> None:
    key, known_hosts = ssh.connection_files(spec)
    assert key.stat().st_mode & 0o777 == 0o600
    assert known_hosts.stat().st_mode & 0o777 == 0o600
    pinned = known_hosts.read_text().splitlines()
    assert len(pinned) == len(the_lab.nodes)
    for node in the_lab.nodes:
        assert any(line.startswith(f"{node.address},{node.name} ssh-ed25519 ") for line in pinned)


def test_every_node_answers_ssh_with_the_pinned_key(spec: ClusterSpec, the_lab: LabLayout) -> None:
    for node in the_lab.nodes:
        argv = ssh.target(spec, node.name).argv(["hostname"])
        assert "StrictHostKeyChecking=yes" in argv
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"{node.name}: {result.stderr}"
        assert result.stdout.strip() == node.name


def test_a_wrong_pin_is_refused(spec: ClusterSpec, the_lab: LabLayout, tmp_path: Path) -> None:
    node = the_lab.nodes[0]
    other = the_lab.nodes[1]
    real = ssh.connection_files(spec)[1].read_text().splitlines()
    # Pin node 0's address to node 1's key: strict checking must refuse.
    other_key = next(line for line in real if line.startswith(f"{other.address},"))
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"{node.address} {' '.join(other_key.split()[1:])}\n")
    target = ssh.target(spec, node.name)
    argv = ssh.SshTarget(target.host, target.port, target.user, target.private_key, wrong).argv(
        ["true"]
    )
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr, result.stderr


def test_systemd_is_running_on_every_node(spec: ClusterSpec, the_lab: LabLayout) -> None:
    for node in the_lab.nodes:
        state = on_node(spec, node, "systemctl is-system-running --wait").stdout.strip()
        failed = on_node(spec, node, "systemctl --failed --plain --no-legend").stdout.strip()
        assert state == "running", f"{node.name} is {state}; failed units: {failed or 'none'}"


def test_a_node_installs_a_package_from_the_mirror(spec: ClusterSpec, the_lab: LabLayout) -> None:
    node = the_lab.node("w1")
    sources = on_node(spec, node, "cat /etc/apt/sources.list /etc/apt/sources.list.d/*").stdout
    assert "deb.debian.org" not in sources
    # Trusted through the lab's signing key only, never outright.
    assert f"deb [signed-by={KEYRING_ON_NODES}] {the_lab.mirror_url}/debian ./" in sources
    assert "trusted=yes" not in sources
    result = on_node(
        spec,
        node,
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -q"
        " && apt-get install -y -q socat && socat -V",
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "socat version" in result.stdout
    # apt checks the index's signature: against a keyring without the lab's
    # key, the same index is refused (apt keeps the old lists and says why).
    refused = on_node(
        spec,
        node,
        f"echo 'deb [signed-by=/dev/null] {the_lab.mirror_url}/debian ./' > /tmp/unsigned.list"
        " && apt-get update -q -o Dir::Etc::SourceList=/tmp/unsigned.list"
        " -o Dir::Etc::SourceParts=/nonexistent",
    )
    said = refused.stdout + refused.stderr
    assert "NO_PUBKEY" in said, said[-2000:]


def test_no_node_has_a_route_out_of_the_lab(spec: ClusterSpec, the_lab: LabLayout) -> None:
    for node in the_lab.nodes:
        # A route lookup only: no packet leaves the node.
        result = on_node(spec, node, f"ip route get {OUTSIDE}")
        assert result.returncode != 0, f"{node.name} has a route out: {result.stdout}"
        assert "Network is unreachable" in result.stderr
        routes = on_node(spec, node, "ip -4 route show").stdout
        assert "default" not in routes, f"{node.name}: {routes}"


def test_etcd_tarball_on_the_mirror_matches_the_index(
    spec: ClusterSpec, the_lab: LabLayout
) -> None:
    index = site.read_index(the_lab.stack)
    assert index is not None
    etcd = index["artifacts"]["etcd"]
    assert etcd["path"] == "etcd/v3.6.17/etcd-v3.6.17-linux-amd64.tar.gz"
    # Fetched by a node, from the mirror on the lab gateway, like the roles will.
    script = (
        "import hashlib, urllib.request as u;"
        f"print(hashlib.sha256(u.urlopen({etcd['url']!r}).read()).hexdigest());"
        f"print(u.urlopen({etcd['url'] + '.sha256'!r}).read().decode().split()[0])"
    )
    result = on_node(spec, the_lab.nodes[0], f"python3 -c {_quote(script)}")
    assert result.returncode == 0, result.stderr
    served, published = result.stdout.split()
    assert served == published == etcd["sha256"]
    assert "kubectl" in index["artifacts"]


def test_status_says_the_mirror_serves_kubernetes_built_here(
    spec: ClusterSpec, the_lab: LabLayout
) -> None:
    state = lab.status(spec)
    assert state.up
    assert all(n.ssh_ok and n.mirror_ok for n in state.nodes)
    assert state.kubernetes_available, state.notes
    index = site.read_index(the_lab.stack)
    assert index is not None
    kubelet = index["artifacts"]["kubelet"]
    assert kubelet["version"] == spec.kubernetes.version
    assert len(kubelet["sha256"]) == 64


def test_cli_status_prints_the_table(the_lab: LabLayout) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CLI, "lab", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for node in the_lab.nodes:
        assert node.name in result.stdout and str(node.address) in result.stdout


def test_up_repairs_a_dead_node_and_a_dead_mirror(spec: ClusterSpec, the_lab: LabLayout) -> None:
    # What a reboot leaves: podman records whose processes are gone, a stale pid file.
    node = the_lab.node("w2")
    subprocess.run(the_lab.storage.podman("kill", node.container), capture_output=True, check=True)
    pid = site.server_pid(the_lab.stack)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    state = lab.up(spec)
    assert state.changed and state.up, state
    result = on_node(spec, node, "hostname")
    assert result.returncode == 0 and result.stdout.strip() == "w2", result.stderr


def test_up_again_is_a_no_op(spec: ClusterSpec, the_lab: LabLayout) -> None:
    known_hosts = ssh.connection_files(spec)[1].read_text()
    started = time.monotonic()
    state = lab.up(spec)
    assert not state.changed
    assert state.up
    assert time.monotonic() - started < 20
    assert ssh.connection_files(spec)[1].read_text() == known_hosts


def test_machines_live_in_memory_and_move_when_the_storage_changes(
    spec: ClusterSpec, the_lab: LabLayout
) -> None:
    # The default: every machine's writes land on the lab's own tmpfs.
    memory = storage.storage("memory")
    assert the_lab.storage == memory and memory.root is not None
    assert storage.is_mounted(memory.root)
    mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    (line,) = [m for m in mounts if m.split()[4] == str(memory.root)]
    assert line.split(" - ")[1].split()[0] == "tmpfs"
    for node in the_lab.nodes:
        assert upper_dir(memory, node.container).is_relative_to(memory.root)
    assert lab.status(spec).podman.startswith("podman --root ")

    # The stack asks for disk: `lab up` replaces every machine there.
    assert spec.lab is not None
    on_disk = spec.model_copy(update={"lab": spec.lab.model_copy(update={"storage": "disk"})})
    state = lab.up(on_disk)
    assert state.changed and state.up, state
    found = nodes.list_containers(layout(on_disk))
    assert {c.storage for c in found} == {storage.DISK}
    assert sorted(c.name for c in found) == sorted(n.container for n in the_lab.nodes)
    for node in the_lab.nodes:
        assert upper_dir(storage.DISK, node.container).is_relative_to("/var/lib/containers")

    # And back: nothing is left on disk.
    state = lab.up(spec)
    assert state.changed and state.up, state
    assert {c.storage for c in nodes.list_containers(the_lab)} == {memory}
    result = on_node(spec, the_lab.node("w1"), "hostname")
    assert result.returncode == 0 and result.stdout.strip() == "w1", result.stderr


def test_down_leaves_nothing(spec: ClusterSpec, the_lab: LabLayout) -> None:
    interface = network.own_interface(the_lab)
    assert interface
    # Other stacks' labs may run on this host too: look for this lab's server only.
    server_root = str(site.site_root(the_lab.stack)).encode()
    lab.down(spec)
    assert lab.leftovers(spec) == []
    assert not [n for n in all_container_names() if n.startswith(f"{the_lab.network}-")]
    for store in storage.in_use():
        labelled = subprocess.run(
            store.podman("ps", "-a", "-q", "--filter", f"label={the_lab.label}"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert labelled == [], store
    nets = json.loads(
        subprocess.run(
            ["podman", "network", "ls", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert the_lab.network not in [n["name"] for n in nets]
    assert not Path(f"/sys/class/net/{interface}").exists(), f"{interface} is left"
    assert not any(
        b"groundwork.lab.mirror_server" in p.read_bytes() and server_root in p.read_bytes()
        for p in Path("/proc").glob("[0-9]*/cmdline")
        if _readable(p)
    )
    # The gateway address is gone from the host with the bridge.
    with socket.socket() as s, pytest.raises(OSError):
        s.bind((str(the_lab.gateway), 0))


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except OSError:
        return False
    return True

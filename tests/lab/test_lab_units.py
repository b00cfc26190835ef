"""The lab's pure parts: command planning, clash detection, cache keys, known_hosts.

No root, no podman: these run everywhere.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from groundwork.build import Built
from groundwork.lab import artifacts, image, mirror, network, nodes, registry, site, ssh, storage
from groundwork.lab.errors import LabError
from groundwork.lab.host import missing_packages
from groundwork.lab.layout import LABEL, LabLayout, LabNode, layout
from groundwork.lab.state import LabState, NodeState
from groundwork.spec import load_stack
from groundwork.spec.problems import SpecError

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMDY02mJIIKEvwqZ8D91CFXUeUWbzzFWdQG7tmzSDpaV root@cp1"


def make_lab(subnet: str = "10.77.0.0/24", port: int = 22) -> LabLayout:
    return LabLayout(
        stack="lab",
        subnet=IPv4Network(subnet),
        gateway=IPv4Address("10.77.0.1"),
        network="groundwork-lab",
        mirror_port=8080,
        registry_port=5000,
        network_plugin="bridge",
        nodes=(
            LabNode(
                "cp1",
                IPv4Address("10.77.0.11"),
                ("control-plane",),
                "groundwork-lab-cp1",
                "root",
                port,
            ),
            LabNode(
                "w1", IPv4Address("10.77.0.21"), ("worker",), "groundwork-lab-w1", "root", port
            ),
        ),
        storage=storage.DISK,
        kubernetes_version="1.36.3",
    )


# --- layout ---------------------------------------------------------------------


def test_layout_of_the_lab_stack() -> None:
    lab = layout(load_stack("lab"))
    assert lab.network == "groundwork-lab"
    assert lab.subnet == IPv4Network("10.77.0.0/24")
    assert lab.mirror_url == "http://10.77.0.1:8080"
    assert [n.container for n in lab.nodes] == [
        "groundwork-lab-cp1",
        "groundwork-lab-cp2",
        "groundwork-lab-cp3",
        "groundwork-lab-w1",
        "groundwork-lab-w2",
    ]
    assert lab.label == f"{LABEL}=lab"


def test_stack_without_lab_block_is_refused() -> None:
    spec = load_stack("dev")
    assert spec.lab is None
    with pytest.raises(LabError, match="no lab block"):
        layout(spec)


def test_unknown_node_names_the_known_ones() -> None:
    with pytest.raises(LabError, match="cp1, w1"):
        make_lab().node("nope")


# --- nodes ----------------------------------------------------------------------


def test_run_argv_boots_systemd_with_runc_on_the_internal_network() -> None:
    lab = make_lab()
    argv = nodes.run_argv(lab, lab.nodes[0], "localhost/groundwork-node:abc")
    assert argv[:3] == ["podman", "run", "-d"]
    assert argv[argv.index("--runtime") + 1] == "/usr/sbin/runc"
    assert argv[argv.index("--network") + 1] == "groundwork-lab"
    assert argv[argv.index("--ip") + 1] == "10.77.0.11"
    assert argv[argv.index("--hostname") + 1] == "cp1"
    assert argv[argv.index("--label") + 1] == "io.groundwork.lab=lab"
    assert "nofile=20000:20000" in argv and "--privileged" in argv
    assert "--systemd=always" in argv
    assert argv[-4:] == ["localhost/groundwork-node:abc", "/bin/sh", "-c", nodes.NODE_INIT]
    assert nodes.NODE_INIT.rstrip().endswith("exec /sbin/init")


def test_parse_containers_reads_state_address_and_labels() -> None:
    data = [
        {
            "Name": "groundwork-lab-cp1",
            "State": {"Status": "running", "Pid": 4242},
            "NetworkSettings": {"Networks": {"groundwork-lab": {"IPAddress": "10.77.0.11"}}},
            "ImageName": "localhost/groundwork-node:abc",
            "Config": {"Labels": {LABEL: "lab"}, "Cmd": ["/bin/sh", "-c", "exec /sbin/init"]},
            "Id": "e19ee902",
        },
        {"Name": "stray", "State": {"Status": "exited", "Pid": 0}, "Config": {}},
    ]
    memory = storage.Storage("memory", Path("/run/gw"))
    cp1, stray = nodes.parse_containers(data, "groundwork-lab", memory)
    assert (cp1.state, cp1.pid, cp1.address, cp1.id) == ("running", 4242, "10.77.0.11", "e19ee902")
    assert cp1.storage == stray.storage == memory
    assert nodes.label_of(cp1) == "lab"
    assert cp1.command == ("/bin/sh", "-c", "exec /sbin/init") and stray.command == ()
    assert stray.address is None and nodes.label_of(stray) is None
    assert not nodes.is_alive(stray)


def test_a_lab_is_up_unless_a_node_is_down_or_refused_ssh() -> None:
    def lab_with(*states: NodeState) -> LabState:
        return LabState("lab", "groundwork-lab", True, "http://10.77.0.1:8080", True, False, states)

    def node(state: str, ssh_ok: bool | None) -> NodeState:
        return NodeState("cp1", "10.77.0.11", ("etcd",), "groundwork-lab-cp1", state, ssh_ok, None)

    assert lab_with(node("running", True), node("degraded", True)).up
    # Not asked over SSH (an unchanged lab, for `up`, whose pre-flight asks next).
    assert lab_with(node("running", None)).up
    assert not lab_with(node("running", False)).up
    assert not lab_with(node("stopped", None)).up
    assert not lab_with(node("absent", None)).up


def test_host_key_record_round_trips_and_tolerates_garbage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    assert ssh.read_host_key_record("lab") == {}
    record = {"groundwork-lab-cp1": {"id": "e19ee902", "key": KEY}}
    ssh.write_host_key_record("lab", record)
    assert ssh.read_host_key_record("lab") == record
    ssh.host_key_record_path("lab").write_text("not json")
    assert ssh.read_host_key_record("lab") == {}


# --- storage --------------------------------------------------------------------


def test_the_lab_stack_keeps_its_machines_in_memory_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROUNDWORK_LAB_STORAGE_DIR", "/run/gw-test")
    lab = layout(load_stack("lab"))
    assert lab.storage == storage.Storage("memory", Path("/run/gw-test"))
    argv = nodes.run_argv(lab, lab.nodes[0], "localhost/groundwork-node:abc")
    assert argv[:9] == [
        "podman",
        "--root",
        "/run/gw-test/graph",
        "--runroot",
        "/run/gw-test/run",
        "--tmpdir",
        "/run/gw-test/tmp",
        "--storage-driver",
        "overlay",
    ]
    assert argv[9:12] == ["run", "-d", "--name"]
    exec_argv = nodes.exec_argv(lab, "groundwork-lab-cp1", ["true"])
    assert exec_argv[:2] == ["podman", "--root"] and exec_argv[-3:] == [
        "exec",
        "groundwork-lab-cp1",
        "true",
    ]


def test_disk_storage_is_podmans_own() -> None:
    spec = load_stack("lab")
    assert spec.lab is not None
    disk = spec.model_copy(update={"lab": spec.lab.model_copy(update={"storage": "disk"})})
    lab = layout(disk)
    assert lab.storage == storage.DISK
    assert lab.storage.podman("ps") == ["podman", "ps"]


def test_a_container_in_the_other_storage_is_not_kept() -> None:
    lab = make_lab()
    node = lab.nodes[0]
    here = nodes.Container(
        node.container,
        "running",
        1,
        "10.77.0.11",
        "img",
        {},
        "id",
        lab.storage,
        command=nodes.NODE_COMMAND,
    )
    assert nodes.healthy(here, lab, node, "img")
    assert not nodes.healthy(
        dataclasses.replace(here, storage=storage.storage("memory")), lab, node, "img"
    )
    # Made with another boot command (systemd straight away, on the host's
    # name=systemd hierarchy): replaced.
    assert not nodes.healthy(dataclasses.replace(here, command=("/sbin/init",)), lab, node, "img")


def test_mount_points_are_read_from_mountinfo_with_escapes() -> None:
    text = (
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "90 22 0:50 / /run/groundwork/lab-storage rw - tmpfs groundwork-lab rw,mode=700\n"
        "91 22 0:51 / /mnt/with\\040space rw - tmpfs x rw\n"
    )
    assert storage.mount_points(text) == {
        Path("/"),
        Path("/run/groundwork/lab-storage"),
        Path("/mnt/with space"),
    }


def test_memory_storage_refuses_a_lab_the_host_cannot_hold_and_names_the_field() -> None:
    assert storage.memory_problem(5, 24000) is None
    assert storage.memory_problem(0, 10) is None
    problem = storage.memory_problem(15, 8000)
    assert problem is not None
    assert "cluster.lab.storage" in problem and "16384 MiB" in problem and "8000 MiB" in problem
    assert "disk" in problem


def test_available_memory_is_read_from_meminfo() -> None:
    text = "MemTotal:       24683520 kB\nMemFree: 1 kB\nMemAvailable:   24092160 kB\n"
    assert storage.available_mib(text) == 23527
    with pytest.raises(LabError, match="MemAvailable"):
        storage.available_mib("MemTotal: 1 kB\n")


def test_an_unknown_lab_storage_is_refused_with_its_path(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.lab.yaml").read_text()
    bad = tmp_path / "Pulumi.bad.yaml"
    assert "      storage: memory\n" in text
    bad.write_text(text.replace("      storage: memory\n", "      storage: ssd\n"))
    with pytest.raises(
        SpecError, match=r"cluster\.lab\.storage: 'ssd': input should be 'memory' or 'disk'"
    ):
        load_stack(str(bad))


def test_a_running_record_without_a_process_is_stale() -> None:
    dead = nodes.Container("x", "running", 2**22 + 12345, "10.77.0.11", "img", {})
    assert not nodes.is_alive(dead)


def test_a_running_record_whose_monitor_died_too_gets_the_exit_conmon_would_write(
    tmp_path: Path,
) -> None:
    """Every process of the host's session killed at once (conmon with its
    machine): podman's record says running until an exit file appears."""
    gone = 2**22 + 12345
    memory = storage.Storage("memory", tmp_path)
    lost = nodes.Container("x", "running", gone, None, "img", {}, "abc", memory, conmon_pid=gone)
    assert nodes.monitor_lost(lost)
    # conmon alive: it records the exit itself.
    assert not nodes.monitor_lost(dataclasses.replace(lost, conmon_pid=os.getpid()))
    # Stopped properly: podman knows already.
    assert not nodes.monitor_lost(dataclasses.replace(lost, state="exited"))
    nodes.record_lost_exit(lost)
    assert (tmp_path / "tmp" / "exits" / "abc").read_text() == "137"
    # podman's default storage keeps libpod's tmpdir in /run/libpod.
    assert storage.DISK.exits_dir() == Path("/run/libpod/exits")


def test_a_stopped_machine_is_read_with_the_address_it_was_made_with() -> None:
    """A stopped container has no live address: the one it was created with counts."""
    data = [
        {
            "Name": "groundwork-lab-w2",
            "State": {"Status": "exited", "Pid": 0, "ConmonPid": 0},
            "NetworkSettings": {"Networks": {"groundwork-lab": {"IPAddress": ""}}},
            "ImageName": "img",
            "Config": {"CreateCommand": ["podman", "run", "--ip", "10.77.0.22", "img"]},
        }
    ]
    (w2,) = nodes.parse_containers(data, "groundwork-lab", storage.DISK)
    assert (w2.address, w2.declared_address) == (None, "10.77.0.22")


def test_a_machine_that_is_off_is_powered_on_not_replaced() -> None:
    lab = make_lab()
    node = lab.nodes[0]

    def machine(state: str, pid: int, **changes: str) -> nodes.Container:
        fields = {"image": "img", "declared_address": str(node.address)} | changes
        return nodes.Container(
            node.container,
            state,
            pid,
            None,
            fields["image"],
            {},
            "id",
            lab.storage,
            fields["declared_address"],
            command=nodes.NODE_COMMAND,
        )

    # Stopped, or a record that outlived its process (a host reboot on disk storage).
    assert nodes.can_power_on(machine("exited", 0), lab, node, "img")
    assert nodes.can_power_on(machine("running", 2**22 + 12345), lab, node, "img")
    # Not the declared machine any more: replaced instead.
    assert not nodes.can_power_on(machine("exited", 0, image="old"), lab, node, "img")
    assert not nodes.can_power_on(
        machine("exited", 0, declared_address="10.77.0.99"), lab, node, "img"
    )


def test_setup_script_authorizes_the_key_and_points_apt_at_the_mirror() -> None:
    lab = make_lab()
    apt_key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----\n"
    script = nodes.setup_script(lab, KEY, site.apt_source_line(lab.mirror_url), apt_key)
    assert "/root/.ssh/authorized_keys" in script
    assert KEY in script
    assert "10.77.0.21 w1" in script
    signed = (
        "deb [signed-by=/etc/apt/keyrings/groundwork-mirror.asc] http://10.77.0.1:8080/debian ./"
    )
    assert signed in script and "trusted=yes" not in script
    assert "-----BEGIN PGP PUBLIC KEY BLOCK-----" in script
    assert "> /etc/apt/keyrings/groundwork-mirror.asc" in script


# --- network --------------------------------------------------------------------


def podman_net(
    name: str, subnet: str, labels: dict[str, str] | None = None
) -> network.PodmanNetwork:
    return network.parse_networks(
        [
            {
                "name": name,
                "subnets": [{"subnet": subnet}],
                "network_interface": "podman9",
                "labels": labels or {},
                "internal": True,
            }
        ]
    )[0]


def test_no_clash_on_a_host_with_unrelated_routes() -> None:
    routes = [
        {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
        {"dst": "192.0.2.0/24", "dev": "eth0"},
    ]
    assert network.find_clashes(make_lab(), routes, [podman_net("podman", "10.88.0.0/16")]) == []


def test_host_route_overlapping_the_subnet_clashes() -> None:
    routes = [{"dst": "10.77.0.0/16", "dev": "eth1"}]
    (problem,) = network.find_clashes(make_lab(), routes, [])
    assert "10.77.0.0/16" in problem and "eth1" in problem


def test_host_route_to_a_single_address_in_the_subnet_clashes() -> None:
    assert network.find_clashes(make_lab(), [{"dst": "10.77.0.50", "dev": "tun0"}], [])


def test_other_podman_network_overlapping_clashes() -> None:
    (problem,) = network.find_clashes(make_lab(), [], [podman_net("other", "10.77.0.128/25")])
    assert "other" in problem


def test_our_own_network_and_its_bridge_route_are_not_a_clash() -> None:
    ours = podman_net("groundwork-lab", "10.77.0.0/24", {LABEL: "lab"})
    routes = [{"dst": "10.77.0.0/24", "dev": "podman9"}]
    assert network.find_clashes(make_lab(), routes, [ours]) == []


def test_a_network_with_our_name_but_not_our_label_is_a_clash() -> None:
    impostor = podman_net("groundwork-lab", "10.99.0.0/24")
    (problem,) = network.find_clashes(make_lab(), [], [impostor])
    assert "not made by this lab" in problem


def test_network_create_is_internal_with_our_label() -> None:
    argv = network.create_argv(make_lab())
    assert "--internal" in argv
    assert argv[argv.index("--subnet") + 1] == "10.77.0.0/24"
    assert argv[argv.index("--gateway") + 1] == "10.77.0.1"
    assert argv[argv.index("--label") + 1] == "io.groundwork.lab=lab"
    assert argv[-1] == "groundwork-lab"


# --- cache keys -------------------------------------------------------------------


def test_image_cache_key_depends_on_inputs_only() -> None:
    base = image.cache_key("bookworm", ("a", "b"), "1")
    assert base == image.cache_key("bookworm", ("b", "a"), "1")
    assert base != image.cache_key("trixie", ("a", "b"), "1")
    assert base != image.cache_key("bookworm", ("a", "b", "c"), "1")
    assert base != image.cache_key("bookworm", ("a", "b"), "2")
    assert image.image_name(base) == f"localhost/groundwork-node:{base}"


def test_mirror_cache_keys_change_with_packages_and_built_files() -> None:
    assert mirror.apt_cache_key(["x", "y"]) == mirror.apt_cache_key(["y", "x", "x"])
    assert mirror.apt_cache_key(["x"]) != mirror.apt_cache_key(["x", "socat"])

    def built(sha: str) -> dict[str, Built]:
        return {"etcd": Built("etcd", "3.6.17", Path("/b"), {"etcd": sha})}

    assert mirror.releases_cache_key(built("a")) == mirror.releases_cache_key(built("a"))
    assert mirror.releases_cache_key(built("a")) != mirror.releases_cache_key(built("b"))
    # A network plugin's build is no release file: labs with and without it
    # share one release tree.
    flannel = Built("flannel", "0.28.10", Path("/f"), {"flanneld": "f"})
    assert mirror.releases_cache_key({**built("a"), "flannel": flannel}) == (
        mirror.releases_cache_key(built("a"))
    )


def test_a_cache_entry_another_lab_serves_is_in_use(tmp_path: Path) -> None:
    base = tmp_path / "cache" / "mirror"
    (base / "releases-new" / "etcd").mkdir(parents=True)
    (base / "releases-old" / "etcd").mkdir(parents=True)
    site = tmp_path / "state" / "other" / "lab" / "mirror" / "etcd"
    site.mkdir(parents=True)
    (site / "etcd.tar.gz").symlink_to(base / "releases-old" / "etcd" / "etcd.tar.gz")
    (site.parent / "debian").symlink_to(base / "debian-1")
    roots = [tmp_path / "state" / "other" / "lab" / "mirror"]
    assert mirror.in_use(base, roots) == {"releases-old", "debian-1"}


def test_debian_mirror_found_in_one_line_and_deb822_sources() -> None:
    assert image.find_debian_url("deb http://ftp.fr.debian.org/debian bookworm main") == (
        "http://ftp.fr.debian.org/debian"
    )
    deb822 = "Types: deb\n# http://snapshot.debian.org/archive/debian/x\nURIs: http://deb.debian.org/debian\n"
    assert image.find_debian_url(deb822) == "http://deb.debian.org/debian"
    assert image.find_debian_url("deb https://deb.nodesource.com/node_20.x nodistro main") is None


def test_debootstrap_argv_includes_what_ansible_needs() -> None:
    argv = image.debootstrap_argv(Path("/tmp/root"), "http://deb.debian.org/debian")
    include = argv[2].removeprefix("--include=").split(",")
    assert {"systemd", "openssh-server", "python3", "python3-apt", "sudo"} <= set(include)
    assert argv[-3:] == ["bookworm", "/tmp/root", "http://deb.debian.org/debian"]


# --- mirror content ---------------------------------------------------------------


def test_parse_depends_keeps_real_packages_only() -> None:
    text = "socat\n  Depends: libc6\nlibc6\n  Depends: libgcc-s1\n<debconf-2.0>\n<perl:any>\nlibgcc-s1\n"
    assert mirror.parse_depends(text) == ["libc6", "libgcc-s1", "socat"]


def test_etcd_tarball_has_upstream_layout_and_is_reproducible() -> None:
    bins = {"etcd": b"1", "etcdctl": b"22", "etcdutl": b"333"}
    data = mirror.etcd_tarball(bins, "3.5.1")
    assert data == mirror.etcd_tarball(bins, "3.5.1")
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        names = tar.getnames()
        assert tar.getmember("etcd-v3.5.1-linux-amd64/etcd").mode == 0o755
    assert names == [
        "etcd-v3.5.1-linux-amd64",
        "etcd-v3.5.1-linux-amd64/etcd",
        "etcd-v3.5.1-linux-amd64/etcdctl",
        "etcd-v3.5.1-linux-amd64/etcdutl",
    ]


def test_release_file_lists_checksums_of_the_indexes() -> None:
    text = mirror.release_file({"Packages": b"abc"})
    assert f" {hashlib.sha256(b'abc').hexdigest()} 3 Packages" in text
    assert "Date: " in text


def test_write_with_sha_writes_upstream_style_checksum(tmp_path: Path) -> None:
    path = tmp_path / "etcd/v3.5.1/etcd.tar.gz"
    digest = mirror.write_with_sha(path, b"data")
    assert (tmp_path / "etcd/v3.5.1/etcd.tar.gz.sha256").read_text() == f"{digest}  etcd.tar.gz\n"


def test_index_names_every_artifact_and_what_kubernetes_lacks() -> None:
    entries = [site.Entry("etcd", "3.5.1", "etcd/v3.5.1/etcd-v3.5.1-linux-amd64.tar.gz", "ab")]
    index = site.build_index("http://10.77.0.1:8080", entries)
    assert index["artifacts"]["etcd"]["url"] == (
        "http://10.77.0.1:8080/etcd/v3.5.1/etcd-v3.5.1-linux-amd64.tar.gz"
    )
    assert index["kubernetes"]["available"] is False
    assert "kube-apiserver" in index["kubernetes"]["missing"]
    assert index["apt"]["source"] == (
        "deb [signed-by=/etc/apt/keyrings/groundwork-mirror.asc] http://10.77.0.1:8080/debian ./"
    )


# --- user artifacts ---------------------------------------------------------------


def supplied(sha: str = "aa" * 32) -> dict[str, tuple[Path, str]]:
    return {b: (Path(f"/x/{b}"), sha) for b in artifacts.SERVER_BINARIES}


def test_artifacts_matching_their_pins_are_accepted() -> None:
    checked = artifacts.check_artifacts(supplied(), "1.36.4", lambda c, v: "AA" * 32)
    assert {a.component for a in checked} == set(artifacts.SERVER_BINARIES)
    api = next(a for a in checked if a.component == "kube-apiserver")
    assert api.path == "kubernetes/release/v1.36.4/bin/linux/amd64/kube-apiserver"


def test_artifacts_without_a_pin_are_refused_with_the_fix() -> None:
    with pytest.raises(LabError, match=r"no pinned sha256 in groundwork/versions\.py"):
        artifacts.check_artifacts(supplied(), "1.36.4", lambda c, v: None)


def test_artifacts_with_a_wrong_checksum_or_missing_are_refused() -> None:
    files = supplied()
    del files["kubelet"]
    with pytest.raises(LabError) as caught:
        artifacts.check_artifacts(files, "1.36.4", lambda c, v: "bb" * 32)
    assert "kubelet is missing" in str(caught.value)
    assert "is not the pinned" in str(caught.value)


# --- ssh --------------------------------------------------------------------------


def test_known_hosts_pins_address_and_name_without_the_comment() -> None:
    lab = make_lab()
    text = ssh.format_known_hosts([(lab.nodes[1], KEY), (lab.nodes[0], KEY)])
    lines = text.splitlines()
    assert lines[0].startswith("10.77.0.11,cp1 ssh-ed25519 AAAAC3")
    assert lines[1].startswith("10.77.0.21,w1 ssh-ed25519 ")
    assert "root@cp1" not in text


def test_known_hosts_uses_bracket_form_for_other_ports() -> None:
    lab = make_lab(port=2222)
    assert ssh.format_known_hosts([(lab.nodes[0], KEY)]).startswith("[10.77.0.11]:2222,[cp1]:2222 ")


def test_garbage_host_key_is_refused() -> None:
    with pytest.raises(LabError):
        ssh.parse_public_key("not a key")


def test_ssh_argv_checks_host_keys_strictly(tmp_path: Path) -> None:
    target = ssh.SshTarget(IPv4Address("10.77.0.11"), 22, "root", tmp_path / "k", tmp_path / "kh")
    argv = target.argv(["true"])
    joined = " ".join(argv)
    assert "StrictHostKeyChecking=yes" in joined
    assert f"UserKnownHostsFile={tmp_path / 'kh'}" in joined
    assert "StrictHostKeyChecking=no" not in joined
    assert argv[-3:] == ["10.77.0.11", "--", "true"]


# --- host -------------------------------------------------------------------------


def test_missing_tools_name_their_debian_packages() -> None:
    # runc is looked up by its absolute path, so it depends on this host.
    found = missing_packages(lambda tool: None if tool == "debootstrap" else "/usr/bin/x")
    assert found[0] == "debootstrap" and set(found) <= {"debootstrap", "runc"}
    packages = missing_packages(lambda tool: None)
    assert {"podman", "debootstrap", "dpkg-dev", "openssh-client"} <= set(packages)


def test_host_packages_file_lists_what_the_lab_needs() -> None:
    listed = (Path(__file__).resolve().parents[2] / "scripts/host-packages.txt").read_text().split()
    assert {"podman", "runc", "debootstrap", "dpkg-dev", "openssh-client"} <= set(listed)


# --- bad input ----------------------------------------------------------------------


def test_not_root_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from groundwork.lab import host

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="needs root"):
        host.ensure_host(lambda message: None)


def test_cli_lab_up_on_a_stack_without_lab_exits_1_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from groundwork.cli import main

    assert main(["lab", "up", "--stack", "dev"]) == 1
    err = capsys.readouterr().err
    assert "no lab block" in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_cli_lab_verbs_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    from groundwork.cli import main

    for verb in ("up", "down", "status", "ssh"):
        with pytest.raises(SystemExit) as exited:
            main(["lab", verb, "--help"])
        assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--artifacts" in out and "StrictHostKeyChecking=yes" in out


def test_only_the_components_in_images_push_them_again() -> None:
    """Building a Kubernetes release to upgrade to changes no image."""

    def made(name: str, sha: str = "a") -> Built:
        return Built(name, "1", Path("/x"), {name: sha})

    images = ("kubernetes", "etcd", "coredns", "local-path-provisioner", "traefik")
    built = {n: made(n) for n in images}
    key = registry.images_key(built)
    assert registry.images_key({**built, "kubernetes-1.37": made("kubernetes-1.37")}) == key
    assert registry.images_key({**built, "containerd": made("containerd")}) == key
    assert registry.images_key({**built, "traefik": made("traefik", "b")}) != key
    # The sample API server's etcd image holds the etcd built here.
    assert registry.images_key({**built, "etcd": made("etcd", "b")}) != key

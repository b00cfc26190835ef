"""Pre-flight rules (groundwork/preflight.py): every problem of a node, each in plain words."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _local_ansible import ANSIBLE_PLAYBOOK, playbook_env

from groundwork import preflight

DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
DF = (
    "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
    "/dev/vda         264212084 28499068  77891844      27% /\n"
)
EXPECT = preflight.Expectations(address="10.0.0.11", ssh_user="ops", etcd_member=True)
READY = preflight.Answers(
    addresses="2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0",
    os_release=DEBIAN_12,
    kernel="6.1.0-27-amd64",
    clock="1000.20",
    disk=DF,
    uid="0",
    controller_time=1000.0,
    round_trip=0.1,
)


def test_a_ready_node_has_no_problems() -> None:
    assert preflight.problems(EXPECT, READY) == []


def test_every_problem_is_reported_at_once() -> None:
    answers = dataclasses.replace(
        READY,
        addresses="",
        os_release='ID=centos\nVERSION_ID="9"\n',
        kernel="4.18.0-513.el8.x86_64",
        clock="1030.0",
        disk=DF.replace("77891844", "1024"),
        uid="1000",
    )
    found = preflight.problems(EXPECT, answers)
    assert len(found) == 6, found
    text = "\n".join(found)
    assert "holds no address 10.0.0.11" in text
    assert "passwordless sudo" in text and "'ops'" in text
    assert "runs centos 9" in text
    assert "kernel 4.18.0-513.el8.x86_64 is older than 5.10" in text
    assert "clock is +30.0 s off" in text
    assert "1 MiB free on /var/lib" in text


def test_old_debian_is_refused_and_ubuntu_accepted() -> None:
    old = dataclasses.replace(READY, os_release='ID=debian\nVERSION_ID="11"\n')
    assert preflight.problems(EXPECT, old) == [
        "runs debian 11; the roles need debian >= 12, ubuntu >= 22"
    ]
    ubuntu = dataclasses.replace(READY, os_release='ID=ubuntu\nVERSION_ID="24.04"\n')
    assert preflight.problems(EXPECT, ubuntu) == []


def test_clock_skew_allows_for_the_round_trip() -> None:
    # 2.4 s off, but the clock was read somewhere within a 1 s round trip.
    slow = dataclasses.replace(READY, clock="1002.4", round_trip=1.0)
    assert preflight.problems(EXPECT, slow) == []
    assert preflight.problems(EXPECT, dataclasses.replace(slow, round_trip=0.2))


def test_disk_is_only_checked_on_etcd_members() -> None:
    full = dataclasses.replace(READY, disk=DF.replace("77891844", "10"))
    worker = dataclasses.replace(EXPECT, etcd_member=False)
    assert preflight.problems(worker, full) == []
    assert preflight.problems(EXPECT, full) == [
        "0 MiB free on /var/lib; an etcd member needs 2048 MiB"
    ]


def test_unreadable_answers_are_problems_not_crashes() -> None:
    garbage = dataclasses.replace(READY, kernel="", clock="soon", disk="", os_release="")
    found = preflight.problems(EXPECT, garbage)
    assert any("cannot read the clock" in p for p in found)
    assert any("cannot read free disk space" in p for p in found)
    assert any("kernel ? is older" in p for p in found)
    assert any("runs ? " in p for p in found)


def test_a_device_type_the_kernel_lacks_is_named_with_the_field_and_what_needs_it() -> None:
    modules = [
        {"name": "overlay", "reason": "containerd's overlayfs snapshotter"},
        {"name": "bridge", "reason": "the CNI bridge (cni0) pods attach to"},
        {"name": "wireguard", "reason": "flannel WireGuard tunnels"},
    ]
    needs = preflight.link_needs(modules)
    assert [n.kind for n in needs] == ["bridge", "wireguard"]  # overlay is no device
    expect = dataclasses.replace(EXPECT, links=needs)
    answers = dataclasses.replace(
        READY,
        links={"bridge": "", "wireguard": "Error: Unknown device type."},
    )
    assert preflight.problems(expect, answers) == [
        "the kernel cannot create a wireguard device (flannel WireGuard tunnels; "
        "cluster.network.backend): Error: Unknown device type."
    ]
    # A probe that did not answer is a problem too, not a pass.
    unprobed = preflight.problems(expect, dataclasses.replace(READY, links={"bridge": ""}))
    assert len(unprobed) == 1 and "not probed" in unprobed[0]


def test_the_link_probe_creates_the_device_and_deletes_it() -> None:
    argv = preflight.link_probe_command("vxlan")
    assert argv[:2] == ["sh", "-c"]
    assert (
        "ip link add gw-probe0 type vxlan id 4242 dstport 4789 && ip link del gw-probe0" in argv[2]
    )


# /proc/filesystems of a kernel whose NFS client is loaded, and of one without.
PROC_FILESYSTEMS = "nodev\tsysfs\nnodev\tproc\nnodev\ttmpfs\n\text4\nnodev\toverlay\n"
WITH_NFS = PROC_FILESYSTEMS + "nodev\tnfs\nnodev\tnfs4\n"
NFS_CLASS = {
    "name": "nfs",
    "field": "cluster.storage.classes[1].driver",
    "reason": "storage class shared",
}


def test_the_snapshot_schedule_is_judged_by_the_members_systemd() -> None:
    """A schedule validate's pattern lets through is refused by the pre-flight,
    naming the field, before any timer is written; no schedule, no question."""
    assert "schedule" not in preflight.probe_commands(EXPECT)
    expect = dataclasses.replace(EXPECT, snapshot_schedule="*-13-01")
    assert preflight.probe_commands(expect)["schedule"] == [
        "systemd-analyze",
        "calendar",
        "*-13-01",
    ]
    assert preflight.problems(expect, dataclasses.replace(READY, schedule_refused="")) == []
    refused = "Failed to parse calendar specification '*-13-01': Invalid argument"
    found = preflight.problems(expect, dataclasses.replace(READY, schedule_refused=refused))
    assert found == [
        "systemd-analyze refuses the snapshot schedule '*-13-01' "
        f"(cluster.etcd.snapshots.schedule): {refused}"
    ]
    # A probe that did not answer is a problem, not a pass.
    assert "not asked" in preflight.problems(expect, READY)[0]


def test_a_stack_without_nfs_classes_asks_nothing_about_nfs() -> None:
    assert preflight.filesystem_needs([]) == ()
    commands = preflight.probe_commands(EXPECT)
    assert "filesystems" not in commands
    assert not any(name.startswith("module_") for name in commands)
    # Nothing read is nothing judged.
    assert preflight.problems(EXPECT, READY) == []


def test_an_nfs_class_probes_the_kernel_read_only() -> None:
    expect = dataclasses.replace(EXPECT, filesystems=preflight.filesystem_needs([NFS_CLASS]))
    commands = preflight.probe_commands(expect)
    assert commands["filesystems"] == ["cat", "/proc/filesystems"]
    # A dry run: modprobe loads nothing, in `up --dry-run` or not.
    assert commands["module_nfs"] == ["modprobe", "-n", "-q", "nfs"]


def test_a_kernel_with_its_nfs_client_registered_passes() -> None:
    expect = dataclasses.replace(EXPECT, filesystems=preflight.filesystem_needs([NFS_CLASS]))
    loaded = dataclasses.replace(READY, filesystems=WITH_NFS, modules={"nfs": "exit 1"})
    assert preflight.problems(expect, loaded) == []
    # nfs4 alone (the v4 client registered) is an NFS client too.
    v4 = dataclasses.replace(loaded, filesystems=PROC_FILESYSTEMS + "nodev\tnfs4\n")
    assert preflight.problems(expect, v4) == []


def test_an_nfs_module_not_loaded_yet_passes() -> None:
    # A normal host: the module is installed and loads at the first mount.
    expect = dataclasses.replace(EXPECT, filesystems=preflight.filesystem_needs([NFS_CLASS]))
    installed = dataclasses.replace(READY, filesystems=PROC_FILESYSTEMS, modules={"nfs": ""})
    assert preflight.problems(expect, installed) == []


def test_a_kernel_without_an_nfs_client_is_named_with_the_class_and_its_field() -> None:
    expect = dataclasses.replace(EXPECT, filesystems=preflight.filesystem_needs([NFS_CLASS]))
    lacking = dataclasses.replace(READY, filesystems=PROC_FILESYSTEMS, modules={"nfs": "exit 1"})
    assert preflight.problems(expect, lacking) == [
        "the kernel has no NFS client (storage class shared, "
        "cluster.storage.classes[1].driver): nfs is not in /proc/filesystems and modprobe "
        "finds no nfs module for kernel 6.1.0-27-amd64 (modprobe -n -q nfs: exit 1); pods "
        "on this node could not mount the volumes: install or load the kernel's NFS client "
        "(the nfs module), or use another storage driver"
    ]


def test_two_nfs_classes_make_one_problem_naming_both() -> None:
    scratch = {**NFS_CLASS, "field": "cluster.storage.classes[2].driver"}
    scratch["reason"] = "storage class scratch"
    needs = preflight.filesystem_needs([NFS_CLASS, scratch])
    expect = dataclasses.replace(EXPECT, filesystems=needs)
    assert list(preflight.probe_commands(expect)).count("module_nfs") == 1
    lacking = dataclasses.replace(READY, filesystems="", modules={"nfs": "exit 1"})
    (problem,) = preflight.problems(expect, lacking)
    assert (
        "(storage class shared, cluster.storage.classes[1].driver; "
        "storage class scratch, cluster.storage.classes[2].driver)" in problem
    )


def test_an_unanswered_nfs_probe_is_a_problem_not_a_pass() -> None:
    expect = dataclasses.replace(EXPECT, filesystems=preflight.filesystem_needs([NFS_CLASS]))
    (problem,) = preflight.problems(expect, READY)
    assert "/proc/filesystems was not read and `modprobe -n -q nfs` was not run" in problem
    # No modprobe on the node: its error is the reason given.
    missing = dataclasses.replace(
        READY, filesystems=PROC_FILESYSTEMS, modules={"nfs": "No such file or directory"}
    )
    (problem,) = preflight.problems(expect, missing)
    assert "(modprobe -n -q nfs: No such file or directory)" in problem


def test_a_filesystem_without_a_probe_is_refused_as_bad_arguments() -> None:
    # The action plugin reports a KeyError as bad arguments, before any probe.
    with pytest.raises(KeyError, match="cifs"):
        preflight.filesystem_needs([{"name": "cifs", "field": "x", "reason": "y"}])


def _nfs_client_here() -> bool:
    """Whether this machine's kernel has an NFS client, by the rule under test."""
    registered = preflight.registered_filesystems(Path("/proc/filesystems").read_text())
    if registered & {"nfs", "nfs4"}:
        return True
    modprobe = shutil.which("modprobe") or shutil.which("modprobe", path="/usr/sbin:/sbin")
    argv = [modprobe, "-n", "-q", "nfs"] if modprobe else None
    return argv is not None and subprocess.run(argv, check=False).returncode == 0


def _problems_on_this_machine(
    tmp_path: Path, runs: dict[str, dict[str, object]]
) -> list[list[str]]:
    """The action plugin on this machine, under --check as `up --dry-run` runs
    it: the problems of each run (name -> its arguments), in order."""
    tasks: list[dict[str, object]] = [
        {"name": name, "groundwork_preflight": args, "ignore_errors": True, "register": f"run{i}"}
        for i, (name, args) in enumerate(runs.items())
    ]
    answers = tmp_path / "answers.json"
    found = ", ".join(f"run{i}.problems" for i in range(len(runs)))
    tasks.append(
        {
            # Written despite --check, to be read here.
            "name": "Keep the answers",
            "ansible.builtin.copy": {
                "content": "{{ [" + found + "] | to_json }}",
                "dest": str(answers),
                "mode": "0644",
            },
            "check_mode": False,
        }
    )
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": tasks}]))
    inventory = tmp_path / "hosts.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"node": host}}}))
    result = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "--check", "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env=playbook_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert answers.exists(), result.stdout + result.stderr
    problems: list[list[str]] = json.loads(answers.read_text())
    return problems


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not installed")
def test_the_nfs_probe_runs_in_check_mode(tmp_path: Path) -> None:
    """The NFS probe runs under --check too, and only when a class asks for it."""
    task = {"address": "127.0.0.1", "etcd_member": False}
    problems = _problems_on_this_machine(
        tmp_path,
        {"With an nfs class": {**task, "kernel_filesystems": [NFS_CLASS]}, "Without": task},
    )
    with_nfs, without = ([p for p in found if "NFS client" in p] for found in problems)
    assert without == []
    if _nfs_client_here():
        assert with_nfs == []
    else:
        (problem,) = with_nfs
        assert "cluster.storage.classes[1].driver" in problem
        assert "nfs is not in /proc/filesystems and modprobe finds no nfs module" in problem


def _preflight_task(playbook: str) -> dict[str, object]:
    plays = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "playbooks" / playbook).read_text()
    )
    for play in plays:
        for task in play.get("tasks", []):
            if "groundwork_preflight" in task:
                return dict(task["groundwork_preflight"])
    raise AssertionError(f"no pre-flight in {playbook}")


def test_a_joining_etcd_member_is_checked_like_every_node_before_it_joins() -> None:
    """etcd_member_add.yml changes the etcd cluster before site.yml runs: its
    pre-flight asks for the same kernel devices and filesystems, so a node
    site.yml would refuse never joins first."""
    site, member = _preflight_task("site.yml"), _preflight_task("etcd_member_add.yml")
    for key in ("address", "ssh_user", "kernel_modules", "kernel_filesystems"):
        assert member[key] == site[key], key
    assert member["etcd_member"] is True
    # The joining member's own systemd judges the schedule its timer will use.
    assert "gw_etcd_snapshot_schedule" in str(member["snapshot_schedule"])
    assert "gw_etcd_snapshot_schedule" in str(site["snapshot_schedule"])


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not installed")
@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_this_machines_systemd_judges_the_snapshot_schedule(tmp_path: Path) -> None:
    """A month 13 fits validate's pattern; the member's systemd refuses it."""
    task = {"address": "127.0.0.1", "etcd_member": False}
    bad, good = _problems_on_this_machine(
        tmp_path,
        {
            "A month 13": {**task, "snapshot_schedule": "*-13-01"},
            "Daily": {**task, "snapshot_schedule": "daily"},
        },
    )
    (problem,) = [p for p in bad if "snapshot schedule" in p]
    assert "(cluster.etcd.snapshots.schedule): Failed to parse calendar specification" in problem
    assert [p for p in good if "snapshot schedule" in p] == []

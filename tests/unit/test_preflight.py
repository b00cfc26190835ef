"""Pre-flight rules (groundwork/preflight.py): every problem of a node, each in plain words."""

from __future__ import annotations

import dataclasses

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

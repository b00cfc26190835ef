"""`groundwork init`: answers -> a stack that validates; host keys shown as
ssh-keygen's fingerprints; nothing written on bad answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundwork.cli import main
from groundwork.init import (
    Answers,
    HostKey,
    InitError,
    built_versions,
    node_cidr,
    parse_keyscan,
    parse_node,
    stack_document,
)
from groundwork.spec import load_stack, parse_cluster

# A lab node's key and what `ssh-keygen -lf` printed for it (2026-12-06).
KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIIRVHfXZXUO6Q5inhE9x+4T2wC4NEpNycz+VrmD2gOka"
FINGERPRINT = "SHA256:Bdh64KqfUDi1aG2WZvzQOzhIlKA/db5efQtywtSs6LY"
FLAGS = [
    "--node",
    "cp1=10.20.0.11:cp",
    "--node",
    "w1=10.20.0.21",
    "--endpoint-dns",
    "api.site.internal",
    "--mirror",
    "http://mirror.site.internal/groundwork",
    "--no-scan",
]


def test_node_flags() -> None:
    assert parse_node("cp1=10.20.0.11:cp").roles == ("control-plane", "etcd")
    assert parse_node("w1=10.20.0.21").roles == ("worker",)
    assert parse_node("e1=10.20.0.31:etcd,worker").roles == ("etcd", "worker")
    for bad, said in [
        ("cp1", "expected NAME=ADDRESS"),
        ("cp1=10.20.0.300", "not an IPv4 address"),
        ("cp1=10.20.0.11:master", "unknown role 'master'"),
    ]:
        with pytest.raises(InitError, match=said):
            parse_node(bad)


def test_the_node_network_is_the_24_the_nodes_share_or_asked_for() -> None:
    nodes = (parse_node("a=10.20.0.11"), parse_node("b=10.20.0.200"))
    assert node_cidr(nodes) == "10.20.0.0/24"
    with pytest.raises(InitError, match="--node-cidr"):
        node_cidr((parse_node("a=10.20.0.11"), parse_node("b=10.20.1.11")))


def test_the_answers_make_a_valid_stack_with_the_versions_this_checkout_builds() -> None:
    answers = Answers(
        "site",
        (parse_node("cp1=10.20.0.11:cp"), parse_node("w1=10.20.0.21")),
        "http://mirror.site.internal/groundwork",
        endpoint_dns="api.site.internal",
    )
    spec = parse_cluster(stack_document(answers, built_versions()))
    lab = load_stack("lab")  # the lab runs what the checkout builds
    assert spec.kubernetes.version == lab.kubernetes.version
    assert spec.etcd.version == lab.etcd.version
    assert [n.name for n in spec.nodes] == ["cp1", "w1"]


def test_fingerprints_are_what_ssh_keygen_prints() -> None:
    (key,) = parse_keyscan(f"# 10.20.0.11:22 SSH-2.0-OpenSSH_9.2\n10.20.0.11 ssh-ed25519 {KEY}\n")
    assert key == HostKey("10.20.0.11", "ssh-ed25519", KEY)
    assert key.fingerprint == FINGERPRINT


def test_init_writes_a_stack_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.site.yaml"
    assert main(["init", "site", *FLAGS, "--stack-file", str(target)]) == 0
    assert main(["validate", "--stack-file", str(target)]) == 0
    assert target.read_text().startswith("# site: written by `groundwork init` on ")
    # Run again: the file is never overwritten.
    before = target.read_text()
    assert main(["init", "site", *FLAGS, "--stack-file", str(target)]) == 1
    assert target.read_text() == before


def test_answers_that_make_an_invalid_stack_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "Pulumi.site.yaml"
    # Two etcd members: no quorum survives one loss.
    flags = [*FLAGS, "--node", "cp2=10.20.0.12:cp", "--stack-file", str(target)]
    assert main(["init", "site", *flags]) == 2
    assert not target.exists()
    assert "cluster.etcd: 2 etcd members" in "".join(capsys.readouterr())


def test_missing_answers_off_a_terminal_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "site", "--stack-file", str(tmp_path / "s.yaml")]) == 1
    assert "missing: --node, --mirror" in "".join(capsys.readouterr())


def test_a_non_default_ssh_port_is_declared_on_every_node() -> None:
    answers = Answers(
        "site",
        (parse_node("cp1=10.20.0.11:cp"),),
        "http://mirror.site.internal/groundwork",
        endpoint_dns="api.site.internal",
        ssh_port=2222,
    )
    spec = parse_cluster(stack_document(answers, built_versions()))
    assert [n.ssh.port for n in spec.nodes] == [2222]

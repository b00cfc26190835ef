"""Role `etcd`: members running, healthy, with every declared member, TLS enforced."""

from __future__ import annotations

import json
from typing import Any

import _facts as facts
from _live import check_service, listening_ports, version_in

from groundwork.verify.drift import Expect
from groundwork.verify.expect import (
    ETCD_BINARIES,
    ETCD_DATA_DIR,
    ETCD_PKI,
    ETCD_USER,
    SNAPSHOT_TIMER,
    NodeExpectation,
)

KEYS = facts.ETCD_KEYS
CERTS = facts.ETCD_CERTS


def test_etcd_service(etcd_node: NodeExpectation, host: Any, expect: Expect) -> None:
    check_service(host, expect, "etcd.service")
    if SNAPSHOT_TIMER in etcd_node.services:  # the stack's etcd.snapshots
        check_service(host, expect, SNAPSHOT_TIMER)
    expect.done()


def test_etcd_binaries(etcd_node: NodeExpectation, host: Any, expect: Expect) -> None:
    for path in ETCD_BINARIES:
        out = host.run(facts.binary_version(path))
        live = version_in(out.stdout) if out.rc == 0 else "(missing or broken)"
        expect.equal(f"{path} version", (etcd_node.etcd_version or "").lstrip("v"), live)
    expect.done()


def test_etcd_ports(etcd_node: NodeExpectation, host: Any, expect: Expect) -> None:
    live = listening_ports(host)
    ports = {port for _, port in live}
    for listen in etcd_node.listen:
        if not listen.what.startswith("etcd"):
            continue
        if listen.address is None:
            ok = listen.port in ports
            declared = f"listening on :{listen.port}"
        else:
            ok = any(p == listen.port and a in (listen.address, "0.0.0.0", "*") for a, p in live)
            declared = f"listening on {listen.address}:{listen.port}"
        where = sorted(f"{a}:{p}" for a, p in live if p == listen.port) or "not listening"
        expect.true(listen.what, ok, declared, where)
    expect.done()


def test_etcd_files(etcd_node: NodeExpectation, host: Any, expect: Expect) -> None:
    """Private keys 0600 owned by etcd, certificates present, data dir 0700."""
    paths = facts.ETCD_FILES
    out = host.run(facts.stat(paths)).stdout
    live = {}
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[0] in paths:
            live[parts[0]] = (parts[1], parts[2], parts[3])
    for key in KEYS:
        path = f"{ETCD_PKI}/{key}"
        mode, owner, _ = live.get(path, ("(absent)", "(absent)", ""))
        expect.equal(f"{path} mode", "600", mode)
        expect.equal(f"{path} owner", ETCD_USER, owner)
    for cert in CERTS:
        path = f"{ETCD_PKI}/{cert}"
        expect.true(f"{path}", path in live, "present", "(absent)")
    mode, owner, _kind = live.get(ETCD_DATA_DIR, ("(absent)", "(absent)", ""))
    expect.equal(f"{ETCD_DATA_DIR} mode", "700", mode)
    expect.equal(f"{ETCD_DATA_DIR} owner", ETCD_USER, owner)
    expect.done()


def test_etcd_members(etcd_node: NodeExpectation, host: Any, stack: Any, expect: Expect) -> None:
    """Asked through this member: every declared member is listed and healthy."""
    declared = {m.name: m for m in stack.expect.etcd_members}
    own = etcd_node.etcd_member.client_url if etcd_node.etcd_member else ""
    out = host.run(facts.etcdctl([own], "member", "list"))
    if out.rc != 0:
        expect.differs("member list", "answers", f"failed: {out.stderr.strip()[:200]}")
        expect.done()
    members = json.loads(out.stdout).get("members", [])
    live = {m.get("name", ""): m for m in members}
    expect.equal("members", sorted(declared), sorted(live))
    for name, member in declared.items():
        got = live.get(name)
        if got is None:
            continue
        expect.equal(f"{name} peer URLs", [member.peer_url], sorted(got.get("peerURLs", [])))
        expect.equal(f"{name} client URLs", [member.client_url], sorted(got.get("clientURLs", [])))
    urls = [m.client_url for m in declared.values()]
    health = host.run(facts.etcdctl(urls, "endpoint", "health"))
    try:
        results = json.loads(health.stdout) if health.stdout.strip() else []
    except ValueError:
        results = []
    healthy = {r.get("endpoint"): r.get("health") for r in results}
    for name, member in declared.items():
        ok = healthy.get(member.client_url) is True
        live_state = "healthy" if ok else "unhealthy or unreachable"
        if not ok and healthy.get(member.client_url) is None:
            live_state = "no answer"
        expect.true(f"{name} health", ok, "healthy", live_state)
    expect.done()


def test_etcd_requires_client_certificate(
    etcd_node: NodeExpectation, host: Any, expect: Expect
) -> None:
    member = etcd_node.etcd_member
    assert member is not None, f"{etcd_node.name}: no etcd member in the plan"
    out = host.run(facts.tls_probe(member.client_url))
    if out.rc != 0:
        expect.differs("TLS probe", "runs", out.stderr.strip()[-200:])
        expect.done()
    live = json.loads(out.stdout)
    # The control: a client with the certificate is served, so a refusal
    # below is etcd enforcing client certificates, not etcd being down.
    expect.true(
        "client with certificate",
        live["with_cert"].startswith("HTTP/1.1 200"),
        "HTTP/1.1 200",
        live["with_cert"],
    )
    expect.true(
        "client without certificate",
        live["without_cert"].startswith("refused") or "HTTP" not in live["without_cert"],
        "refused",
        live["without_cert"],
    )
    expect.done()

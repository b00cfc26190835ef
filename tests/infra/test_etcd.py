"""Role `etcd`: members running, healthy, with every declared member, TLS enforced."""

from __future__ import annotations

import json
import shlex
from typing import Any

from _live import check_service, listening_ports, version_in

from groundwork.verify.drift import Expect
from groundwork.verify.expect import (
    ETCD_BINARIES,
    ETCD_DATA_DIR,
    ETCD_PKI,
    ETCD_USER,
    NodeExpectation,
)

KEYS = ("server.key", "peer.key", "healthcheck-client.key")
CERTS = ("ca.crt", "server.crt", "peer.crt", "healthcheck-client.crt")


def etcdctl(endpoints: list[str], *args: str) -> str:
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


def test_etcd_service(etcd_node: NodeExpectation, host: Any, expect: Expect) -> None:
    check_service(host, expect, "etcd.service")
    expect.done()


def test_etcd_binaries(etcd_node: NodeExpectation, host: Any, expect: Expect) -> None:
    for path in ETCD_BINARIES:
        out = host.run(f"{path} version")
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
    paths = [f"{ETCD_PKI}/{k}" for k in KEYS + CERTS] + [ETCD_DATA_DIR]
    out = host.run("stat -c '%n %a %U %F' " + " ".join(paths) + " 2>&1").stdout
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
    out = host.run(etcdctl([own], "member", "list"))
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
    health = host.run(etcdctl(urls, "endpoint", "health"))
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


# Runs on the node: one TLS client with a certificate (must be served) and one
# with only the CA (must be refused), both against this member's client URL.
_TLS_PROBE = r"""
import json, socket, ssl, sys
host, port, pki = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def get(cert):
    ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(pki + "/healthcheck-client.crt", pki + "/healthcheck-client.key")
    try:
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


def test_etcd_requires_client_certificate(
    etcd_node: NodeExpectation, host: Any, expect: Expect
) -> None:
    member = etcd_node.etcd_member
    assert member is not None, f"{etcd_node.name}: no etcd member in the plan"
    address = member.client_url.split("//", 1)[1].rsplit(":", 1)
    out = host.run(f"python3 -c {shlex.quote(_TLS_PROBE)} {address[0]} {address[1]} {ETCD_PKI}")
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

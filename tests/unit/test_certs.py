"""`groundwork certs check` (groundwork/certs.py): the PKI on the controller
and what every node serves, each with its days to expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from groundwork import certs
from groundwork.cli import main
from groundwork.cli.certs import MIN_CERTIFICATE_DAYS as CLI_FLOOR
from groundwork.pki import ensure_pki
from groundwork.plan import build_plan
from groundwork.spec import load_stack
from groundwork.verify.expect import MIN_CERTIFICATE_DAYS
from groundwork.verify.kube import KubeError, ServedCertificate

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_every_tls_endpoint_of_the_lab_is_listed() -> None:
    spec = load_stack("lab")
    found = certs.endpoints(spec, build_plan(spec))
    by_node = {(e.node, e.port) for e in found}
    # Three apiservers (on their own port: haproxy holds 6443 for the VIP),
    # five kubelets, three etcd members on two ports each.
    apiserver = build_plan(spec).endpoint.apiserver_port
    assert {(n, apiserver) for n in ("cp1", "cp2", "cp3")} <= by_node
    assert {(n, 10250) for n in ("cp1", "cp2", "cp3", "w1", "w2")} <= by_node
    assert {(n, p) for n in ("cp1", "cp2", "cp3") for p in (2379, 2380)} <= by_node
    assert len(found) == 3 + 5 + 6


def test_a_served_certificate_and_an_endpoint_that_does_not_answer() -> None:
    spec = load_stack("lab")
    found = [e for e in certs.endpoints(spec, build_plan(spec)) if e.node == "w1"]

    def fetch(address: str, port: int) -> ServedCertificate:
        if port == 10250:
            return ServedCertificate((), (address,), NOW + timedelta(days=10))
        raise KubeError(f"{address}:{port}: refused")

    (row,) = certs.served_rows(found, fetch)
    assert row.where == "w1" and row.name == "kubelet-w1 :10250"
    assert row.days_left(NOW) == pytest.approx(10)
    assert not row.ok(NOW, 30) and row.ok(NOW, 7)
    down = certs.served_rows([certs.Endpoint("cp1", "etcd peer", "10.77.0.11", 2380)], fetch)
    assert down[0].not_after is None and "refused" in down[0].problem
    assert not down[0].ok(NOW, 0)


def test_the_pki_on_the_controller_is_read_and_the_cli_exits_by_the_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = load_stack("lab")
    plan = build_plan(spec)
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    from groundwork.pki import pki_dir

    ensure_pki(pki_dir(spec.name), plan.certificates)
    rows = certs.pki_rows(pki_dir(spec.name))
    assert any(r.name == "ca.crt" for r in rows)
    assert all(r.ok(datetime.now(UTC), MIN_CERTIFICATE_DAYS) for r in rows)
    # No node answers here: the served rows fail the check, named.
    monkeypatch.setattr(
        certs, "served_certificate", lambda a, p: (_ for _ in ()).throw(OSError("no route"))
    )
    assert main(["certs", "check", "--stack", "lab", "-o", "json"]) == 1
    out = capsys.readouterr().out
    assert '"where": "controller"' in out and "no route" in out


def test_the_cli_floor_is_verifys() -> None:
    assert CLI_FLOOR == MIN_CERTIFICATE_DAYS

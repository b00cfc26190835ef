"""`groundwork kubeconfig`: the admin kubeconfig from the stack's PKI, 0600,
pointing at the stack's endpoint; a clear error before any PKI exists."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from groundwork.cli import main
from groundwork.kubeconfig import KubeconfigError, write_admin
from groundwork.pki import ensure_pki, pki_dir
from groundwork.plan import build_plan
from groundwork.spec import load_stack


def test_written_0600_with_the_endpoint_and_the_admin_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    spec = load_stack("lab")
    plan = build_plan(spec)
    with pytest.raises(KubeconfigError, match="run `groundwork up --stack lab` first"):
        write_admin(spec, plan)
    ensure_pki(pki_dir(spec.name), plan.certificates)
    path = write_admin(spec, plan)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "https://10.77.0.10:6443"
    assert config["users"][0]["user"]["client-key-data"]
    # The CLI prints the path alone, for KUBECONFIG=$(groundwork kubeconfig).
    assert main(["kubeconfig", "--stack", "lab"]) == 0
    assert capsys.readouterr().out == f"{path}\n"
    target = tmp_path / "elsewhere"
    assert main(["kubeconfig", "--stack", "lab", "-o", str(target)]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == path.read_text()

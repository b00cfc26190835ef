"""roles/etcd's etcd-wait-healthy script, run with fake etcdctl, systemctl and
journalctl: it returns once the member is healthy, stops at once (naming
etcd's error and the way out) when the member is not running, and gives up
after its timeout otherwise."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import jinja2
import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "roles/etcd/templates/etcd-wait-healthy.sh.j2"

# What etcd 3.5 logs when its write-ahead log is corrupt (one line, trimmed).
FATAL_LINE = (
    '{"level":"fatal","ts":"2026-11-29T21:09:14.574Z","caller":"etcdmain/etcd.go:203",'
    '"msg":"discovery failed","error":"wal: max entry size limit exceeded",'
    '"stacktrace":"go.etcd.io/etcd/server/v3/etcdmain.startEtcdOrProxyV2\\n\\t/tmp/etcd"}'
)


def _fake(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # etcdctl: healthy when FAKE_HEALTHY=1, else says which endpoint is not.
    _fake(
        bin_dir / "etcdctl",
        'echo "$@" >> "$FAKE_CALLS"\n'
        '[ "$FAKE_HEALTHY" = 1 ] && { echo "https://10.0.0.13:2379 is healthy"; exit 0; }\n'
        'echo "https://10.0.0.13:2379 is unhealthy: context deadline exceeded" >&2; exit 1\n',
    )
    # systemctl show etcd ... --value: ActiveState and SubState, or Result.
    _fake(
        bin_dir / "systemctl",
        'case "$*" in *Result*) echo exit-code ;; *) printf "%s\\n%s\\n" $FAKE_STATE ;; esac\n',
    )
    _fake(bin_dir / "journalctl", 'printf "%s\\n" "starting" "$FAKE_LOG" "exiting"\n')
    (tmp_path / "etcdctl.env").write_text("ETCDCTL_API=3\n")
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(TEMPLATE.read_text())
    out = tmp_path / "etcd-wait-healthy"
    out.write_text(
        text.render(
            ansible_managed="Ansible managed",
            etcd_config_dir=str(tmp_path),
            etcd_bin_dir=str(bin_dir),
            etcd_health_timeout=60,
            etcd_member_name="cp3",
            etcd_data_dir="/var/lib/etcd",
        )
    )
    out.chmod(0o755)
    return out


def run(script: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    environment = os.environ | {
        "PATH": f"{script.parent / 'bin'}:{os.environ['PATH']}",
        "FAKE_CALLS": str(script.parent / "calls"),
        "FAKE_HEALTHY": "0",
        "FAKE_STATE": "active running",
        "FAKE_LOG": "",
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(script), *args], env=environment | env, capture_output=True, text=True, timeout=30
    )
    return result, time.monotonic() - started


def test_returns_once_healthy_and_bounds_each_ask(script: Path) -> None:
    result, _ = run(script, "--cluster", FAKE_HEALTHY="1")
    assert result.returncode == 0, result.stderr
    calls = (script.parent / "calls").read_text()
    assert calls.split() == [
        "--dial-timeout=1s",
        "--command-timeout=2s",
        "endpoint",
        "health",
        "--cluster",
    ]


def test_stops_at_once_naming_etcds_error_and_the_way_out(script: Path) -> None:
    result, seconds = run(script, FAKE_STATE="activating auto-restart", FAKE_LOG=FATAL_LINE)
    assert result.returncode == 3
    assert seconds < 5, "it waited for a member that is not running"
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "etcd member cp3 is not running (systemd: activating auto-restart, result exit-code),"
        " so waiting cannot help."
    )
    assert lines[1] == "etcd's last error: discovery failed: wal: max entry size limit exceeded."
    assert "`groundwork up --replace-member cp3`" in lines[2]
    assert "stacktrace" not in result.stderr


@pytest.mark.parametrize("state", ["failed failed", "inactive dead"])
def test_a_member_that_never_ran_or_gave_up_stops_the_wait_too(script: Path, state: str) -> None:
    result, _ = run(script, FAKE_STATE=state)
    assert result.returncode == 3
    assert "etcd's last error: none logged (journalctl -u etcd)." in result.stderr


def test_gives_up_after_the_timeout_with_etcdctls_words(script: Path) -> None:
    result, seconds = run(script, ETCD_HEALTH_TIMEOUT="1")
    assert result.returncode == 1
    assert 1 <= seconds < 5
    assert result.stderr.startswith("etcd member cp3: not healthy after 1 s:")
    assert "10.0.0.13:2379 is unhealthy" in result.stderr

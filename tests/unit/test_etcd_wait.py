"""roles/etcd's etcd-wait-healthy script, run with fake etcdctl, systemctl and
journalctl: it returns once the member is healthy, stops at once (naming
etcd's error and the way out) when the member is not running, and gives up
after its timeout otherwise. With --start or --restart it starts the member
itself and judges that start only: a restart loop and an error line left by
an earlier start do not count."""

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
    """The rendered script, with fakes on its PATH. The fakes keep the unit's
    state ("ActiveState SubState") and its invocation ID in files under
    tmp_path/unit; a restart makes invocation "new" in FAKE_STATE_AFTER_START.
    The journal holds one file of lines per invocation."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "unit").mkdir()
    # etcdctl: healthy when FAKE_HEALTHY=1 or the unit is active and
    # FAKE_HEALTHY_WHEN_ACTIVE=1, else says which endpoint is not.
    _fake(
        bin_dir / "etcdctl",
        'echo "$@" >> "$FAKE_CALLS"\n'
        'read -r active sub < "$FAKE_UNIT/state"\n'
        'if [ "$FAKE_HEALTHY" = 1 ] || { [ "$FAKE_HEALTHY_WHEN_ACTIVE" = 1 ]'
        ' && [ "$active" = active ]; }; then\n'
        '  echo "https://10.0.0.13:2379 is healthy"; exit 0\n'
        "fi\n"
        'echo "https://10.0.0.13:2379 is unhealthy: context deadline exceeded" >&2; exit 1\n',
    )
    _fake(
        bin_dir / "systemctl",
        'case "$*" in\n'
        '  restart*) echo restart >> "$FAKE_CALLS"; echo new > "$FAKE_UNIT/invocation"\n'
        '    echo "$FAKE_STATE_AFTER_START" > "$FAKE_UNIT/state"\n'
        '    case "$FAKE_STATE_AFTER_START" in active*) exit 0 ;; *) exit 1 ;; esac ;;\n'
        "  *Result*) echo exit-code ;;\n"
        '  *InvocationID*) cat "$FAKE_UNIT/invocation" ;;\n'
        '  *) tr " " "\\n" < "$FAKE_UNIT/state" ;;\n'
        "esac\n",
    )
    _fake(
        bin_dir / "journalctl",
        'id=${1#_SYSTEMD_INVOCATION_ID=}\ncat "$FAKE_UNIT/journal-$id" 2>/dev/null || true\n',
    )
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


def run(
    script: Path,
    *args: str,
    state: str = "active running",
    journal: dict[str, str] | None = None,
    **env: str,
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the script on a unit in `state`, invocation "old", whose journal
    holds `journal` (invocation -> text)."""
    unit = script.parent / "unit"
    (unit / "state").write_text(state + "\n")
    (unit / "invocation").write_text("old\n")
    for invocation, text in (journal or {}).items():
        (unit / f"journal-{invocation}").write_text(f"starting\n{text}\nexiting\n")
    environment = os.environ | {
        "PATH": f"{script.parent / 'bin'}:{os.environ['PATH']}",
        "FAKE_CALLS": str(script.parent / "calls"),
        "FAKE_UNIT": str(unit),
        "FAKE_HEALTHY": "0",
        "FAKE_HEALTHY_WHEN_ACTIVE": "0",
        "FAKE_STATE_AFTER_START": "active running",
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(script), *args], env=environment | env, capture_output=True, text=True, timeout=30
    )
    return result, time.monotonic() - started


def calls(script: Path) -> list[str]:
    path = script.parent / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_returns_once_healthy_and_bounds_each_ask(script: Path) -> None:
    result, _ = run(script, "--cluster", FAKE_HEALTHY="1")
    assert result.returncode == 0, result.stderr
    assert calls(script) == ["--dial-timeout=1s --command-timeout=2s endpoint health --cluster"]


def test_stops_at_once_naming_etcds_error_and_the_way_out(script: Path) -> None:
    result, seconds = run(script, state="activating auto-restart", journal={"old": FATAL_LINE})
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
    result, _ = run(script, state=state)
    assert result.returncode == 3
    assert "etcd's last error: none logged (journalctl -u etcd)." in result.stderr


def test_gives_up_after_the_timeout_with_etcdctls_words(script: Path) -> None:
    result, seconds = run(script, ETCD_HEALTH_TIMEOUT="1")
    assert result.returncode == 1
    assert 1 <= seconds < 5
    assert result.stderr.startswith("etcd member cp3: not healthy after 1 s:")
    assert "10.0.0.13:2379 is unhealthy" in result.stderr


def test_start_of_an_active_member_only_waits(script: Path) -> None:
    result, _ = run(script, "--start", FAKE_HEALTHY_WHEN_ACTIVE="1")
    assert result.returncode == 0, result.stderr
    assert "restart" not in calls(script)


def test_start_ends_a_restart_loop_left_from_before_and_judges_its_own_start(
    script: Path,
) -> None:
    """The replace-member failure, made deterministic: the old member's loop
    (its unit auto-restarting, its journal ending in the corrupt WAL's error)
    is still there when the replaced member starts. Its own start succeeds,
    so the wait must not fail on the old loop's state or line."""
    result, _ = run(
        script,
        "--start",
        state="activating auto-restart",
        journal={"old": FATAL_LINE},
        FAKE_HEALTHY_WHEN_ACTIVE="1",
    )
    assert result.returncode == 0, result.stderr
    assert "restart" in calls(script)


def test_a_failed_start_names_its_own_error_not_an_older_one(script: Path) -> None:
    own = FATAL_LINE.replace(
        '"msg":"discovery failed","error":"wal: max entry size limit exceeded"',
        '"msg":"listener failed","error":"listen tcp 10.0.0.13:2380: bind: address already in use"',
    )
    result, seconds = run(
        script,
        "--start",
        state="activating auto-restart",
        journal={"old": FATAL_LINE, "new": own},
        FAKE_STATE_AFTER_START="activating auto-restart",
    )
    assert result.returncode == 3
    assert seconds < 5
    assert "etcd's last error: listener failed: listen tcp" in result.stderr
    assert "wal:" not in result.stderr


def test_restart_restarts_an_active_member(script: Path) -> None:
    result, _ = run(script, "--restart", FAKE_HEALTHY_WHEN_ACTIVE="1")
    assert result.returncode == 0, result.stderr
    assert calls(script)[0] == "restart"


def test_a_go_panic_is_named_when_etcd_logs_no_json_error(script: Path) -> None:
    """etcd 3.6 sets a corrupt WAL aside and panics: plain text, no JSON line."""
    panic = (
        '{"level":"warn","msg":"ignored file in WAL directory"}\n'
        "panic: cannot use none as id\n\ngoroutine 1 [running]:\ngo.etcd.io/raft/v3.newRaft()"
    )
    result, _ = run(script, state="activating auto-restart", journal={"old": panic})
    assert result.returncode == 3
    assert "etcd's last error: panic: cannot use none as id." in result.stderr
    assert "goroutine" not in result.stderr

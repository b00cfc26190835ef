"""Fault tests on the lab: break a provisioned cluster the way machines break,
check what `verify` says, and that `up` (after `lab up` where a machine died)
brings it back.

- one etcd member stopped: the others keep quorum; verify names the member;
  `up` heals it;
- one etcd member's data corrupted: `up` fails at once naming etcd's error
  and `--replace-member`, which brings the member back;
- the node holding the VIP killed (its container, like a power cut): another
  control-plane node holds the VIP within 5 s and the endpoint port answers
  through it; `lab up` powers it on again with its disk, it rejoins and
  `up` converges with no --replace-member;
- a worker killed while `up` runs, with its conmon (as when every process
  of the host's session dies): `up` fails naming it; `lab up` powers it on
  with its disk, and `up` converges;
- a node that died inside dpkg (its journal left, a package unpacked but not
  configured): the next `up` replays the journal and converges;
- an etcd member's machine replaced (`lab replace`, an empty disk): `up`
  asks for --replace-member, which brings it back;
- managed config files corrupted: verify flags them on their nodes, `up`
  restores them;
- etcd's configuration changed on every member: `up` restarts them one at a
  time (the restarts never overlap); a restart waits for a member that is
  down, and refuses when it stays down.

Every measured figure (failover time, heal times) is printed and written to
<state dir>/faults/measurements.json. The stack defaults to the lab stack;
GROUNDWORK_FAULTS_LAB_STACK names another (a private lab, so engineers do
not collide).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from _lab import (
    container,
    kill_with_its_monitor,
    must,
    on_node,
    podman,
    provision,
    record,
    show,
    vip_holders,
    vip_of,
)
from rich.console import Console

from groundwork import lab
from groundwork.lab import ssh
from groundwork.runner import RunSummary
from groundwork.spec import ClusterSpec, Node, Role, load_stack
from groundwork.verify import VerifyReport, verify
from groundwork.verify.expect import CNI_CONFIG, CONTAINERD_CONFIG

pytestmark = pytest.mark.lab

STACK = os.environ.get("GROUNDWORK_FAULTS_LAB_STACK", "lab")
FAILOVER_LIMIT = 5.0  # seconds
# A file written before a power cut: the machine must come back with it.
DISK_MARKER = "/etc/groundwork-faults-disk-marker"
# Whether the last fault test left the lab converged and verified; a test
# that failed midway leaves it broken, and the next one repairs it first.
_state = {"healthy": False}


# --- helpers ------------------------------------------------------------------


def up(spec: ClusterSpec, lab_up: bool = False, console: Console | None = None) -> RunSummary:
    """`up --substrate-only`: these faults are the substrate's (etcd, the VIP,
    the runtime's files); the Kubernetes layer has tests of its own."""
    return provision(spec, lab=lab_up, kubernetes=False, console=console)


def assert_converged(summary: RunSummary) -> None:
    assert summary.ok, "\n".join(f.describe() for f in summary.failures) or summary.status
    assert all((h.failed, h.unreachable) == (0, 0) for h in summary.hosts), summary.hosts


def assert_verified(spec: ClusterSpec) -> VerifyReport:
    report = verify(spec, kubernetes=False)
    assert report.ok, show(report)
    return report


def etcdctl_script(endpoints: list[str], *args: str) -> str:
    """etcdctl on a member with its health-check client certificate."""
    return (
        f". /etc/etcd/etcdctl.env && ETCDCTL_ENDPOINTS={','.join(endpoints)} "
        f"etcdctl --command-timeout=5s {' '.join(args)}"
    )


def client_urls(members: list[Node]) -> list[str]:
    return [f"https://{m.address}:2379" for m in members]


def write_through(spec: ClusterSpec, members: list[Node], label: str) -> str:
    """Write a new key (value "kept") through `members`, before another one breaks."""
    key = f"/groundwork-faults/written-before-{label}-{time.time_ns()}"
    must(spec, members[0].name, etcdctl_script(client_urls(members), "put", key, "kept"))
    return key


def assert_member_serves(spec: ClusterSpec, member: Node, key: str, value: str) -> None:
    """The member holds `key`: a serializable read answers from its own store."""
    got = must(
        spec,
        member.name,
        etcdctl_script(client_urls([member]), "get", key, "--print-value-only", "--consistency=s"),
    )
    assert got.strip() == value, got


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> ClusterSpec:
    return load_stack(STACK)


@pytest.fixture(scope="module")
def provisioned(spec: ClusterSpec) -> ClusterSpec:
    """The lab up and provisioned once for the module."""
    assert_converged(up(spec, lab_up=True))
    _state["healthy"] = True
    return spec


@pytest.fixture
def healthy(provisioned: ClusterSpec) -> Iterator[ClusterSpec]:
    """A converged lab; the test marks it healthy again only when it ends well."""
    spec = provisioned
    if not _state["healthy"]:
        assert_converged(up(spec, lab_up=True))
    _state["healthy"] = False
    yield spec


# --- faults -------------------------------------------------------------------


def test_stopped_etcd_member_keeps_quorum_is_named_and_healed(healthy: ClusterSpec) -> None:
    spec = healthy
    members = spec.nodes_with(Role.ETCD)
    victim, survivors = members[-1], members[:-1]
    urls = client_urls(survivors)
    must(spec, victim.name, "systemctl stop etcd.service")
    stopped_at = time.monotonic()

    # Quorum: the survivors are healthy, and a write (which needs a majority)
    # is committed and read back through another member.
    witness = survivors[0].name
    health = must(spec, witness, etcdctl_script(urls, "endpoint", "health"))
    assert health.count("is healthy") == len(survivors), health
    key, value = "/groundwork/fault-test", str(time.time_ns())
    must(spec, witness, etcdctl_script(urls[:1], "put", key, value))
    got = must(
        spec, survivors[-1].name, etcdctl_script(urls[-1:], "get", key, "--print-value-only")
    )
    assert got.strip() == value
    must(spec, witness, etcdctl_script(urls[:1], "del", key))

    report = verify(spec, kubernetes=False)
    assert not report.ok
    failed = {(r.node, r.check): r for r in report.failures}
    assert (victim.name, "etcd service") in failed, show(report)
    service = failed[(victim.name, "etcd service")]
    assert any(
        d.what == "etcd.service active" and d.declared == "active" for d in service.drifts
    ), show(report)
    # The survivors name the stopped member; nothing outside etcd is reported.
    for member in survivors:
        members_check = failed.get((member.name, "etcd members"))
        assert members_check is not None, show(report)
        assert any(d.what == f"{victim.name} health" for d in members_check.drifts)
    assert all(r.check.startswith("etcd") for r in report.failures), show(report)

    started = time.monotonic()
    summary = up(spec)
    heal = time.monotonic() - started
    assert_converged(summary)
    victim_host = next(h for h in summary.hosts if h.name == victim.name)
    assert victim_host.changed >= 1, "up did not start the stopped member"
    assert must(spec, victim.name, "systemctl is-active etcd.service").strip() == "active"
    all_urls = client_urls(members)
    health = must(spec, witness, etcdctl_script(all_urls, "endpoint", "health"))
    assert health.count("is healthy") == len(members), health
    record(spec, "etcd_member_stopped_up_heal_seconds", round(heal, 1))
    record(spec, "etcd_member_stopped_to_healthy_seconds", round(time.monotonic() - stopped_at, 1))
    assert_verified(spec)
    _state["healthy"] = True


def _watch_vip_script(vip: str, timeout: float) -> str:
    """On a node: say ready, then print the wall-clock time the VIP appears here.

    Lab nodes are containers on one kernel: their clock is the host's, so the
    time printed compares with the host's time of the kill to within a few ms.
    """
    return (
        f"echo ready; end=$(( $(date +%s) + {int(timeout)} )); "
        f"until ip -o -4 addr show | grep -qF ' {vip}/'; do "
        f'[ "$(date +%s)" -ge "$end" ] && {{ echo never; exit 1; }}; sleep 0.1; done; '
        "date +%s.%N"
    )


def _watch_endpoint_script(vip: str, port: int, timeout: float) -> str:
    """On a client node: say ready, then connect to VIP:port every 0.1 s; once a
    connect has failed, print when it failed first and when it answered again."""
    connect = f"timeout 0.5 bash -c 'exec 3<>/dev/tcp/{vip}/{port}' 2>/dev/null"
    return (
        f'echo ready; end=$(( $(date +%s) + {int(timeout)} )); down=""; '
        f'while [ "$(date +%s)" -lt "$end" ]; do '
        f"if {connect}; then "
        '[ -n "$down" ] && { echo "$down $(date +%s.%N)"; exit 0; }; '
        'else [ -z "$down" ] && down=$(date +%s.%N); fi; sleep 0.1; done; echo never; exit 1'
    )


def _first_to_take(watchers: dict[str, subprocess.Popen[str]], timeout: float) -> dict[str, float]:
    """{node: time} of the first watcher to see the VIP (empty if none did)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in watchers.items():
            if proc.poll() is None:
                continue
            assert proc.stdout is not None
            lines = proc.stdout.read().split()
            if proc.returncode == 0 and lines:
                return {name: float(lines[-1])}
        if all(proc.poll() is not None for proc in watchers.values()):
            return {}
        time.sleep(0.05)
    return {}


def test_vip_moves_within_5s_when_its_node_dies(healthy: ClusterSpec) -> None:
    spec = healthy
    vip, port = vip_of(spec)
    holders = vip_holders(spec, vip)
    assert len(holders) == 1, f"VIP {vip} held by {holders or 'no node'} before the fault"
    victim = holders[0]
    others = [n.name for n in spec.nodes_with(Role.CONTROL_PLANE) if n.name != victim]
    client = next(n.name for n in spec.nodes if n.name not in (victim, *others))

    watchers = {
        name: subprocess.Popen(
            ssh.target(spec, name).argv([_watch_vip_script(vip, 30)]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in others
    }
    # A client of the endpoint, connecting through the VIP across the fault.
    endpoint = subprocess.Popen(
        ssh.target(spec, client).argv([_watch_endpoint_script(vip, port, 60)]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for name, proc in [*watchers.items(), (client, endpoint)]:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", f"watcher on {name} did not start"
        # SIGKILL to the node's init: no goodbye VRRP advert, like a power cut.
        must(spec, victim, f"touch {DISK_MARKER}")
        killed_at = time.time()
        podman(spec, "kill", container(spec, victim))
        taken = _first_to_take(watchers, timeout=40)
        answered, _ = endpoint.communicate(timeout=70)
    finally:
        for proc in [*watchers.values(), endpoint]:
            if proc.poll() is None:
                proc.kill()
    assert taken, f"no other control-plane node took VIP {vip} within 30 s of killing {victim}"
    new_holder, at = min(taken.items(), key=lambda item: item[1])
    failover = at - killed_at
    record(spec, "vip_failover_seconds", round(failover, 2))
    record(spec, "vip_failover_from_to", f"{victim} -> {new_holder}")
    assert failover <= FAILOVER_LIMIT, f"VIP took {failover:.2f} s to move to {new_holder}"
    assert vip_holders(spec, vip) == [new_holder], "VIP held by more than one node"

    # The endpoint port answers through the VIP again, seen from a client node.
    times = answered.split()
    assert endpoint.returncode == 0 and len(times) == 2, (
        f"{client}: {vip}:{port} did not answer again within 60 s: {answered!r}"
    )
    record(spec, "vip_endpoint_back_after_kill_seconds", round(float(times[1]) - killed_at, 2))
    record(spec, "vip_endpoint_back_after_failover_seconds", round(float(times[1]) - at, 2))

    # `lab up` powers the machine on again with its disk, as after a power
    # cut: etcd rejoins with its data, keepalived takes part again, and `up`
    # converges with no --replace-member.
    started = time.monotonic()
    state = lab.up(spec)
    assert state.up, state
    must(spec, victim, f"test -e {DISK_MARKER} && rm {DISK_MARKER}")
    summary = up(spec)
    assert_converged(summary)
    record(spec, "vip_node_back_up_converge_seconds", round(time.monotonic() - started, 1))
    assert_verified(spec)
    # nopreempt: the node that came back does not take the VIP back (a
    # second failover would cut the endpoint's clients once more).
    assert vip_holders(spec, vip) == [new_holder], f"{victim} took the VIP back"
    _state["healthy"] = True


def test_node_killed_during_up_fails_clearly_and_rerun_converges(healthy: ClusterSpec) -> None:
    spec = healthy
    victim = spec.nodes_with(Role.WORKER)[-1].name
    # Real work for the victim's base role (reinstalling two of its packages
    # takes seconds), so the kill below lands inside a task: on a converged
    # lab the victim's whole no-change run can end sooner than that.
    must(spec, victim, f"dpkg --remove socat conntrack >/dev/null && touch {DISK_MARKER}")
    out = StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    result: dict[str, RunSummary | BaseException] = {}

    def run() -> None:
        try:
            result["summary"] = up(spec, console=console)
        except BaseException as err:  # re-raised in the test's thread
            result["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # Wait until the victim is inside a role (the preflight play is over),
    # then pull its plug.
    deadline = time.monotonic() + 300
    while f"{victim}: common" not in out.getvalue():
        assert thread.is_alive(), out.getvalue()
        assert time.monotonic() < deadline, "the victim never started its first role"
        time.sleep(0.2)
    time.sleep(1)
    kill_with_its_monitor(spec, victim)
    thread.join(timeout=900)
    assert not thread.is_alive(), "up did not end after a node died"
    if "error" in result:
        raise AssertionError(f"up raised instead of reporting: {result['error']!r}")
    failed = result["summary"]
    assert isinstance(failed, RunSummary)
    assert not failed.ok
    mine = [f for f in failed.failures if f.host == victim]
    assert mine, failed.failures
    described = mine[0].describe()
    assert described.startswith(f"{victim}: "), described
    assert mine[0].task, described
    # The summary printed for the user names the host too.
    printed = out.getvalue()
    # (the console wraps long lines)
    assert " ".join(described.split()) in " ".join(printed.split()), printed[-3000:]
    # Only the dead node failed.
    assert {f.host for f in failed.failures} == {victim}, failed.failures
    record(spec, "killed_during_up_failure", described[:300])

    started = time.monotonic()
    state = lab.up(spec)  # powers the dead machine on again, with its disk
    assert state.up, state
    must(spec, victim, f"test -e {DISK_MARKER} && rm {DISK_MARKER}")
    summary = up(spec)
    assert_converged(summary)
    record(spec, "killed_node_back_up_converge_seconds", round(time.monotonic() - started, 1))
    assert_verified(spec)
    _state["healthy"] = True


def test_a_node_that_died_inside_dpkg_is_finished_by_the_next_up(healthy: ClusterSpec) -> None:
    """What a power cut inside an install leaves, made on purpose (the kill
    above lands inside dpkg only by its timing): a package unpacked but not
    configured, and dpkg's journal holding its state, so apt refuses every
    install ("dpkg was interrupted") until the journal is replayed."""
    spec = healthy
    victim = spec.nodes_with(Role.WORKER)[0].name
    must(
        spec,
        victim,
        "set -e; cd /tmp; apt-get download -qq socat; dpkg --unpack socat_*.deb >/dev/null;"
        " rm socat_*.deb; dpkg-query -s socat >/var/lib/dpkg/updates/0000",
    )
    refused = on_node(spec, victim, "apt-get check")
    assert refused.returncode != 0 and "dpkg was interrupted" in refused.stderr, refused
    assert_converged(up(spec))
    status = must(
        spec, victim, "dpkg-query -W -f='${db:Status-Abbrev}' socat; ls /var/lib/dpkg/updates"
    )
    assert status.split() == ["ii"], status
    # The repair's service-start policy is gone with it.
    must(spec, victim, "test ! -e /usr/sbin/policy-rc.d")
    assert_verified(spec)


def test_replaced_etcd_member_rejoins_empty_and_syncs(healthy: ClusterSpec) -> None:
    spec = healthy
    members = spec.nodes_with(Role.ETCD)
    victim, survivors = members[-1], members[:-1]
    key = write_through(spec, survivors, "replace")
    # The machine is replaced (`groundwork lab replace`): a new one at the
    # same address, with an empty disk. Its old member is still in the
    # cluster, so etcd on the new disk cannot start as before ("already
    # bootstrapped"): the user says so.
    state = lab.replace(spec, victim.name)
    assert state.up, state
    # A plain `up` stops before starting etcd there, and says what to run.
    refused = up(spec)
    assert not refused.ok
    (failure,) = refused.failures
    assert failure.host == victim.name, failure.describe()
    assert f"--replace-member {victim.name}" in " ".join(failure.message.split()), failure.message
    started = time.monotonic()
    summary = provision(spec, lab=False, kubernetes=False, replace_members=[victim.name])
    assert_converged(summary)
    record(spec, "etcd_member_replaced_up_seconds", round(time.monotonic() - started, 1))
    listed = must(spec, survivors[0].name, etcdctl_script(client_urls(survivors), "member", "list"))
    rows = [[f.strip() for f in line.split(",")] for line in listed.splitlines() if line.strip()]
    assert sorted((row[2], row[1]) for row in rows) == [
        (m.name, "started") for m in sorted(members, key=lambda m: m.name)
    ], listed
    assert_member_serves(spec, victim, key, "kept")
    # The record now says it joined an existing cluster: the next run changes nothing.
    again = up(spec)
    assert_converged(again)
    assert again.changed == 0, [(h.name, h.changed_tasks) for h in again.hosts if h.changed]
    assert_verified(spec)
    _state["healthy"] = True


def test_corrupt_etcd_data_fails_at_once_naming_the_cause_and_replace_heals(
    healthy: ClusterSpec,
) -> None:
    spec = healthy
    members = spec.nodes_with(Role.ETCD)
    victim, survivors = members[-1], members[:-1]
    key = write_through(spec, survivors, "corruption")
    # The disk garbles the start of the member's write-ahead log: etcd exits
    # as it starts, and systemd keeps restarting it. A runtime drop-in spaces
    # the restarts 10 min apart, so the loop sits in `activating
    # (auto-restart)` with the WAL error as its last journal line for the
    # whole test: the state a replacement met by chance (restarts 5 s apart)
    # is met every time. Nothing Groundwork manages lives under /run.
    must(
        spec,
        victim.name,
        f"mkdir -p {SLOW_RESTART.parent} && printf '[Service]\\nRestartSec=600\\n' > {SLOW_RESTART}"
        " && systemctl daemon-reload && systemctl stop etcd.service"
        " && for wal in /var/lib/etcd/member/wal/*.wal; do"
        " head -c 4096 /dev/urandom | dd of=$wal conv=notrunc status=none; done;"
        " systemctl start etcd.service || true",
    )
    try:
        _refuse_then_replace(spec, victim, key)
    finally:
        must(spec, victim.name, f"rm -f {SLOW_RESTART} && systemctl daemon-reload")
    assert_verified(spec)
    _state["healthy"] = True


SLOW_RESTART = Path("/run/systemd/system/etcd.service.d/test-slow-restart.conf")


def _refuse_then_replace(spec: ClusterSpec, victim: Node, key: str) -> None:
    state = must(spec, victim.name, "systemctl show etcd -p ActiveState -p SubState --value")
    assert state.split() == ["activating", "auto-restart"], state
    # `up` stops at once on that member (it waited 6 min before), with
    # etcd's own error and the way out.
    started = time.monotonic()
    refused = up(spec)
    failed_after = round(time.monotonic() - started, 1)
    record(spec, "etcd_corrupt_member_up_fails_seconds", failed_after)
    assert not refused.ok
    (failure,) = refused.failures
    message = " ".join(failure.message.split())
    assert failure.host == victim.name, failure.describe()
    # etcd's own words: 3.5 logs a fatal WAL error, 3.6 sets the broken WAL
    # aside and panics; either is quoted, never "none logged".
    assert "etcd's last error: " in message and "none logged" not in message, message
    assert "wal: " in message or "panic: " in message, message
    assert f"--replace-member {victim.name}" in message, message
    assert failed_after < 60, f"up took {failed_after} s to give up"
    # The way out it names works: the member comes back empty and syncs.
    summary = provision(spec, lab=False, kubernetes=False, replace_members=[victim.name])
    assert_converged(summary)
    assert_member_serves(spec, victim, key, "kept")


def etcd_window(spec: ClusterSpec, node: str) -> tuple[float, float]:
    """When etcd on `node` last stopped and last became active, on the host's
    monotonic clock (lab nodes share the host's kernel, so its clocks)."""
    out = must(
        spec,
        node,
        "systemctl show etcd.service -p InactiveEnterTimestampMonotonic "
        "-p ActiveEnterTimestampMonotonic",
    )
    values = dict(line.split("=", 1) for line in out.split())
    return (
        int(values["InactiveEnterTimestampMonotonic"]) / 1e6,
        int(values["ActiveEnterTimestampMonotonic"]) / 1e6,
    )


def test_changed_etcd_config_restarts_members_one_at_a_time(healthy: ClusterSpec) -> None:
    """The members' restarts never overlap, so a 3-member cluster keeps its
    quorum, even though the converge play lets each node go at its own pace."""
    spec = healthy
    members = spec.nodes_with(Role.ETCD)
    urls = client_urls(members)
    for member in members:
        must(spec, member.name, "echo '# drift' >> /etc/etcd/etcd.conf.yml")
    key, value = "/groundwork/restart-test", str(time.time_ns())
    must(spec, members[0].name, etcdctl_script(urls[:1], "put", key, value))
    started = time.monotonic()
    summary = up(spec)
    assert_converged(summary)
    windows = sorted((etcd_window(spec, m.name), m.name) for m in members)
    for (stopped, _active), name in windows:
        assert stopped > started, f"{name}: etcd was not restarted by up"
    for ((_, active), name), ((stopped, _), following) in itertools.pairwise(windows):
        assert active <= stopped, (
            f"{following} was stopped at {stopped:.3f} before {name} was back at {active:.3f}"
        )
    record(
        spec,
        "etcd_rolling_restart_seconds",
        round(windows[-1][0][1] - windows[0][0][0], 1),
    )
    for member, url in zip(members, urls, strict=True):
        got = must(
            spec,
            member.name,
            etcdctl_script([url], "get", key, "--print-value-only", "--consistency=s"),
        )
        assert got.strip() == value, f"{member.name} lost the key written before the restarts"
    must(spec, members[0].name, etcdctl_script(urls[:1], "del", key))
    assert_verified(spec)
    _state["healthy"] = True


def test_safe_restart_waits_for_a_down_member_and_refuses_when_it_stays_down(
    healthy: ClusterSpec,
) -> None:
    spec = healthy
    members = spec.nodes_with(Role.ETCD)
    restarted, down = members[0], members[-1]
    must(spec, down.name, "systemctl stop etcd.service")
    before = etcd_window(spec, restarted.name)
    refused = on_node(
        spec, restarted.name, "ETCD_HEALTH_TIMEOUT=3 /usr/local/sbin/etcd-safe-restart"
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "not restarted" in refused.stderr and f"{down.address}:2379" in refused.stderr
    assert etcd_window(spec, restarted.name) == before, "the member was restarted anyway"

    # Started while the script waits: it restarts once every member is healthy.
    later = threading.Timer(2.0, must, (spec, down.name, "systemctl start etcd.service"))
    later.start()
    waited = on_node(
        spec, restarted.name, "ETCD_HEALTH_TIMEOUT=60 /usr/local/sbin/etcd-safe-restart", 90
    )
    later.join()
    assert waited.returncode == 0, waited.stdout + waited.stderr
    stopped, _ = etcd_window(spec, restarted.name)
    assert stopped > before[1], "the member was not restarted"
    _, down_active = etcd_window(spec, down.name)
    assert stopped > down_active, "restarted before the down member was back"
    assert_verified(spec)
    _state["healthy"] = True


def test_corrupted_config_files_are_flagged_and_restored(healthy: ClusterSpec) -> None:
    spec = healthy
    workers = spec.nodes_with(Role.WORKER)
    toml_node, cni_node = workers[0].name, workers[-1].name
    # Not valid TOML any more; containerd keeps running on what it read at start.
    must(spec, toml_node, f"printf '[plugins\\nbroken = \\n' >> {CONTAINERD_CONFIG}")
    # Valid JSON, wrong content: the bridge plugin is gone.
    must(
        spec,
        cni_node,
        f"""printf '{{"cniVersion": "1.0.0", "name": "x", "plugins": []}}' > {CNI_CONFIG}""",
    )

    report = verify(spec, kubernetes=False)
    assert not report.ok
    failed = {(r.node, r.check): r for r in report.failures}
    toml = failed.get((toml_node, "containerd cgroup driver"))
    assert toml is not None, show(report)
    assert any("invalid" in d.live for d in toml.drifts), show(report)
    cni = failed.get((cni_node, "cni config"))
    assert cni is not None, show(report)
    assert any(d.live == "no bridge plugin" for d in cni.drifts), show(report)
    # Flagged on those nodes only. Without a CNI config no pod starts on the
    # CNI node, so the other nodes' pod network checks fail too, naming it.
    for r in report.failures:
        if r.node in (toml_node, cni_node):
            continue
        assert r.check == "pod network", show(report)
        assert all(f"pod on {cni_node}" in d.what for d in r.drifts), show(report)

    started = time.monotonic()
    summary = up(spec)
    assert_converged(summary)
    record(spec, "corrupted_config_up_restore_seconds", round(time.monotonic() - started, 1))
    changed = {h.name: h.changed_tasks for h in summary.hosts if h.changed}
    assert set(changed) == {toml_node, cni_node}, changed
    assert_verified(spec)
    _state["healthy"] = True

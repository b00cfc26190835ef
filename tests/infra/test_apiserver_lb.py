"""Role `apiserver_lb`: haproxy + keepalived on the control-plane nodes hold the VIP.

Parametrized only when the endpoint is a VIP; with an external load balancer
or a DNS endpoint these checks have no instances.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import _facts as facts
from _live import check_service, listening_ports, tcp_connect

from groundwork.verify.drift import Expect
from groundwork.verify.expect import ClusterExpectation, NodeExpectation


def test_haproxy_service(lb_node: NodeExpectation, host: Any, expect: Expect) -> None:
    check_service(host, expect, "haproxy")
    expect.done()


def test_keepalived_service(lb_node: NodeExpectation, host: Any, expect: Expect) -> None:
    check_service(host, expect, "keepalived")
    expect.done()


def test_haproxy_ports(lb_node: NodeExpectation, host: Any, expect: Expect) -> None:
    live = listening_ports(host)
    for listen in lb_node.listen:
        if not listen.what.startswith("haproxy"):
            continue
        ok = any(
            p == listen.port and (listen.address is None or a in (listen.address, "0.0.0.0", "*"))
            for a, p in live
        )
        where = sorted(f"{a}:{p}" for a, p in live if p == listen.port) or "not listening"
        declared = f"listening on {listen.address or ''}:{listen.port}"
        expect.true(listen.what, ok, declared, where)
    expect.done()


def _holds(host: Any, vip: str) -> bool:
    out = host.run(facts.ADDRESSES).stdout
    return any(
        line.split()[3].split("/")[0] == vip for line in out.splitlines() if len(line.split()) > 3
    )


# keepalived's master-down interval (3 adverts of 1 s, plus the skew): a
# handover in progress is over within it, a split brain or a lost VIP is not.
HANDOVER_SECONDS = 4.0


def _vip_holders(stack: Any, candidates: list[str], vip: str, fresh: bool = False) -> list[str]:
    """The candidates holding the VIP: from each node's batch of read-only
    commands (run once, when verify starts), or asked again (fresh)."""

    def host(name: str) -> Any:
        return stack.host(name) if fresh else stack.batched(name)

    with ThreadPoolExecutor(len(candidates)) as pool:
        held = list(pool.map(lambda n: _holds(host(n), vip), candidates))
    return [n for n, h in zip(candidates, held, strict=True) if h]


def test_vip_held_by_exactly_one_node(
    vip_cluster: ClusterExpectation, stack: Any, expect: Expect
) -> None:
    cluster = vip_cluster
    assert cluster.vip is not None
    candidates = [n.name for n in cluster.vip_holders]
    # The nodes are asked in parallel but not at one instant: during a
    # handover one sample can see the old holder and the new one, and right
    # after a cold `up` keepalived may not have elected a holder yet. Only a
    # state that lasts past the handover interval counts: the nodes are asked
    # again (the batch is a snapshot taken when verify started).
    holders = _vip_holders(stack, candidates, cluster.vip)
    deadline = time.monotonic() + HANDOVER_SECONDS
    while len(holders) != 1 and time.monotonic() < deadline:
        time.sleep(0.5)
        holders = _vip_holders(stack, candidates, cluster.vip, fresh=True)
    expect.equal(
        f"holders of VIP {cluster.vip}",
        "exactly one of " + ", ".join(candidates),
        "exactly one of " + ", ".join(candidates) if len(holders) == 1 else (holders or "none"),
    )
    expect.done()


def test_endpoint_answers_through_vip(
    vip_node: NodeExpectation, host: Any, stack: Any, expect: Expect
) -> None:
    """From every node, a TCP connection to VIP:endpoint port is accepted."""
    vip, port = stack.expect.vip, stack.expect.endpoint_port
    if vip is None:
        raise AssertionError(f"{vip_node.name}: endpoint has no VIP")
    expect.equal(f"TCP {vip}:{port}", "accepted", tcp_connect(host, vip, port))
    expect.done()

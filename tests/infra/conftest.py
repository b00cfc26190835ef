"""Node checks for one stack, run by `groundwork verify` (or plain pytest).

The stack comes from `--stack-file PATH` (or the GROUNDWORK_VERIFY_STACK
environment variable, which `verify` sets for its pytest process). The
expectations of every check are derived from the stack's plan
(groundwork.verify.expect), never from the Ansible inventory.

Each check takes one of these arguments, which decides the nodes it runs on:
  node       every node
  etcd_node  nodes with the etcd role
  lb_node    control-plane nodes when the endpoint is a VIP (haproxy + keepalived)
  vip_node   every node when the endpoint is a VIP (clients of the VIP)
  pod_node   every node when the network plugin is `bridge`
  cluster    once for the whole cluster (reported under "(cluster)")
  vip_cluster  once, when the endpoint is a VIP
A check that does not apply to the stack is not parametrized at all (zero
instances), never skipped.

Connections: testinfra's ssh backend with a generated ssh_config that pins the
host keys (StrictHostKeyChecking=yes) and multiplexes one SSH connection per
node; with pytest-xdist each node's checks run in one worker (--dist loadgroup).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import uuid
from pathlib import Path
from typing import Any

import pytest
import testinfra

from groundwork.spec import load_stack
from groundwork.verify import connect
from groundwork.verify.drift import CLUSTER, Expect
from groundwork.verify.expect import ClusterExpectation, NodeExpectation, expectations

STACK_ENV = "GROUNDWORK_VERIFY_STACK"
SSH_CONFIG_ENV = "GROUNDWORK_VERIFY_SSH_CONFIG"
RUN_ID_ENV = "GROUNDWORK_VERIFY_RUN_ID"

NODE_ARGS = ("node", "etcd_node", "lb_node", "vip_node", "pod_node")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stack-file",
        default=os.environ.get(STACK_ENV),
        help=f"stack file (or name) whose nodes to check (env {STACK_ENV})",
    )


class Stack:
    def __init__(self, ref: str) -> None:
        self.spec = load_stack(ref)
        self.expect: ClusterExpectation = expectations(self.spec)
        self.conns = connect.connections(self.spec)
        given = os.environ.get(SSH_CONFIG_ENV)
        self.ssh_config = Path(given) if given else connect.write_ssh_config(self.spec)
        # One id per verify run (shared by xdist workers through the
        # environment) names the probe containers of the pod network check.
        self.run_id = os.environ.setdefault(RUN_ID_ENV, uuid.uuid4().hex[:10])
        self._hosts: dict[str, Any] = {}

    def host(self, name: str) -> Any:
        if name not in self._hosts:
            spec = connect.testinfra_host(self.conns[name], self.ssh_config)
            self._hosts[name] = testinfra.get_host(spec)
        return self._hosts[name]

    def nodes_for(self, arg: str) -> list[NodeExpectation]:
        e = self.expect
        if arg == "node":
            return list(e.nodes)
        if arg == "etcd_node":
            return e.with_role("etcd")
        if arg == "lb_node":
            return e.vip_holders
        if arg == "vip_node":
            return list(e.nodes) if e.vip is not None else []
        if arg == "pod_node":
            return list(e.nodes) if e.bridge_network else []
        raise KeyError(arg)


_STACK: Stack | None = None


def stack_of(config: pytest.Config) -> Stack:
    global _STACK
    if _STACK is None:
        ref = config.getoption("--stack-file")
        if not ref:
            raise pytest.UsageError(f"no stack: pass --stack-file PATH or set {STACK_ENV}")
        _STACK = Stack(str(ref))
    return _STACK


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for arg in NODE_ARGS:
        if arg in metafunc.fixturenames:
            nodes = stack_of(metafunc.config).nodes_for(arg)
            metafunc.parametrize(arg, nodes, ids=[n.name for n in nodes])
            return
    expect = stack_of(metafunc.config).expect
    if "cluster" in metafunc.fixturenames:
        metafunc.parametrize("cluster", [expect], ids=["cluster"])
    if "vip_cluster" in metafunc.fixturenames:
        metafunc.parametrize("vip_cluster", [expect] if expect.vip else [], ids=["cluster"])


def node_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for arg in NODE_ARGS:
            if arg in callspec.params:
                return str(callspec.params[arg].name)
    return CLUSTER


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # All checks of one node run in one xdist worker (one SSH connection).
    for item in items:
        item.add_marker(pytest.mark.xdist_group(node_of(item)))


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Stack:
    return stack_of(request.config)


@pytest.fixture
def this(request: pytest.FixtureRequest) -> NodeExpectation:
    """The node the current check runs on."""
    params = request.node.callspec.params
    for arg in NODE_ARGS:
        if arg in params:
            node: NodeExpectation = params[arg]
            return node
    raise RuntimeError("check is not parametrized by node")


@pytest.fixture
def host(stack: Stack, this: NodeExpectation) -> Any:
    return stack.host(this.name)


@pytest.fixture
def expect(request: pytest.FixtureRequest, record_property: Any) -> Expect:
    """Declared-vs-live comparison for this check; call .done() at the end."""
    name = node_of(request.node)
    check = request.node.originalname.removeprefix("test_").replace("_", " ")
    return Expect(name, check, record_property)


def pytest_configure(config: pytest.Config) -> None:
    # Set before xdist starts its workers, so they all share the run id.
    os.environ.setdefault(RUN_ID_ENV, uuid.uuid4().hex[:10])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop this run's probe containers (once, in the controller)."""
    config = session.config
    if (
        hasattr(config, "workerinput")
        or config.option.collectonly
        or not config.getoption("--stack-file")
        or session.testscollected == 0
    ):
        return
    from concurrent.futures import ThreadPoolExecutor

    from _probe import STOP

    stack = stack_of(session.config)
    names = [n.name for n in stack.nodes_for("pod_node")]

    def stop(name: str) -> None:
        # An unreachable node has no probe to stop.
        with contextlib.suppress(Exception):
            stack.host(name).run(f"bash -c {shlex.quote(STOP)} stop {stack.run_id}")

    if names:
        with ThreadPoolExecutor(len(names)) as pool:
            list(pool.map(stop, names))

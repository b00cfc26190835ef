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
  kube_node  nodes running a kubelet     } the Kubernetes layer's checks: not run
  kube_cluster  once, for Kubernetes     } by `verify --substrate-only`
A check that does not apply to the stack is not parametrized at all (zero
instances), never skipped.

Connections: testinfra's ssh backend with a generated ssh_config that pins the
host keys (StrictHostKeyChecking=yes) and multiplexes one SSH connection per
node. Parallel across nodes: in one process, `Stack.warm` first gathers every
node's facts at once (one SSH round trip per node, see _facts.py), then starts
a probe container on every node at once, then pings between them from every
node at once; the checks then compare. With pytest-xdist (-n) each node's
checks run in one worker (--dist loadgroup) and fetch lazily.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import testinfra
from _facts import BatchedHost, prefetch, ssh_failure
from _probe import ENSURE, REACH

from groundwork.pki import pki_dir
from groundwork.spec import load_stack
from groundwork.verify import connect
from groundwork.verify.drift import CLUSTER, Expect
from groundwork.verify.expect import (
    ClusterExpectation,
    KubeExpectation,
    NodeExpectation,
    expectations,
)
from groundwork.verify.kube import KubeApi, KubeError, admin_credentials
from groundwork.verify.storage import HOSTNAME_LABEL, pinned_by_volume

STACK_ENV = "GROUNDWORK_VERIFY_STACK"
SSH_CONFIG_ENV = "GROUNDWORK_VERIFY_SSH_CONFIG"
RUN_ID_ENV = "GROUNDWORK_VERIFY_RUN_ID"
# "0": the substrate only (`up --substrate-only` installs no Kubernetes).
KUBERNETES_ENV = "GROUNDWORK_VERIFY_KUBERNETES"
LIMIT_ENV = "GROUNDWORK_VERIFY_NODES"  # `verify --limit`: these nodes' checks only

HERE = Path(__file__).resolve().parent
NODE_ARGS = (
    "node",
    "etcd_node",
    "lb_node",
    "vip_node",
    "pod_node",
    "substrate_pod_node",
    "underlay_node",
    "bgp_node",
    "kube_node",
)
# How long the cluster checks wait for pods that are still starting (the
# netcheck DaemonSet right after `up` applied it) and nodes not Ready yet (a
# kubelet started a moment ago reports NotReady until its first status with
# CSINode initialized) before judging them.
SETTLE_SECONDS = 120.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stack-file",
        default=os.environ.get(STACK_ENV),
        help=f"stack file (or name) whose nodes to check (env {STACK_ENV})",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Without a stack (e.g. the repository's own test run) there is nothing to
    check: the node checks are run by `groundwork verify`, not collected."""
    if collection_path.name.startswith("test_") and not config.getoption("--stack-file"):
        return True
    return None


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
        self._batched: dict[str, BatchedHost] = {}
        self._lock = threading.Lock()
        self._probes: dict[str, str] | None = None
        self._reach: dict[str, dict[str, str]] = {}
        self._kube: KubeApi | None = None
        self._settled: float | None = None

    @property
    def kubernetes(self) -> KubeExpectation | None:
        """The Kubernetes layer's expectations, unless only the substrate is checked."""
        if os.environ.get(KUBERNETES_ENV) == "0":
            return None
        return self.expect.kubernetes

    def kube(self, server: str | None = None) -> KubeApi:
        """The API through the endpoint (or `server`), as the stack's admin."""
        kube = self.kubernetes
        assert kube is not None
        credentials = admin_credentials(pki_dir(self.spec.name))
        if server is not None:
            return KubeApi(server, credentials)
        if self._kube is None:
            self._kube = KubeApi(kube.endpoint_url, credentials)
        return self._kube

    def settle(self) -> float:
        """Wait (once, at most SETTLE_SECONDS) until every node is Ready and
        every pod is ready or has finished; the seconds waited. Checks then
        judge what is there."""
        with self._lock:
            if self._settled is None:
                started = time.monotonic()
                while time.monotonic() - started < SETTLE_SECONDS:
                    try:
                        nodes = self.kube().items("/api/v1/nodes")
                        pods = self.kube().items("/api/v1/pods")
                    except KubeError:
                        nodes, pods = [], []
                    # A lost node (its kubelet stopped posting status) and
                    # its pods are judged at once: waiting does not cure them.
                    lost = {n["metadata"]["name"] for n in nodes if node_lost(n)}
                    # So is a pod whose node-local volume's node takes no pods.
                    pinned = self.pinned_by_volumes(pods) if nodes else {}
                    if (
                        nodes
                        and all(node_ready(n) or n["metadata"]["name"] in lost for n in nodes)
                        and pods
                        and all(
                            pod_settled(p)
                            or (p.get("spec") or {}).get("nodeName") in lost
                            or _key(p) in pinned
                            for p in pods
                        )
                    ):
                        break
                    time.sleep(2)
                self._settled = time.monotonic() - started
            return self._settled

    def pinned_by_volumes(self, pods: list[dict[str, Any]]) -> dict[str, str]:
        """namespace/name -> why each unscheduled pod waits for its node-local
        volume's node (groundwork.verify.storage); the API is asked for claims,
        volumes and nodes only when a pod is unscheduled."""
        waiting = [p for p in pods if _unscheduled(p)]
        if not waiting:
            return {}
        api = self.kube()
        try:
            claims = {_key(c): c for c in api.items("/api/v1/persistentvolumeclaims")}
            volumes = {v["metadata"]["name"]: v for v in api.items("/api/v1/persistentvolumes")}
            nodes = {
                (n["metadata"].get("labels") or {}).get(HOSTNAME_LABEL, n["metadata"]["name"]): n
                for n in api.items("/api/v1/nodes")
            }
        except KubeError:
            return {}
        found = {}
        for pod in waiting:
            reason = pinned_by_volume(pod, claims, volumes, nodes)
            if reason is not None:
                found[_key(pod)] = reason
        return found

    def host(self, name: str) -> Any:
        """A plain testinfra host (every run() goes to the node)."""
        if name not in self._hosts:
            spec = connect.testinfra_host(self.conns[name], self.ssh_config)
            self._hosts[name] = testinfra.get_host(spec)
        return self._hosts[name]

    def batched(self, name: str) -> BatchedHost:
        """The node's host whose read-only checks share one SSH round trip."""
        if name not in self._batched:
            node = self.expect.node(name)
            self._batched[name] = BatchedHost(self.host(name), prefetch(node, self.expect), name)
        return self._batched[name]

    def pod_nodes(self) -> list[str]:
        return [n.name for n in self.nodes_for("pod_node")]

    def probe_addresses(self) -> dict[str, str]:
        """Start this run's probe container on every pod node (in parallel, once);
        node -> pod address, or "error: <reason>"."""
        with self._lock:
            if self._probes is None:
                names = self.pod_nodes()
                with ThreadPoolExecutor(max(1, len(names))) as pool:
                    self._probes = dict(zip(names, pool.map(self._ensure, names), strict=True))
            return self._probes

    def unreachable(self, name: str) -> str | None:
        batched = self._batched.get(name)
        return batched.unreachable if batched is not None else None

    def _ensure(self, name: str) -> str:
        if reason := self.unreachable(name):
            return f"error: {reason}"
        try:
            out = self.host(name).run(f"bash -c {shlex.quote(ENSURE)} probe {self.run_id}")
        except RuntimeError as err:
            return f"error: {ssh_failure(err)}"
        stdout: str = out.stdout
        for line in stdout.splitlines():
            if line.startswith("ip="):
                return line[3:]
        return f"error: {out.stderr.strip() or f'no address (rc {out.rc})'}"

    def reach_from(self, name: str) -> dict[str, str]:
        """From the probe on `name`, ping every other node's probe: address -> ok|fail."""
        if name not in self._reach and self.unreachable(name):
            self._reach[name] = {}
        if name not in self._reach:
            peers = [
                a
                for n, a in self.probe_addresses().items()
                if n != name and not a.startswith("error")
            ]
            out = self.host(name).run(
                f"bash -c {shlex.quote(REACH)} reach {self.run_id} " + " ".join(peers)
            )
            self._reach[name] = dict(
                line.split() for line in out.stdout.splitlines() if len(line.split()) == 2
            )
        return self._reach[name]

    def warm(self) -> None:
        """Gather every node's facts, start the probes, then ping between them,
        all nodes in parallel: the checks then mostly read results."""
        names = [n.name for n in self.expect.nodes]
        for name in names:
            self.batched(name)

        def facts(name: str) -> None:
            with contextlib.suppress(Exception):  # the check reports it
                self.batched(name).fetch()

        with ThreadPoolExecutor(len(names)) as pool:
            # Facts first, then the probes: starting a pod changes the node
            # (the bridge CNI plugin with isGateway turns net.ipv4.ip_forward
            # back on), and drift must be reported as found.
            list(pool.map(facts, names))
            if not self.nodes_for("substrate_pod_node"):
                return
            self.probe_addresses()
            pods = self.pod_nodes()

            def reach(name: str) -> None:
                with contextlib.suppress(Exception):
                    self.reach_from(name)

            list(pool.map(reach, pods))

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
        if arg == "underlay_node":
            return [n for n in e.nodes if n.underlay is not None]
        if arg == "bgp_node":
            return [n for n in e.nodes if n.bgp is not None]
        if arg == "substrate_pod_node":
            # Probe containers prove the pod network without Kubernetes; with
            # the Kubernetes layer checked, its own pods prove every pair of
            # nodes (test_pod_to_pod), and a second set of containers on
            # every node would only cost each run 1.3 s on two cores.
            return self.nodes_for("pod_node") if self.kubernetes is None else []
        if arg == "kube_node":
            kube = self.kubernetes
            return [n for n in e.nodes if kube and n.name in kube.kubelet_nodes]
        raise KeyError(arg)


def node_ready(node: dict[str, Any]) -> bool:
    conditions = {
        c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []
    }
    return conditions.get("Ready") == "True"


def node_lost(node: dict[str, Any]) -> bool:
    """The node controller marked it Unknown: its kubelet stopped posting
    status (the machine is off or cut off), unlike a kubelet that is starting
    and reports NotReady."""
    conditions = {
        c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []
    }
    return conditions.get("Ready") == "Unknown"


def _key(obj: dict[str, Any]) -> str:
    return f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"


def _unscheduled(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False" for c in conditions)


def pod_settled(pod: dict[str, Any]) -> bool:
    """Ready, or finished (a Job's pod), or stuck in a way waiting will not cure."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    if conditions.get("Ready") == "True":
        return True
    for c in status.get("containerStatuses") or []:
        reason = ((c.get("state") or {}).get("waiting") or {}).get("reason", "")
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff"):
            return True
    return False


_STACK: Stack | None = None


def stack_of(config: pytest.Config) -> Stack:
    global _STACK
    if _STACK is None:
        ref = config.getoption("--stack-file")
        if not ref:
            raise pytest.UsageError(f"no stack: pass --stack-file PATH or set {STACK_ENV}")
        _STACK = Stack(str(ref))
    return _STACK


# Checks with no instance for this stack (pytest would report them as
# skipped; they are deselected instead: irrelevant, not missing).
_IRRELEVANT: set[str] = set()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    values: list[Any] = []
    limit = {name for name in os.environ.get(LIMIT_ENV, "").split(",") if name}
    for arg in NODE_ARGS:
        if arg in metafunc.fixturenames:
            values = stack_of(metafunc.config).nodes_for(arg)
            if limit:
                values = [n for n in values if n.name in limit]
            metafunc.parametrize(arg, values, ids=[n.name for n in values])
            break
    else:
        expect = stack_of(metafunc.config).expect
        if "cluster" in metafunc.fixturenames:
            values = [expect]
            metafunc.parametrize("cluster", values, ids=["cluster"])
        elif "vip_cluster" in metafunc.fixturenames:
            values = [expect] if expect.vip else []
            metafunc.parametrize("vip_cluster", values, ids=["cluster"])
        elif "kube_cluster" in metafunc.fixturenames:
            kube = stack_of(metafunc.config).kubernetes
            values = [kube] if kube is not None else []
            metafunc.parametrize("kube_cluster", values, ids=["cluster"])
        elif "policy_cluster" in metafunc.fixturenames:
            # The declared NetworkPolicies' check, on a stack that declares some.
            checked = stack_of(metafunc.config)
            kube = checked.kubernetes
            values = [kube] if kube is not None and checked.spec.network_policies else []
            metafunc.parametrize("policy_cluster", values, ids=["cluster"])
        else:
            return
    if not values:
        _IRRELEVANT.add(metafunc.definition.nodeid)


def node_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for arg in NODE_ARGS:
            if arg in callspec.params:
                return str(callspec.params[arg].name)
    return CLUSTER


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    irrelevant = [i for i in items if i.nodeid.split("[", 1)[0] in _IRRELEVANT]
    if irrelevant:
        config.hook.pytest_deselected(items=irrelevant)
        items[:] = [i for i in items if i not in irrelevant]
    # All checks of one node run in one xdist worker (one SSH connection).
    # (This hook sees the whole session's items: touch only the checks.)
    for item in items:
        if item.path.parent == HERE:
            item.add_marker(pytest.mark.xdist_group(node_of(item)))


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Stack:
    stack = stack_of(request.config)
    # In one process, reach every node at once before the first check. Under
    # xdist each worker has one node and fetches lazily.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        stack.warm()
    return stack


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
    return stack.batched(this.name)


@pytest.fixture
def expect(request: pytest.FixtureRequest, record_property: Any) -> Expect:
    """Declared-vs-live comparison for this check; call .done() at the end."""
    name = node_of(request.node)
    check = request.node.originalname.removeprefix("test_").replace("_", " ")
    return Expect(name, check, record_property)


def pytest_configure(config: pytest.Config) -> None:
    # Known without xdist too (checks run in one process unless -n is given).
    config.addinivalue_line("markers", "xdist_group(name): run in one xdist worker")
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
    from _probe import STOP

    stack = stack_of(session.config)
    names = [n.name for n in stack.nodes_for("pod_node") if not stack.unreachable(n.name)]

    def stop(name: str) -> None:
        # An unreachable node has no probe to stop.
        with contextlib.suppress(Exception):
            stack.host(name).run(f"bash -c {shlex.quote(STOP)} stop {stack.run_id}")

    if names:
        with ThreadPoolExecutor(len(names)) as pool:
            list(pool.map(stop, names))

"""The Kubernetes layer: its units on each node, and the cluster as a whole.

The cluster checks talk to the API as the stack's admin (the PKI on this
machine), through the endpoint and on each apiserver, and ask the netcheck
pods (groundwork/manifests/netcheck.py, one per node) through the
apiserver's pod proxy to dial each other, the netcheck Service's ClusterIP
and its DNS name. Not run by `verify --substrate-only`.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import _facts as facts
import yaml
from _live import check_service, tcp_connect, version_in
from conftest import Stack, pod_settled

from groundwork.build.manifests import groundwork_objects
from groundwork.manifests import render_addons
from groundwork.manifests.netcheck import (
    CANARY,
    CANARY_TEXT,
    NAME,
    NAMESPACE,
    PORT,
    SERVICE_PORT,
)
from groundwork.pki import pki_dir
from groundwork.plan import build_plan
from groundwork.verify.drift import Expect
from groundwork.verify.expect import (
    KUBELET_PORT,
    KubeExpectation,
    NodeExpectation,
    RouteExpectation,
)
from groundwork.verify.kube import (
    KubeApi,
    KubeError,
    client_credentials,
    describe,
    served_certificate,
)

# --- on each node -------------------------------------------------------------


def test_kubernetes_units(
    kube_node: NodeExpectation, host: Any, stack: Stack, expect: Expect
) -> None:
    kube = stack.kubernetes
    assert kube is not None
    for unit in facts.kube_units(kube_node.name in kube.control_plane_nodes):
        check_service(host, expect, unit)
    out = host.run(facts.binary_version(facts.KUBELET))
    live = version_in(out.stdout) if out.rc == 0 else f"({out.stderr.strip() or 'missing'})"
    expect.equal("kubelet version", kube.version.removeprefix("v"), live)
    # failCgroupV1 follows the node's hierarchy: false only on cgroup v1, so
    # the table names a node that runs the kubelet on v1.
    hierarchy = host.run(facts.CGROUP_HIERARCHY).stdout.strip()
    config = host.run(facts.cat(facts.KUBELET_CONFIG))
    try:
        fail_v1 = (yaml.safe_load(config.stdout) or {}).get("failCgroupV1", True)
    except yaml.YAMLError:
        fail_v1 = "(unreadable)"
    expect.equal(f"kubelet failCgroupV1 on cgroup v{hierarchy}", hierarchy != "1", fail_v1)
    expect.done()


# kube-proxy's first sync after it starts (its minSyncPeriod is 1 s; on two
# shared cores a cold cluster's first sync was seen to take longer).
KUBE_PROXY_SYNC_SECONDS = 30.0


def test_kubernetes_service_from_the_node(
    kube_node: NodeExpectation, host: Any, stack: Stack, expect: Expect
) -> None:
    """A process on the node itself (a probe, an operator's client) reaches a
    ClusterIP: kube-proxy's rules, and a route to the service range."""
    kube = stack.kubernetes
    assert kube is not None
    # Right after a cold `up`, a kube-proxy that has not synced the Service's
    # endpoints yet rejects it (ICMP "no route to host"): a node is judged
    # once its first sync had time to land, a converged one at once.
    deadline = time.monotonic() + KUBE_PROXY_SYNC_SECONDS
    live = tcp_connect(host, kube.service_ip, facts.SERVICE_PORT)
    while live != "accepted" and time.monotonic() < deadline:
        time.sleep(2)
        live = tcp_connect(host, kube.service_ip, facts.SERVICE_PORT)
    expect.equal(
        f"TCP {kube.service_ip}:{facts.SERVICE_PORT} (Service kubernetes)", "accepted", live
    )
    expect.done()


# --- the cluster ----------------------------------------------------------------


def test_apiserver_ready(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """/readyz through the endpoint and on each apiserver; /version is the declared release."""
    targets = [("endpoint", kube_cluster.endpoint_url), *kube_cluster.apiservers]
    for name, url in targets:
        try:
            status, body = stack.kube(url).request("/readyz")
            live = body.strip() if status == 200 else f"HTTP {status}: {body.strip()[:200]}"
        except KubeError as err:
            live = str(err)
        expect.equal(f"{name} ({url}) /readyz", "ok", live)
    try:
        version = stack.kube().get("/version").get("gitVersion")
    except KubeError as err:
        version = str(err)
    expect.equal("server version", kube_cluster.version, version)
    expect.done()


def test_nodes_ready(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Every kubelet node registered, Ready, at the declared version; no others."""
    stack.settle()
    nodes = {n["metadata"]["name"]: n for n in stack.kube().items("/api/v1/nodes")}
    for name in kube_cluster.kubelet_nodes:
        node = nodes.get(name)
        if node is None:
            expect.differs(f"node {name}", "registered", "(absent)")
            continue
        status = node.get("status") or {}
        ready = {c["type"]: c for c in status.get("conditions") or []}.get("Ready", {})
        expect.equal(
            f"node {name} Ready",
            "True",
            ready.get("status", "(no condition)")
            + (f" ({ready.get('message')})" if ready.get("status") != "True" else ""),
        )
        expect.equal(
            f"node {name} kubelet",
            kube_cluster.version,
            (status.get("nodeInfo") or {}).get("kubeletVersion"),
        )
    for name in sorted(set(nodes) - set(kube_cluster.kubelet_nodes)):
        expect.differs(f"node {name}", "(not declared)", "registered")
    expect.done()


def _pod_problem(pod: dict[str, Any]) -> str:
    """Why a pod is not ready, naming its node and, for a pull, the image."""
    status = pod.get("status") or {}
    node = (pod.get("spec") or {}).get("nodeName") or "(not scheduled)"
    for c in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        waiting = (c.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
            return f"cannot pull image {c.get('image')} on {node}: {waiting.get('message', reason)}"
        if reason:
            return f"{c.get('name')} {reason} on {node}: {waiting.get('message', '')}".strip(": ")
        terminated = (c.get("state") or {}).get("terminated")
        if terminated and terminated.get("exitCode"):
            return f"{c.get('name')} exited {terminated.get('exitCode')} on {node}"
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    scheduled = conditions.get("PodScheduled", {})
    if scheduled.get("status") == "False":
        return f"not scheduled: {scheduled.get('message', '')}"
    return f"{status.get('phase', 'unknown')}, not ready, on {node}"


def test_pods_running(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Every pod, kube-system's and the declared workloads', ready (or finished).
    A pod Pending because its node-local volume's node takes no pods (drained)
    is named with that volume and node, and what frees it."""
    waited = stack.settle()
    pods = stack.kube().items("/api/v1/pods")
    pinned = stack.pinned_by_volumes(pods)
    for pod in pods:
        if pod_settled(pod) and (pod.get("status") or {}).get("phase") != "Failed":
            ready = (pod.get("status") or {}).get("phase") == "Succeeded" or any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (pod.get("status") or {}).get("conditions") or []
            )
            if ready:
                continue
        meta = pod["metadata"]
        where = f"{meta['namespace']}/{meta['name']}"
        problem = f"Pending: {pinned[where]}" if where in pinned else _pod_problem(pod)
        expect.differs(f"pod {where}", "ready", f"{problem} (after waiting {waited:.0f} s)")
    expect.done()


# Where each kind of controller keeps its desired and ready counts.
_READY_FIELDS = {
    "Deployment": ("deployments", "replicas", "readyReplicas"),
    "StatefulSet": ("statefulsets", "replicas", "readyReplicas"),
    "DaemonSet": ("daemonsets", "desiredNumberScheduled", "numberReady"),
}


def test_addons_ready(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Each Deployment, StatefulSet and DaemonSet Groundwork applies: present, at
    the declared replicas, every replica ready (a controller scaled to zero by
    hand is drift). Upstream's objects Groundwork patches (flannel, the
    local-path provisioner, CoreDNS) are its own as much."""
    stack.settle()
    for obj in groundwork_objects(render_addons(stack.spec, build_plan(stack.spec))):
        kind = obj.get("kind")
        if kind not in _READY_FIELDS:
            continue
        resource, desired_field, ready_field = _READY_FIELDS[kind]
        meta = obj["metadata"]
        where = f"{kind} {meta.get('namespace', 'default')}/{meta['name']}"
        path = (
            f"/apis/apps/v1/namespaces/{meta.get('namespace', 'default')}/{resource}/{meta['name']}"
        )
        try:
            live = stack.kube().get(path)
        except KubeError as err:
            expect.differs(where, "present", str(err))
            continue
        status = live.get("status") or {}
        if kind != "DaemonSet":
            declared = obj["spec"].get("replicas", 1)
            expect.equal(f"{where} replicas", declared, (live.get("spec") or {}).get("replicas"))
        desired = status.get(desired_field, 0)
        expect.equal(
            f"{where} ready",
            f"{desired} of {desired}",
            f"{status.get(ready_field, 0)} of {desired}",
        )
    expect.done()


def _netcheck_pods(stack: Stack) -> dict[str, tuple[str, str]]:
    """node -> (pod, pod IP) of each ready netcheck pod."""
    out: dict[str, tuple[str, str]] = {}
    path = f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=app.kubernetes.io/name%3D{NAME}"
    for pod in stack.kube().items(path):
        status = pod.get("status") or {}
        node = (pod.get("spec") or {}).get("nodeName")
        if node and status.get("podIP") and pod_settled(pod) and status.get("phase") == "Running":
            out[node] = (pod["metadata"]["name"], status["podIP"])
    return out


def _dial(stack: Stack, source: str, host: str, port: int) -> list[str]:
    """Ask netcheck pod `source` to fetch `hostname` from host:port: who answered."""
    body = stack.kube().proxy(
        NAMESPACE,
        source,
        PORT,
        "/dial",
        {"request": "hostname", "protocol": "http", "host": host, "port": str(port), "tries": "1"},
    )
    doc = json.loads(body)
    if doc.get("errors"):
        raise KubeError("; ".join(str(e) for e in doc["errors"]))
    return [str(r) for r in doc.get("responses") or []]


def test_pod_to_pod(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """From the netcheck pod on each node to the one on every other node."""
    stack.settle()
    pods = _netcheck_pods(stack)
    for name in kube_cluster.kubelet_nodes:
        if name not in pods:
            expect.differs(f"netcheck pod on {name}", "running", "(none ready)")
    pairs = [(a, b) for a in sorted(pods) for b in sorted(pods) if a != b]

    def one(pair: tuple[str, str]) -> str:
        (source, _), (target, ip) = pods[pair[0]], pods[pair[1]]
        try:
            answered = _dial(stack, source, ip, PORT)
        except (KubeError, ValueError) as err:
            return str(err)
        return "ok" if answered == [target] else f"answered by {answered}"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, pairs))
    for (a, b), result in zip(pairs, results, strict=True):
        expect.equal(f"{a} -> {b} ({pods[b][1]})", "ok", result)
    expect.done()


def test_service_and_dns(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """From a pod on each node: the netcheck Service by ClusterIP and by DNS name."""
    stack.settle()
    pods = _netcheck_pods(stack)
    try:
        service = stack.kube().get(f"/api/v1/namespaces/{NAMESPACE}/services/{NAME}")
        cluster_ip = service["spec"]["clusterIP"]
    except KubeError as err:
        expect.differs(f"service {NAMESPACE}/{NAME}", "present", str(err))
        expect.done()
    dns_name = f"{NAME}.{NAMESPACE}.svc.{kube_cluster.cluster_domain}"
    names = {pod for pod, _ in pods.values()}
    jobs = [(node, target) for node in sorted(pods) for target in (cluster_ip, dns_name)]

    def one(job: tuple[str, str]) -> str:
        node, target = job
        try:
            answered = _dial(stack, pods[node][0], target, SERVICE_PORT)
        except (KubeError, ValueError) as err:
            return str(err)
        return "ok" if answered and set(answered) <= names else f"answered by {answered}"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, jobs))
    for (node, target), result in zip(jobs, results, strict=True):
        expect.equal(f"from {node} to {target}:{SERVICE_PORT}", "ok", result)
    expect.done()


# An IPv4 header and an ICMP echo header: a ping of `-s MTU-28` fills MTU bytes.
ICMP_OVERHEAD = 28


def _shell(stack: Stack, source: str, command: str) -> tuple[str, str]:
    """Run a command in netcheck pod `source` (agnhost's /shell): its output
    and its error ("" when it exited 0)."""
    doc = json.loads(stack.kube().proxy(NAMESPACE, source, PORT, "/shell", {"cmd": command}))
    return str(doc.get("output", "")), str(doc.get("error", ""))


def test_pod_mtu(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """The plan's pod MTU on the wire: from the netcheck pod on each node to
    the one on the next node, a don't-fragment ping of exactly the pod MTU
    crosses, and one of a byte more is refused for its size."""
    stack.settle()
    pods = _netcheck_pods(stack)
    names = sorted(pods)
    if len(names) < 2:
        expect.differs("netcheck pods", "on two nodes or more", ", ".join(names) or "(none)")
        expect.done()
    mtu = kube_cluster.pod_mtu
    pairs = [(source, names[(i + 1) % len(names)]) for i, source in enumerate(names)]

    def ping(source: str, ip: str, size: int) -> tuple[str, str]:
        return _shell(stack, pods[source][0], f"ping -M do -c 1 -W 2 -s {size} {ip}")

    def one(pair: tuple[str, str]) -> str:
        source, target = pair
        ip = pods[target][1]
        try:
            out, err = ping(source, ip, mtu - ICMP_OVERHEAD)
            if err:
                return f"{mtu} bytes did not cross: {' '.join(out.split())[-160:]}"
            out, err = ping(source, ip, mtu - ICMP_OVERHEAD + 1)
        except (KubeError, ValueError) as error:
            return str(error)
        if not err:
            return f"{mtu + 1} bytes crossed: the pod MTU is larger than planned"
        if "message too long" not in out:
            return f"{mtu + 1} bytes failed, but not for their size: {' '.join(out.split())[-160:]}"
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, pairs))
    for (a, b), result in zip(pairs, results, strict=True):
        expect.equal(f"pod MTU {mtu}: {a} -> {b} ({pods[b][1]})", "ok", result)
    expect.done()


def _status(host: str, port: int, path: str, pki: Path, identity: str | None) -> int:
    """The HTTP status of a GET as one of the PKI's client identities, or with
    no credentials at all (None)."""
    api = KubeApi(f"https://{host}:{port}", client_credentials(pki, identity))
    return api.request(path)[0]


def _kubelets(kube_cluster: KubeExpectation) -> list[Any]:
    return [s for s in kube_cluster.served if s.port == KUBELET_PORT]


def test_anonymous_requests_refused(
    kube_cluster: KubeExpectation, stack: Stack, expect: Expect
) -> None:
    """No apiserver and no kubelet serves a request without credentials as
    system:anonymous (--anonymous-auth=false; the kubelet's anonymous: false):
    each answers 401."""
    pki = pki_dir(stack.spec.name)
    for node, url in kube_cluster.apiservers:
        parts = urlsplit(url)
        status = _status(parts.hostname or "", parts.port or 443, "/api", pki, None)
        expect.equal(f"apiserver on {node}: GET /api without credentials", 401, status)
    for kubelet in _kubelets(kube_cluster):
        status = _status(kubelet.address, kubelet.port, "/pods", pki, None)
        expect.equal(f"kubelet on {kubelet.node}: GET /pods without credentials", 401, status)
    expect.done()


def test_node_and_rbac_authorization(
    kube_cluster: KubeExpectation, stack: Stack, expect: Expect
) -> None:
    """Node,RBAC on the apiservers: each kubelet's own identity reads its node
    but may not list the cluster's Secrets."""
    pki = pki_dir(stack.spec.name)
    endpoint = urlsplit(kube_cluster.endpoint_url)
    host, port = endpoint.hostname or "", endpoint.port or 443
    for node in kube_cluster.kubelet_nodes:
        identity = f"kubelet-{node}"
        own = _status(host, port, f"/api/v1/nodes/{node}", pki, identity)
        expect.equal(f"system:node:{node}: GET its own node", 200, own)
        secrets = _status(host, port, "/api/v1/secrets", pki, identity)
        expect.equal(f"system:node:{node}: list every Secret", 403, secrets)
    expect.done()


def test_kubelet_webhook_authorization(
    kube_cluster: KubeExpectation, stack: Stack, expect: Expect
) -> None:
    """Each kubelet asks the apiserver who may do what (authorization mode
    Webhook): kube-proxy's identity, authenticated but with no right to a
    node's pods, is refused 403; the apiserver's kubelet client is served."""
    pki = pki_dir(stack.spec.name)
    for kubelet in _kubelets(kube_cluster):
        where = f"kubelet on {kubelet.node}: GET /pods as"
        refused = _status(kubelet.address, kubelet.port, "/pods", pki, "kube-proxy")
        expect.equal(f"{where} system:kube-proxy", 403, refused)
        served = _status(
            kubelet.address, kubelet.port, "/pods", pki, "kube-apiserver-kubelet-client"
        )
        expect.equal(f"{where} kube-apiserver-kubelet-client", 200, served)
    expect.done()


def test_secrets_encrypted_at_rest(
    kube_cluster: KubeExpectation, stack: Stack, expect: Expect
) -> None:
    """The canary Secret's raw value in etcd, read with etcdctl on a member:
    the apiserver's encryption envelope (k8s:enc:secretbox:v1:), and never
    the text itself."""
    members = stack.expect.etcd_members
    expect.true("etcd members", bool(members), "at least one", "(none)")
    member = members[0]
    key = f"/registry/secrets/{NAMESPACE}/{CANARY}"
    out = stack.host(member.name).run(facts.etcdctl([member.client_url], "get", key))
    if out.rc != 0:
        expect.differs(f"etcdctl get {key} on {member.name}", "answers", out.stderr.strip()[:200])
        expect.done()
    kvs = json.loads(out.stdout).get("kvs") or []
    if not kvs:
        expect.differs(f"{key} in etcd", "present", "(absent: is the netcheck addon applied?)")
        expect.done()
    raw = base64.b64decode(kvs[0]["value"])
    expect.true(
        f"{key} in etcd",
        raw.startswith(b"k8s:enc:secretbox:v1:"),
        "k8s:enc:secretbox:v1:...",
        raw[:32].decode(errors="replace"),
    )
    expect.true(f"{key} holds no plaintext", CANARY_TEXT.encode() not in raw, "none", "found")
    expect.done()


def _route_accepted(stack: Stack, route: RouteExpectation) -> str:
    """ "ok", or what the gateway controller said of the HTTPRoute."""
    path = (
        f"/apis/gateway.networking.k8s.io/v1/namespaces/{route.namespace}/httproutes/{route.name}"
    )
    try:
        parents = (stack.kube().get(path).get("status") or {}).get("parents") or []
    except KubeError as err:
        return str(err)
    if not parents:
        return "no gateway has taken it (no status.parents)"
    for parent in parents:
        for condition in parent.get("conditions") or []:
            if condition.get("type") in ("Accepted", "ResolvedRefs") and (
                condition.get("status") != "True"
            ):
                return f"{condition['type']}: {condition.get('reason')}: {condition.get('message')}"
    return "ok"


def _through_gateway(address: str, port: int, route: RouteExpectation) -> str:
    """GET the route's /hostname on address:port with its Host: the pod that answered."""
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", route.path.rstrip("/") + "/hostname", headers={"Host": route.hostname})
        response = conn.getresponse()
        body = response.read().decode(errors="replace").strip()
    except OSError as err:
        return f"error: {err}"
    finally:
        conn.close()
    return body if response.status == 200 else f"HTTP {response.status}: {body[:200]}"


def test_exposed_workloads_through_the_gateway(
    kube_cluster: KubeExpectation, stack: Stack, expect: Expect
) -> None:
    """Each exposed workload's route is accepted by the gateway, and a request
    with its hostname, to the gateway's node port on every node, is answered
    by one of the workload's pods."""
    if not kube_cluster.routes:
        return
    stack.settle()
    for route in kube_cluster.routes:
        expect.equal(f"route {route.namespace}/{route.name}", "ok", _route_accepted(stack, route))
    gateway = kube_cluster.gateway_service
    if gateway is None:
        expect.done()
        return
    try:
        service = stack.kube().get(
            f"/api/v1/namespaces/{gateway.namespace}/services/{gateway.name}"
        )
        node_port = next(
            int(p["nodePort"])
            for p in service["spec"]["ports"]
            if p.get("name") == gateway.port_name and p.get("nodePort")
        )
    except (KubeError, StopIteration) as err:
        expect.differs(f"service {gateway.namespace}/{gateway.name} node port", "present", str(err))
        expect.done()
        return
    nodes = [n for n in stack.expect.nodes if n.name in kube_cluster.kubelet_nodes]
    jobs = [(node, route) for node in nodes for route in kube_cluster.routes]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda j: _through_gateway(j[0].address, node_port, j[1]), jobs))
    for (node, route), answer in zip(jobs, answers, strict=True):
        answered = answer.startswith(f"{route.name}-")
        expect.equal(
            f"{route.hostname}{route.path} via {node.name}:{node_port}",
            f"a pod of {route.name}",
            f"a pod of {route.name}" if answered else answer,
        )
    expect.done()


def test_claims_bound(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    stack.settle()
    for claim in stack.kube().items("/api/v1/persistentvolumeclaims"):
        meta = claim["metadata"]
        phase = (claim.get("status") or {}).get("phase", "(none)")
        expect.equal(f"claim {meta['namespace']}/{meta['name']}", "Bound", phase)
    expect.done()


def test_served_certificates(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Each apiserver's and kubelet's serving certificate: the planned names, not near expiry."""

    def fetch(i: int) -> Any:
        served = kube_cluster.served[i]
        try:
            return served_certificate(served.address, served.port)
        except (OSError, KubeError) as err:
            return str(err)

    with ThreadPoolExecutor(8) as pool:
        live = list(pool.map(fetch, range(len(kube_cluster.served))))
    for planned, cert in zip(kube_cluster.served, live, strict=True):
        where = f"{planned.name} on {planned.node} ({planned.address}:{planned.port})"
        if isinstance(cert, str):
            expect.differs(where, "served", cert)
            continue
        missing = sorted(
            (set(planned.dns_sans) - set(cert.dns_sans))
            | (set(planned.ip_sans) - set(cert.ip_sans))
        )
        expect.true(f"{where} SANs", not missing, "the planned SANs", f"missing {missing}")
        days = cert.days_left()
        expect.true(
            f"{where} days to expiry",
            days >= kube_cluster.min_certificate_days,
            f">= {kube_cluster.min_certificate_days}",
            f"{days:.0f}",
        )
    expect.done()


def test_certificate_expiry(kube_cluster: KubeExpectation, stack: Stack, expect: Expect) -> None:
    """Every certificate of the stack's PKI (CAs and leaves), not near expiry."""
    from cryptography import x509

    directory = pki_dir(stack.spec.name)
    paths = sorted(Path(directory).rglob("*.crt"))
    expect.true("certificates", bool(paths), f"under {directory}", "(none)")
    for path in paths:
        cert = describe(x509.load_pem_x509_certificate(path.read_bytes()))
        days = cert.days_left()
        expect.true(
            f"{path.relative_to(directory)} days to expiry",
            days >= kube_cluster.min_certificate_days,
            f">= {kube_cluster.min_certificate_days}",
            f"{days:.0f}",
        )
    expect.done()

"""`lab up` and `lab down`: the side effects, in order, on top of the pure parts."""

from __future__ import annotations

import fcntl
import shlex
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from groundwork import build
from groundwork.applied import forget_applied
from groundwork.build.run import sha256_file
from groundwork.lab import (
    apt_signing,
    artifacts,
    image,
    mirror,
    network,
    nodes,
    registry,
    router,
    site,
    ssh,
    stale_images,
    storage,
)
from groundwork.lab.errors import LabError
from groundwork.lab.host import ensure_host
from groundwork.lab.layout import LabNode, lab_state_dir, layout
from groundwork.lab.state import LabState
from groundwork.lab.status import observe
from groundwork.paths import cache_dir
from groundwork.progress import Progress, silent

if TYPE_CHECKING:
    from groundwork.spec import ClusterSpec


def up(
    spec: ClusterSpec,
    artifacts_dir: Path | None = None,
    progress: Progress = silent,
    check_nodes: bool = True,
) -> LabState:
    """Make the lab exist as declared; a no-op on a lab that already does.

    With check_nodes false, a lab found unchanged is reported from podman's
    record alone, without asking each node over SSH (about 1 s): for `up`,
    whose pre-flight asks every node right after.
    """
    lab = layout(spec)
    ensure_host(progress)
    # Everything that can refuse the request does so before anything is created.
    user_artifacts = _check_artifacts(spec, artifacts_dir)
    found = nodes.list_containers(lab)
    for c in found:
        if nodes.label_of(c) != lab.stack:
            raise LabError(
                f"a container named {c.name!r} exists but was not made by this lab: "
                f"remove it ({shlex.join(c.storage.podman('rm', '-f', c.name))}) "
                "or rename the lab network"
            )
    network.check_subnet(lab)
    containers = nodes.in_lab_storage(lab, found)
    running = [
        n
        for n in lab.nodes
        if n.container in containers and nodes.is_alive(containers[n.container])
    ]
    storage.ensure_ready(lab.storage, len(lab.nodes) - len(running), progress)

    cache = cache_dir()

    def ensure_image(cache_path: Path, progress: Progress) -> str:
        return image.ensure_image(cache_path, lab.storage, progress)

    built: dict[str, build.Built] = {}

    def ensure_mirror(cache_path: Path, progress: Progress) -> mirror.MirrorContent:
        # The components first: the mirror serves what they built.
        recipes = build.lab_recipes(lab.kubernetes_version, lab.network_plugin)
        built.update(build.build_all(recipes, progress=progress, cache=cache_path))
        served = mirror.served_builds(built, lab.kubernetes_version)
        content = mirror.ensure_content(cache_path, served, progress)
        if apt_signing.sign(content.apt_repo, apt_signing.ensure_key(cache_path)):
            progress("mirror: signed the apt repository's index with the lab's key")
        return content

    with ThreadPoolExecutor(max_workers=2) as pool:
        image_future = pool.submit(locked(cache, "image", ensure_image), cache, progress)
        content_future = pool.submit(locked(cache, "mirror", ensure_mirror), cache, progress)
        node_image = image_future.result()
        content = content_future.result()

    keep = {
        n.container
        for n in lab.nodes
        if n.container in containers and nodes.healthy(containers[n.container], lab, n, node_image)
    }
    # A machine that is off comes back with its disk, as after a power cut;
    # only `lab replace` gives a node a new, empty one.
    powered_off = [
        n
        for n in lab.nodes
        if n.container in containers
        and n.container not in keep
        and nodes.can_power_on(containers[n.container], lab, n, node_image)
    ]
    powered_on: list[LabNode] = []
    if powered_off:
        progress(
            f"powering on {len(powered_off)} machine(s) with their disks: "
            + ", ".join(n.name for n in powered_off)
        )
        refused = nodes.power_on(lab, {n: containers[n.container] for n in powered_off})
        if refused:
            progress(
                "could not power on (replaced by new, empty machines): "
                + ", ".join(n.name for n in refused)
            )
        powered_on = [n for n in powered_off if n not in refused]
        # Their podman IDs stay: `containers` still describes them.
        keep |= {n.container for n in powered_on}
    # Old images, wrong addresses, extras, machines in the storage the stack
    # no longer names, records podman could not start.
    stale = [c for c in found if c.name not in keep or c.storage != lab.storage]
    changed = bool(stale or powered_on)
    if stale:
        names = ", ".join(sorted({c.name for c in stale}))
        progress(f"removing stale or outdated nodes: {names}")
        nodes.remove(stale)
    if network.ensure_network(lab):
        changed = True

    key, known_hosts = ssh.key_paths(lab.stack)
    public_path, new_key = ssh.ensure_key(key, f"groundwork-lab-{lab.stack}")
    public_key = public_path.read_text()
    new = [n for n in lab.nodes if n.container not in keep]
    # A new lab key (state dir wiped, nodes kept) must be authorized on every node.
    to_configure = list(lab.nodes) if new_key else new
    if new:
        changed = True
        progress(f"starting {len(new)} node(s): {', '.join(n.name for n in new)}")
        nodes.start_all(lab, new, node_image)
    # Host keys of every node, read through podman; a kept container keeps
    # the key recorded for its podman ID.
    recorded = ssh.read_host_key_record(lab.stack)
    ids = {n.container: containers[n.container].id for n in lab.nodes if n.container in keep}

    # A kept machine that was just powered on again is still booting: wait
    # for it like a new one, so `up` never sees it half-started.
    booting: list[LabNode] = list(powered_on)

    def host_key(node: LabNode) -> str:
        entry = recorded.get(node.container, {})
        kept_id = ids.get(node.container)
        if kept_id and entry.get("id") == kept_id and entry.get("key"):
            if not nodes.port_open(str(node.address), node.port):
                if node not in booting:
                    booting.append(node)
                nodes.wait_sshd(lab, node)
            return entry["key"]
        return nodes.wait_host_key(lab, node)

    host_keys = nodes.parallel(host_key, list(lab.nodes))
    script = nodes.setup_script(
        lab, public_key, site.apt_source_line(lab.mirror_url), apt_signing.public_key(cache)
    )
    nodes.parallel(lambda n: nodes.configure(lab, n, script), to_configure)
    changed = changed or bool(to_configure)
    nodes.parallel(lambda n: nodes.wait_booted(lab, n), [*new, *booting])
    text = ssh.format_known_hosts(zip(lab.nodes, host_keys, strict=True))
    if not known_hosts.exists() or known_hosts.read_text() != text:
        ssh.write_known_hosts(known_hosts, text)
    if new:
        ids = {
            name: c.id for name, c in nodes.in_lab_storage(lab, nodes.list_containers(lab)).items()
        }
    record = {
        n.container: {"id": ids.get(n.container, ""), "key": public}
        for n, public in zip(lab.nodes, host_keys, strict=True)
    }
    if record != recorded:
        ssh.write_host_key_record(lab.stack, record)

    kept_artifacts = site.user_artifacts_in_site(lab.stack)
    if user_artifacts or not site.is_current(lab.stack, content):
        changed = True
        merged = {a.component: a for a in [*kept_artifacts, *user_artifacts]}
        site.build_site(lab, content, list(merged.values()))
    if site.server_pid(lab.stack) is None:
        changed = True
        progress(f"starting the mirror on {lab.mirror_url}")
        site.start_server(lab)
    if locked(cache, "registry", lambda c, p: registry.ensure_registry(lab, built, c, p))(
        cache, progress
    ):
        changed = True
    lab_router = router.planned(spec)
    if lab_router is not None and not router.running(lab):
        progress(f"starting the lab's BGP router (BIRD) on {lab_router.address}")
    if router.ensure(lab, lab_router):
        changed = True
    # No machine was started or powered on: podman's record is the one listed above.
    listed = containers if not new and not powered_on else None
    deep = check_nodes or changed or bool(booting)
    state = observe(lab, changed=changed, deep=deep, containers=listed)
    # sshd can answer before systemd has finished booting a restarted machine.
    starting = {n.name for n in state.nodes if n.state == "starting"}
    if starting:
        nodes.parallel(
            lambda n: nodes.wait_booted(lab, n), [n for n in lab.nodes if n.name in starting]
        )
        state = observe(lab, changed=changed)
    images_key = registry.images_key(built)
    if not stale_images.checked(lab, images_key):
        alive = {n.name for n in state.nodes if n.state in ("running", "degraded")}
        digests = registry.served_digests(built, cache)
        stale_images.drop_stale(lab, [n for n in lab.nodes if n.name in alive], digests, progress)
        if len(alive) == len(lab.nodes):  # a machine that is off is checked when on
            stale_images.mark_checked(lab, images_key)
    return state


T = TypeVar("T")


def locked(
    cache: Path, name: str, fn: Callable[[Path, Progress], T]
) -> Callable[[Path, Progress], T]:
    """fn under an exclusive lock: labs of several stacks share one cache."""

    def wrapper(cache_path: Path, progress: Progress) -> T:
        with (cache / f".{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return fn(cache_path, progress)

    return wrapper


def _check_artifacts(
    spec: ClusterSpec, artifacts_dir: Path | None
) -> list[artifacts.CheckedArtifact]:
    if artifacts_dir is None:
        return []
    found = artifacts.scan(artifacts_dir, sha256_file)
    return artifacts.check_artifacts(found, spec.kubernetes.version, artifacts.pinned_sha256)


def replace(spec: ClusterSpec, node: str, progress: Progress = silent) -> LabState:
    """Swap a machine for a new one at the same address with an empty disk
    (the explicit act a failed disk calls for; a power cut is not one)."""
    lab = layout(spec)
    target = lab.node(node)  # LabError naming the nodes when there is no such node
    containers = nodes.in_lab_storage(lab, nodes.list_containers(lab))
    if target.container in containers:
        progress(f"removing {node} and its disk")
        nodes.remove([containers[target.container]])
    return up(spec, progress=progress)


def down(spec: ClusterSpec, progress: Progress = silent) -> None:
    """Remove everything `up` made: nodes, network, mirror process, state files."""
    lab = layout(spec)
    if site.server_pid(lab.stack) is not None:
        progress("stopping the mirror")
    site.stop_server(lab.stack)
    registry.stop(lab)
    router.stop(lab)
    containers = [c for c in nodes.list_containers(lab) if nodes.label_of(c) == lab.stack]
    if containers:
        progress(f"removing {len(containers)} node(s)")
        nodes.remove(containers)
    network.remove_network(lab)
    shutil.rmtree(lab_state_dir(lab.stack), ignore_errors=True)
    # The machines are gone, so is the cluster: the next `up` bootstraps a
    # fresh one (a member that joined later must not start as "existing").
    forget_applied(spec.name)


def leftovers(spec: ClusterSpec) -> list[str]:
    """What of this lab still exists on the host (empty after a clean `down`)."""
    lab = layout(spec)
    found = [f"container {c.name}" for c in nodes.list_containers(lab)]
    found += [f"network {n.name}" for n in network.list_networks() if network.is_ours(n, lab)]
    if site.server_pid(lab.stack) is not None:
        found.append("mirror server process")
    if registry.running(lab):
        found.append("registry server process")
    if router.running(lab):
        found.append("BGP router process")
    return found

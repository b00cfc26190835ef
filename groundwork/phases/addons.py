"""What runs inside the cluster, for the CLI door: every addon layer the stack
declares (groundwork.manifests: CNI, CoreDNS, storage, load balancer,
gateway, workloads), applied in dependency order with kubectl's server-side
apply through the admin kubeconfig and the control plane endpoint.

The Pulumi door applies the same objects as pulumi-kubernetes resources. A
layer's upstream bundle is applied first when its files come from a module
the lab pins (the Gateway API CRDs), and its CRDs are waited for until
established. A bundle known only by its release URL (CRDs and operators
fetched at install time) was refused before anything was touched
(groundwork.phases.pinned_bundles): the CLI door installs nothing it has
not pinned itself.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from groundwork import yamlio
from groundwork.applied import read_applied
from groundwork.build import BY_COMPONENT, BuildError, build
from groundwork.build.manifests import bundle_objects
from groundwork.kubeconfig import KubeconfigError, write_admin
from groundwork.manifests import Layer, Obj, render_addons
from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip
from groundwork.progress import Progress, silent

# Field manager of every object Groundwork applies: `kubectl apply
# --server-side` reports conflicts with other managers by this name.
FIELD_MANAGER = "groundwork"


def kubectl() -> str:
    """The kubectl built from the pinned kubernetes module (the cluster's own
    release), else the one on PATH."""
    try:
        return str(build(BY_COMPONENT["kubernetes"]).path("kubectl"))
    except BuildError:
        return "kubectl"


def kubectl_process(
    kubeconfig: Path, args: list[str], timeout: float, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """One kubectl call as the stack's admin, whatever its exit code."""
    return subprocess.run(
        [kubectl(), f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_kubectl(
    kubeconfig: Path,
    args: list[str],
    timeout: float,
    stdin: str | None = None,
    highest_ok: int = 0,
) -> str:
    """One kubectl call as the stack's admin; its output, or AddonError with
    kubectl's own message when it exits above `highest_ok`."""
    result = kubectl_process(kubeconfig, args, timeout, stdin)
    if result.returncode > highest_ok:
        raise AddonError(result.stderr.strip() or result.stdout.strip())
    return result.stdout


def server_side(
    verb: str,
    kubeconfig: Path,
    objects: list[dict[str, object]],
    timeout: float,
    highest_ok: int,
    options: tuple[str, ...] = (),
) -> str:
    """`kubectl <verb>` (apply or diff) of the objects as Groundwork's field
    manager, in one call; its output."""
    args = [
        verb,
        "--server-side",
        "--force-conflicts",
        f"--field-manager={FIELD_MANAGER}",
        *options,
    ]
    stdin = yamlio.dump_all(objects)
    return run_kubectl(kubeconfig, [*args, "--filename=-"], timeout, stdin, highest_ok)


# The API server itself refuses an unknown or misplaced field of a
# server-side apply ("field not declared in schema"), so kubectl's own
# validation only costs its fetch of the OpenAPI schemas: 0.4 s of every
# no-change `up`. (`kubectl diff` has no such flag: it is for apply only.)
APPLY_OPTIONS = ("--validate=false",)


def apply(kubeconfig: Path, objects: list[dict[str, object]], timeout: float = 300) -> str:
    """Server-side apply of the objects, in one kubectl call; its output."""
    return server_side("apply", kubeconfig, objects, timeout, highest_ok=0, options=APPLY_OPTIONS)


def wait_established(kubeconfig: Path, crds: list[str], timeout: float = 120) -> None:
    """Until the API serves the CRDs' kinds: objects of those kinds come next."""
    if crds:
        args = ["wait", "--for=condition=Established", f"--timeout={timeout:.0f}s"]
        run_kubectl(kubeconfig, [*args, *(f"crd/{name}" for name in crds)], timeout + 30)


# What kubectl says of an object whose kind the API server does not serve
# (yet): its CRD was applied a moment ago, or not at all.
UNSERVED_KIND = ("no matches for kind", "ensure CRDs are installed first")
# What kubectl says when the endpoint took no request: right after a first
# install its load balancer may not have marked an apiserver up yet (two
# health checks, roles/apiserver_lb), and closes the connection.
UNREACHED = ("Unable to connect to the server", "connection refused")
# How long a first install's endpoint is given to answer /readyz.
ENDPOINT_TIMEOUT = 120.0


def wait_ready(kubeconfig: Path, timeout: float | None = None) -> None:
    """Until the API answers /readyz through the stack's endpoint; AddonError
    with kubectl's last words when it does not within the timeout
    (ENDPOINT_TIMEOUT by default)."""
    timeout = ENDPOINT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        result = kubectl_process(kubeconfig, ["get", "--raw=/readyz"], timeout=15)
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            said = (result.stderr or result.stdout).strip()
            raise AddonError(f"the endpoint did not answer /readyz within {timeout:.0f} s: {said}")
        time.sleep(1)


def apply_once_reached(
    kubeconfig: Path, objects: list[dict[str, object]], progress: Progress = silent
) -> str:
    """Server-side apply of the objects; when the endpoint took no request,
    again once it answers /readyz (an endpoint that never does is the error)."""
    try:
        return apply(kubeconfig, objects)
    except AddonError as err:
        if not any(mark in str(err) for mark in UNREACHED):
            raise
    progress("addons: waiting for the endpoint to answer /readyz")
    wait_ready(kubeconfig)
    return apply(kubeconfig, objects)


class AddonError(Exception):
    """kubectl refused an object (its own message)."""


def diff(kubeconfig: Path, objects: list[dict[str, object]], timeout: float = 300) -> list[str]:
    """The objects a server-side apply would change (kubectl diff: the API
    server dry-runs the apply), as kubectl names them: group.version.Kind.namespace.name."""
    # kubectl diff exits 1 when something differs, above 1 on an error.
    return changed_objects(server_side("diff", kubeconfig, objects, timeout, highest_ok=1))


def changed_objects(diff_text: str) -> list[str]:
    """The objects a `kubectl diff` output names (its `diff -u -N LIVE MERGED` headers), pure."""
    names = []
    for line in diff_text.splitlines():
        if line.startswith("diff ") and "/LIVE-" in line:
            names.append(line.split()[-2].rsplit("/", 1)[-1])
    return names


def bundled_layers(context: Context) -> list[tuple[Layer, list[Obj]]]:
    """Each addon layer with objects, beside its upstream bundles' objects
    (read from their pinned modules)."""
    return [
        (layer, [obj for bundle in layer.bundles for obj in bundle_objects(bundle)])
        for layer in render_addons(context.spec, context.plan).layers()
        if layer.objects or layer.bundles
    ]


def all_objects(layers: list[tuple[Layer, list[Obj]]]) -> list[Obj]:
    """Every object in dependency order: each layer's bundles, then its own objects."""
    return [obj for layer, bundled in layers for obj in (*bundled, *layer.objects)]


class Addons(Phase):
    name = "addons"

    def should_run(self, context: Context) -> Decision:
        if not (context.options.kubernetes and context.options.addons):
            return skip("not asked for (--substrate-only, or Pulumi applies them)")
        if context.not_installed:
            return skip("Kubernetes is not installed")
        if context.options.limit:
            return skip("--limit: the cluster's objects are not the named nodes'")
        return RUN

    def preview(self, context: Context) -> Outcome | None:
        if context.would_change and read_applied(context.spec.name) is None:
            return None  # no cluster to ask yet
        try:
            kubeconfig = write_admin(context.spec, context.plan)
            objects = all_objects(bundled_layers(context))
            changed = diff(kubeconfig, objects)
        except (KubeconfigError, BuildError, AddonError, subprocess.TimeoutExpired) as err:
            if any(mark in str(err) for mark in UNSERVED_KIND):
                return Outcome(True, "a first install: every object would be created", changes=True)
            return Outcome(False, f"the API server could not dry-run the apply: {err}")
        if not changed:
            return Outcome(True, f"none of the {len(objects)} object(s) would change")
        message = f"{len(changed)} of {len(objects)} object(s) would change"
        return Outcome(True, message, "\n".join(changed), changes=True)

    def run(self, context: Context) -> Outcome:
        try:
            kubeconfig = write_admin(context.spec, context.plan)
            layers = bundled_layers(context)
        except (KubeconfigError, BuildError) as err:
            return Outcome(False, str(err))
        objects = all_objects(layers)
        # A cluster that already serves every kind the objects use (each run
        # after the first) takes them all in one call, in dependency order:
        # a second on two cores instead of one kubectl per layer and a wait
        # for CRDs that are long established.
        context.progress(f"addons: applying {len(objects)} objects in one call")
        try:
            out = apply_once_reached(kubeconfig, objects, context.progress)
            return Outcome(True, f"{len(objects)} object(s) applied; kubeconfig: {kubeconfig}", out)
        except AddonError as err:
            if not any(mark in str(err) for mark in UNSERVED_KIND):
                return Outcome(False, str(err))
        except subprocess.TimeoutExpired as err:
            return Outcome(False, str(err))
        # Some kind is not served yet (a first install): layer by layer, each
        # layer's CRDs established before the objects of their kinds.
        lines: list[str] = []
        for layer, bundled in layers:
            context.progress(f"addons: applying {layer.name} ({len(layer.objects)} objects)")
            try:
                if bundled:
                    lines += apply(kubeconfig, bundled).splitlines()
                    crds = [
                        str(o["metadata"]["name"])
                        for o in bundled
                        if o.get("kind") == "CustomResourceDefinition"
                    ]
                    wait_established(kubeconfig, crds)
                lines += apply(kubeconfig, list(layer.objects)).splitlines()
            except (AddonError, subprocess.TimeoutExpired) as err:
                return Outcome(False, f"layer {layer.name}: {err}", "\n".join(lines))
        return Outcome(
            True, f"{len(objects)} object(s) applied; kubeconfig: {kubeconfig}", "\n".join(lines)
        )

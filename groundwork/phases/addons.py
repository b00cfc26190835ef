"""What runs inside the cluster, for the CLI door: every addon layer the stack
declares (groundwork.manifests: CNI, CoreDNS, storage, load balancer,
gateway, workloads), applied in dependency order with kubectl's server-side
apply through the admin kubeconfig and the control plane endpoint.

The Pulumi door applies the same objects as pulumi-kubernetes resources. A
layer's upstream bundle is applied first when its files come from a module
the lab pins (the Gateway API CRDs), and its CRDs are waited for until
established. A bundle known only by its release URL (CRDs and operators
fetched at install time) is refused here with its name: the CLI door
installs nothing it has not pinned itself.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from groundwork.build import BY_COMPONENT, BuildError, build
from groundwork.build.manifests import bundle_objects
from groundwork.kubeconfig import KubeconfigError, write_admin
from groundwork.manifests import render_addons
from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip

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


def run_kubectl(kubeconfig: Path, args: list[str], timeout: float, stdin: str | None = None) -> str:
    """One kubectl call as the stack's admin; its output, or AddonError with
    kubectl's own message."""
    result = subprocess.run(
        [kubectl(), f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AddonError(result.stderr.strip() or result.stdout.strip())
    return result.stdout


def apply(kubeconfig: Path, objects: list[dict[str, object]], timeout: float = 300) -> str:
    """Server-side apply of the objects, in one kubectl call; its output."""
    args = [
        "apply",
        "--server-side",
        "--force-conflicts",
        f"--field-manager={FIELD_MANAGER}",
        "--filename=-",
    ]
    return run_kubectl(kubeconfig, args, timeout, yaml.safe_dump_all(objects, sort_keys=False))


def wait_established(kubeconfig: Path, crds: list[str], timeout: float = 120) -> None:
    """Until the API serves the CRDs' kinds: objects of those kinds come next."""
    if crds:
        args = ["wait", "--for=condition=Established", f"--timeout={timeout:.0f}s"]
        run_kubectl(kubeconfig, [*args, *(f"crd/{name}" for name in crds)], timeout + 30)


class AddonError(Exception):
    """kubectl refused an object (its own message)."""


class Addons(Phase):
    name = "addons"

    def should_run(self, context: Context) -> Decision:
        if not (context.options.kubernetes and context.options.addons):
            return skip("not asked for (--substrate-only, or Pulumi applies them)")
        if context.not_installed:
            return skip("Kubernetes is not installed")
        return RUN

    def run(self, context: Context) -> Outcome:
        try:
            kubeconfig = write_admin(context.spec, context.plan)
        except KubeconfigError as err:
            return Outcome(False, str(err))
        applied = 0
        lines: list[str] = []
        for layer in render_addons(context.spec, context.plan).layers():
            if not layer.objects and not layer.bundles:
                continue
            unpinned = [b.name for b in layer.bundles if b.files is None]
            if unpinned:
                return Outcome(
                    False,
                    f"layer {layer.name} needs upstream bundles ({', '.join(unpinned)}) that "
                    "the CLI does not install: deploy this stack with `pulumi up`",
                    "\n".join(lines),
                )
            context.progress(f"addons: applying {layer.name} ({len(layer.objects)} objects)")
            try:
                bundled = [obj for bundle in layer.bundles for obj in bundle_objects(bundle)]
                if bundled:
                    lines += apply(kubeconfig, bundled).splitlines()
                    crds = [
                        str(o["metadata"]["name"])
                        for o in bundled
                        if o.get("kind") == "CustomResourceDefinition"
                    ]
                    wait_established(kubeconfig, crds)
                    applied += len(bundled)
                out = apply(kubeconfig, list(layer.objects))
            except (AddonError, BuildError, subprocess.TimeoutExpired) as err:
                return Outcome(False, f"layer {layer.name}: {err}", "\n".join(lines))
            lines += out.splitlines()
            applied += len(layer.objects)
        return Outcome(
            True, f"{applied} object(s) applied; kubeconfig: {kubeconfig}", "\n".join(lines)
        )

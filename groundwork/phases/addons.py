"""What runs inside the cluster, for the CLI door: every addon layer the stack
declares (groundwork.manifests: CNI, CoreDNS, storage, load balancer,
gateway, workloads), applied in dependency order with kubectl's server-side
apply through the admin kubeconfig and the control plane endpoint.

The Pulumi door applies the same objects as pulumi-kubernetes resources. A
layer that needs an upstream bundle (CRDs and operators fetched by URL) is
refused here with its name: the CLI door installs nothing it has not pinned
and served itself.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from groundwork.build import BY_COMPONENT, BuildError, build
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


def apply(kubeconfig: Path, objects: list[dict[str, object]], timeout: float = 300) -> str:
    """Server-side apply of the objects, in one kubectl call; its output."""
    text = yaml.safe_dump_all(objects, sort_keys=False)
    result = subprocess.run(
        [
            kubectl(),
            f"--kubeconfig={kubeconfig}",
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={FIELD_MANAGER}",
            "--filename=-",
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AddonError(result.stderr.strip() or result.stdout.strip())
    return result.stdout


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
            if layer.bundles:
                names = ", ".join(b.name for b in layer.bundles)
                return Outcome(
                    False,
                    f"layer {layer.name} needs upstream bundles ({names}) that the CLI "
                    "does not install: deploy this stack with `pulumi up`",
                    "\n".join(lines),
                )
            context.progress(f"addons: applying {layer.name} ({len(layer.objects)} objects)")
            try:
                out = apply(kubeconfig, list(layer.objects))
            except (AddonError, subprocess.TimeoutExpired) as err:
                return Outcome(False, f"layer {layer.name}: {err}", "\n".join(lines))
            lines += out.splitlines()
            applied += len(layer.objects)
        return Outcome(
            True, f"{applied} object(s) applied; kubeconfig: {kubeconfig}", "\n".join(lines)
        )

"""Which Kubernetes release the cluster runs, asked before any node changes.

A stack that declares another release than the running one is an upgrade.
The running apiserver's /version and every Node's kubelet version are read
through the endpoint (two HTTPS requests with the admin certificate, no
kubectl process). The skew rules (groundwork.plan.upgrade, U1-U6) are
checked here, every problem at once, before site.yml touches a node. Then
the Kubernetes phase runs playbooks/upgrade.yml (the control plane one node
at a time, each node drained, upgraded and uncordoned in turn) instead of
kubernetes.yml.

A stack never applied, or a cluster whose apiserver does not answer (a lab
whose machines were made anew), is installed, not upgraded.
"""

from __future__ import annotations

from collections.abc import Mapping

from groundwork.phases.base import RUN, Context, Decision, Outcome, Phase, skip
from groundwork.pki import pki_dir
from groundwork.plan.upgrade import check_upgrade, parse_version
from groundwork.verify.kube import KubeApi, KubeError, admin_credentials

# A running apiserver answers in milliseconds; a VIP nobody holds never does.
ASK_TIMEOUT_SECONDS = 3.0


def running_versions(api: KubeApi) -> tuple[str, dict[str, str]]:
    """The apiserver's gitVersion and each Node's kubelet version."""
    apiserver = str(api.get("/version").get("gitVersion", ""))
    kubelets = {
        str(node["metadata"]["name"]): str(node["status"]["nodeInfo"]["kubeletVersion"])
        for node in api.items("/api/v1/nodes")
    }
    return apiserver, kubelets


def moves(apiserver: str, kubelets: Mapping[str, str], declared: str) -> bool:
    """Whether any running component is at another release than the declared (pure)."""
    target = parse_version(declared)
    return any(parse_version(v) != target for v in (apiserver, *kubelets.values()))


class Release(Phase):
    name = "release"
    changes_nothing = True

    def should_run(self, context: Context) -> Decision:
        if not context.options.kubernetes:
            return skip("not asked for (--substrate-only)")
        if context.members().fresh:
            return skip("a new cluster: nothing runs yet")
        return RUN

    def run(self, context: Context) -> Outcome:
        declared = context.spec.kubernetes.version
        credentials = admin_credentials(pki_dir(context.spec.name))
        api = KubeApi(context.plan.endpoint.url, credentials, timeout=ASK_TIMEOUT_SECONDS)
        try:
            apiserver, kubelets = running_versions(api)
        except KubeError as err:
            return Outcome(True, f"no running apiserver answers ({err}): {declared} is installed")
        if not moves(apiserver, kubelets, declared):
            return Outcome(True, f"the cluster runs {declared}")
        problems = check_upgrade(apiserver, kubelets, declared)
        if problems:
            return Outcome(
                False,
                f"refused before any change: the cluster runs {apiserver}, "
                f"kubernetes.version is {declared}",
                "\n".join(problems),
            )
        if context.options.limit:
            return Outcome(
                False,
                f"refused before any change: an upgrade ({apiserver} -> {declared}) moves every "
                "node in turn; run it without --limit",
            )
        context.upgrade_from = apiserver
        behind = sorted(
            n for n, v in kubelets.items() if parse_version(v) != parse_version(declared)
        )
        return Outcome(
            True,
            f"upgrade {apiserver} -> {declared}: the control plane one node at a time, then "
            f"{len(behind)} node(s) drained and upgraded one at a time",
        )

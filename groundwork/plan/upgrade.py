"""Version-skew rules an upgrade must satisfy before anything changes.

`check_upgrade` is pure: it takes the versions running now (the apiserver's
and every kubelet's, as `kubectl version` and `kubectl get nodes` report
them) and the target, and returns every problem at once (empty: go ahead).

playbooks/upgrade.yml enforces the same rules in its precheck play, before
the first host is touched; each assert there carries the rule's id below
(U1 ... U6) in its name, and tests/unit/test_upgrade.py checks that both
sides list the same ids.

U1  the target is a valid version (MAJOR.MINOR.PATCH, optional leading v)
U2  the target's minor is one Groundwork supports (versions.KUBERNETES_MINORS)
U3  the running apiserver's version is known and valid
U4  no downgrade: the target is not older than the running apiserver
U5  one minor at a time: the target's minor is at most one above the
    running apiserver's (same major)
U6  kubelets are never newer than the apiserver, and never more than three
    minors older than it (upstream's skew policy since 1.28): every running
    kubelet must be no newer than the running apiserver, and no more than
    three minors behind the target (the apiserver after the upgrade, while
    the kubelets still run their old version)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from groundwork import versions

# How many minors a kubelet may trail the apiserver (upstream: n-3).
KUBELET_MAX_MINORS_BEHIND = 3

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")

RULES: tuple[str, ...] = ("U1", "U2", "U3", "U4", "U5", "U6")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of "1.36.4", "v1.36.4" or "v1.36.4-gke.1"; None if not a version."""
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def _show(version: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*version)


def check_upgrade(
    current_apiserver: str, current_kubelets: Mapping[str, str], target: str
) -> list[str]:
    """Every reason the upgrade from the running versions to `target` must not start."""
    problems: list[str] = []
    goal = parse_version(target)
    if goal is None:
        return [f"U1: target {target!r} is not a Kubernetes version (expected 1.MINOR.PATCH)"]
    goal_minor = f"{goal[0]}.{goal[1]}"
    if goal_minor not in versions.KUBERNETES_MINORS:
        problems.append(
            f"U2: target {_show(goal)} is outside the supported minors "
            f"{', '.join(versions.KUBERNETES_MINORS)}"
        )
    running = parse_version(current_apiserver)
    if running is None:
        problems.append(
            f"U3: the running apiserver version {current_apiserver!r} is unknown: "
            "is the control plane up? (a new cluster is installed with site.yml, not upgraded)"
        )
        return problems
    if goal < running:
        problems.append(
            f"U4: target {_show(goal)} is older than the running apiserver {_show(running)}: "
            "downgrades are not supported"
        )
    elif goal[0] != running[0] or goal[1] - running[1] > 1:
        problems.append(
            f"U5: target {_show(goal)} skips a minor: the apiserver runs {_show(running)}; "
            f"upgrade one minor at a time (next: {running[0]}.{running[1] + 1})"
        )
    for node, text in sorted(current_kubelets.items()):
        kubelet = parse_version(text)
        if kubelet is None:
            problems.append(f"U6: node {node} reports kubelet version {text!r}, not a version")
            continue
        if kubelet > running:
            problems.append(
                f"U6: node {node} runs kubelet {_show(kubelet)}, newer than the apiserver "
                f"{_show(running)}: a kubelet must never be newer than the apiserver"
            )
        elif kubelet[0] != goal[0] or goal[1] - kubelet[1] > KUBELET_MAX_MINORS_BEHIND:
            problems.append(
                f"U6: node {node} runs kubelet {_show(kubelet)}, more than "
                f"{KUBELET_MAX_MINORS_BEHIND} minors behind the target {_show(goal)}: "
                "upgrade that node's kubelet first"
            )
    return problems

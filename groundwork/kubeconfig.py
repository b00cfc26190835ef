"""The admin kubeconfig of a stack, from its PKI on this machine.

It embeds the `admin` client certificate's private key (system:masters):
written 0600 beside the stack's other secrets (<state dir>/<stack>/secrets,
0700), or where the user asks.
"""

from __future__ import annotations

import os
from pathlib import Path

from groundwork.manifests.kubeconfig import admin_kubeconfig
from groundwork.paths import state_dir
from groundwork.pki import pki_dir
from groundwork.plan import ClusterPlan
from groundwork.spec import ClusterSpec


class KubeconfigError(Exception):
    """The stack's PKI has no admin certificate yet (no `up` has run here)."""


def admin_text(spec: ClusterSpec, plan: ClusterPlan) -> str:
    directory = pki_dir(spec.name)
    try:
        pems = [(directory / name).read_text() for name in ("ca.crt", "admin.crt", "admin.key")]
    except FileNotFoundError as err:
        raise KubeconfigError(
            f"no {Path(str(err.filename)).name} under {directory}: "
            f"run `groundwork up --stack {spec.name}` first, which makes the PKI"
        ) from None
    return admin_kubeconfig(spec.name, plan.endpoint.url, *pems)


def write_admin(spec: ClusterSpec, plan: ClusterPlan, path: Path | None = None) -> Path:
    """Write the admin kubeconfig (0600, atomically); its path."""
    if path is None:
        secrets = state_dir(spec.name) / "secrets"
        secrets.mkdir(mode=0o700, exist_ok=True)
        path = secrets / "admin.kubeconfig"
    target = path
    text = admin_text(spec, plan)
    if target.exists() and target.read_text() == text:
        return target
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(target)
    return target

"""The applied record's file: the membership the last successful `up` applied
(<state dir>/<stack>/applied.json, its format in groundwork.plan.applied),
which the next `up` diffs the stack against (groundwork.plan.membership)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from groundwork.paths import state_dir
from groundwork.plan.applied import Applied, RecordError

APPLIED_FILE = "applied.json"

__all__ = ["APPLIED_FILE", "applied_path", "forget_applied", "read_applied", "write_applied"]


def applied_path(stack: str) -> Path:
    return state_dir(stack) / APPLIED_FILE


def read_applied(stack: str) -> Applied | None:
    """The last applied membership; None when the stack was never applied (fresh)."""
    path = applied_path(stack)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RecordError(f"{path}: not JSON: {err}") from None
    try:
        return Applied.from_dict(data)
    except RecordError as err:
        raise RecordError(f"{path}: {err}") from None


def write_applied(stack: str, applied: Applied) -> bool:
    """Write the record atomically (0600); False when it already says the same."""
    path = applied_path(stack)
    text = json.dumps(applied.to_dict(), indent=2) + "\n"
    if path.exists() and path.read_text() == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def forget_applied(stack: str) -> None:
    """Drop the record once the cluster it describes is gone (every node reset):
    the next `up` bootstraps a fresh cluster."""
    applied_path(stack).unlink(missing_ok=True)

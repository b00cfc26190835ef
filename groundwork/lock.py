"""One run at a time per stack.

Two runs on one stack would fight: both rebuild the lab's mirror, both
reset or re-add etcd members, both write the inventory. A run that may
change anything takes the stack's lock first; a second one fails at once
naming the run that holds it, instead of waiting behind it (a CI job that
queued silently for half an hour is worse than one that says why it
stopped).

The lock is an flock(2) on a file in the stack's state directory: the
kernel releases it when its holder exits, however it exits, so a killed
run never leaves a stale lock. The file also says who holds it, for the
message; its content is only read, never trusted for the locking.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from groundwork.paths import state_dir

LOCK_FILE = "run.lock"


class StackBusy(Exception):
    """Another run holds the stack's lock; the message names it."""


@contextmanager
def stack_lock(stack: str, verb: str) -> Iterator[None]:
    """Hold the stack's run lock for the block, or raise StackBusy at once."""
    path = state_dir(stack) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip()
            raise StackBusy(
                f"stack {stack} is busy: another run holds {path}"
                f" ({holder or 'holder unknown'}); wait for it to end, or stop it"
            ) from None
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{verb}, pid {os.getpid()}, since {started}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)

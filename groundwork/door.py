"""Which front door drives a stack: `groundwork up` or `pulumi up`, never both.

Each door keeps its own record of what it made: `groundwork up` its PKI and
applied-state files in the state directory, `pulumi up` the same PKI in its
Pulumi state (which it writes to the state directory before each run). A
stack made by one door and then driven by the other would get a second CA
and two records that disagree. So the first door to provision a stack claims
it, in `<state>/<stack>/door`, and the other door is refused, naming the way
to hand the stack over: destroy it through the door that made it.
"""

from __future__ import annotations

import time
from typing import Literal

from groundwork.paths import state_dir

Door = Literal["groundwork", "pulumi"]
DOOR_FILE = "door"

# How each door is driven, and how it lets a stack go.
COMMANDS: dict[str, tuple[str, str]] = {
    "groundwork": ("groundwork up --stack {stack}", "groundwork destroy --stack {stack}"),
    "pulumi": ("pulumi up -s {stack}", "pulumi destroy -s {stack}"),
}


class WrongDoor(Exception):
    """The stack is driven by the other front door; the message says how to switch."""


def refusal(stack: str, door: str, holder: str, since: str) -> str | None:
    """Why `door` may not drive a stack that `holder` claimed, or None (pure)."""
    if holder == door:
        return None
    driven, release = (
        command.format(stack=stack) for command in COMMANDS.get(holder, (holder, "its own destroy"))
    )
    mine = COMMANDS[door][0].format(stack=stack)
    return (
        f"stack {stack} is driven by `{driven}` (since {since}): two front doors would "
        f"give it two PKIs and two records. Keep using `{driven}`, or run `{release}` "
        f"first and then `{mine}`"
    )


def holder(stack: str) -> tuple[str, str] | None:
    """The door that claimed the stack and since when, or None."""
    path = state_dir(stack) / DOOR_FILE
    if not path.is_file():
        return None
    door, _, since = path.read_text().strip().partition(" ")
    return door, since or "an unknown time"


def check(stack: str, door: Door) -> tuple[str, str] | None:
    """Raise WrongDoor if the other door holds the stack; claims nothing.
    Returns the holder (this door's claim) or None."""
    held = holder(stack)
    if held is not None:
        problem = refusal(stack, door, *held)
        if problem:
            raise WrongDoor(problem)
    return held


def claim(stack: str, door: Door) -> None:
    """Claim the stack for `door`, or raise WrongDoor if the other one holds it."""
    if check(stack, door) is None:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        (state_dir(stack) / DOOR_FILE).write_text(f"{door} {since}\n")


def release(stack: str) -> None:
    """After a destroy: the nodes hold nothing of either door any more."""
    (state_dir(stack) / DOOR_FILE).unlink(missing_ok=True)


if __name__ == "__main__":
    # `python -m groundwork.door STACK`: the door that drives it, or nothing.
    import sys

    held = holder(sys.argv[1])
    print(held[0] if held else "")

"""Refuse a stack that the other front door drives, before anything is
touched (groundwork/door.py); `up` claims an unclaimed stack for its door."""

from __future__ import annotations

from groundwork import door
from groundwork.phases.base import Context, Outcome, Phase


class FrontDoor(Phase):
    name = "door"
    changes_nothing = True  # a dry run checks; only a real `up` claims

    def __init__(self, claims: bool) -> None:
        self.claims = claims

    def run(self, context: Context) -> Outcome:
        stack, mine = context.spec.name, context.options.door
        if self.claims and not context.options.dry_run:
            door.claim(stack, mine)
        else:
            door.check(stack, mine)
        return Outcome(True, f"driven by {mine}")

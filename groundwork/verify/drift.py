"""How a check states what differs between declared and live state.

Checks in tests/infra compare values through `Expect`; every difference is
kept (not only the first) and recorded as junit properties, so `verify` can
print a per-node drift table: node, check, what, declared, live.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

PROP_NODE = "node"
PROP_CHECK = "check"
PROP_DRIFT = "drift"

# A check that concerns the whole cluster, not one node (e.g. "exactly one
# node holds the VIP") is reported under this pseudo-node.
CLUSTER = "(cluster)"


@dataclass(frozen=True)
class Drift:
    what: str
    declared: str
    live: str

    def __str__(self) -> str:
        return f"{self.what}: declared {self.declared}, live {self.live}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "(absent)"
    return json.dumps(value, sort_keys=True, default=str)


class Expect:
    """Collects declared-vs-live differences for one check on one node."""

    def __init__(self, node: str, check: str, record: Callable[[str, object], None]) -> None:
        self.node = node
        self.check = check
        self._record = record
        self.drifts: list[Drift] = []
        record(PROP_NODE, node)
        record(PROP_CHECK, check)

    def equal(self, what: str, declared: Any, live: Any) -> bool:
        if declared == live:
            return True
        self.differs(what, declared, live)
        return False

    def true(self, what: str, ok: bool, declared: Any, live: Any) -> bool:
        """Record a difference when `ok` is false (for comparisons other than ==)."""
        if not ok:
            self.differs(what, declared, live)
        return ok

    def differs(self, what: str, declared: Any, live: Any) -> None:
        self.drifts.append(Drift(what, _text(declared), _text(live)))

    def done(self) -> None:
        """Fail the check, naming the node and every difference."""
        if not self.drifts:
            return
        self._record(PROP_DRIFT, json.dumps([asdict(d) for d in self.drifts]))
        lines = "\n".join(f"  - {d}" for d in self.drifts)
        raise AssertionError(
            f"{self.node}: {self.check}: {len(self.drifts)} difference(s)\n{lines}"
        )


def parse_drift(value: str) -> list[Drift]:
    """The drift property back into Drift values (bad input gives [])."""
    try:
        items = json.loads(value)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        Drift(str(i.get("what", "")), str(i.get("declared", "")), str(i.get("live", "")))
        for i in items
        if isinstance(i, dict)
    ]

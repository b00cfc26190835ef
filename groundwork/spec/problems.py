"""Validation problems: each names the config path it is about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    path: str  # e.g. "cluster.network.podCidr"
    message: str
    # The stack file's line the path is on, when the value came from a file
    # (parse_cluster alone, as Pulumi calls it, has no lines).
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.path}: {self.message}{where}"


class SpecError(Exception):
    """A stack declaration is invalid; `problems` lists every error at once."""

    def __init__(self, problems: Sequence[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__("\n".join(str(p) for p in self.problems))


def path_of(loc: Sequence[str | int], root: str = "cluster") -> str:
    """Render a location tuple as a config path: ("nodes", 2, "address") ->
    "cluster.nodes[2].address"."""
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out

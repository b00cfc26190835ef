"""How the long steps report what they are doing: one line of text at a time.

The CLI passes a function that prints (or feeds a live display); library
callers, tests and benchmarks take `silent`.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def silent(message: str) -> None:
    """Progress that reports nothing."""

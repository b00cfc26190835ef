"""The one error type the lab raises: its message says what to do next."""

from __future__ import annotations


class LabError(Exception):
    """A lab operation failed; str() is a one-line message naming the next step."""

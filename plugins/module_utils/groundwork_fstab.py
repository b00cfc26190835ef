"""/etc/fstab's swap entries, for groundwork_probe (does fstab turn swap on at
boot?) and groundwork_kernel_settings (comment those entries out), so both
read the file the same way."""

from __future__ import annotations

import re

FSTAB = "/etc/fstab"
# An uncommented line whose type (third field) is swap.
SWAP_LINE = re.compile(r"^([^#\s]\S*\s+\S+\s+swap\s.*)$", re.MULTILINE)


def enables_swap(text):
    """Whether fstab text has an uncommented swap entry (pure)."""
    return SWAP_LINE.search(text) is not None


def comment_swap(text):
    """fstab text with every swap entry commented out (pure)."""
    return SWAP_LINE.sub(r"# \1", text)

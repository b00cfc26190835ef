"""Running host commands: argument lists only, errors turned into LabError."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from groundwork.lab.errors import LabError


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    check: bool = True,
    timeout: float | None = 600,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv and capture its output; on failure raise LabError with its stderr."""
    try:
        result = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            cwd=cwd,
        )
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]} is not installed: install it and retry") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{' '.join(argv[:3])} timed out after {timeout:.0f} s") from exc
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(argv[:4])} failed: {last_line(result.stderr or result.stdout)}")
    return result


def last_line(text: str) -> str:
    """The last non-empty line of a command's output (usually the error itself)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"

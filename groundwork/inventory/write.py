"""Write a rendered inventory to inventories/<stack>/ (beside the stacks folder),
touching only changed files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from groundwork.inventory.render import RenderedInventory
from groundwork.paths import inventories_dir


def inventory_dir(stack: str, base: Path | None = None) -> Path:
    return (base or inventories_dir()) / stack


def unchanged(path: Path, text: str) -> bool:
    """Whether the file at `path` already holds exactly `text`."""
    return path.is_file() and path.read_bytes() == text.encode()


def write_inventory(directory: Path, rendered: RenderedInventory) -> list[str]:
    """Write each file whose bytes differ (atomically); return the relative paths written."""
    written: list[str] = []
    for relative, text in rendered.files().items():
        path = directory / relative
        if unchanged(path, text):
            continue
        data = text.encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(relative)
    return written

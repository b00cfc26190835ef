"""What every addon module shares: an object is a plain dict, as the
templates render it (groundwork.manifests.templating)."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

"""YAML through libyaml where PyYAML has it: the addons' upstream bundles
(the Gateway API CRDs alone are 0.7 MB) are parsed and dumped on every `up`,
and libyaml does that about 8x faster than PyYAML's pure-Python code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

try:
    from yaml import CSafeDumper as SafeDumper
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeDumper, SafeLoader  # type: ignore[assignment]

__all__ = ["SafeDumper", "SafeLoader", "dump_all", "load", "load_all"]


def load(text: str) -> Any:
    """One document, as yaml.safe_load reads it."""
    return yaml.load(text, Loader=SafeLoader)


def load_all(text: str) -> list[Any]:
    """Every document of a stream, as yaml.safe_load_all reads them."""
    return list(yaml.load_all(text, Loader=SafeLoader))


def dump_all(documents: Iterable[Any]) -> str:
    """Documents in their given key order, as yaml.safe_dump_all writes them."""
    return yaml.dump_all(documents, Dumper=SafeDumper, sort_keys=False)

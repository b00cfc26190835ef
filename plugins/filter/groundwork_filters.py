"""Filters the roles use to turn a stack's mappings into groundwork_files entries.

Kept in Python rather than as Jinja loops inside YAML: each takes the role's
variables and returns plain data, and is unit-tested.
"""

from __future__ import annotations

from typing import Any


def registry_mirror_files(mirrors: dict[str, str], certs_dir: str) -> list[dict[str, Any]]:
    """One containerd hosts.toml per mirrored registry (certs.d/<registry>/hosts.toml)."""
    return [
        {
            "template": "hosts.toml.j2",
            "dest": f"{certs_dir}/{registry}/hosts.toml",
            "mode": "0644",
            "vars": {"registry": registry, "mirror": mirror},
        }
        for registry, mirror in sorted(mirrors.items())
    ]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"registry_mirror_files": registry_mirror_files}

"""Filters the roles use: a stack's mappings turned into groundwork_files
entries, and what an etcd member list says about one member.

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


def etcd_member_has_run(member_list: dict[str, Any], name: str) -> bool:
    """Whether `etcdctl member list -w json` shows a member `name` that has
    run: one that started publishes its client URLs, and the cluster keeps
    them after it stops. A member of the initial cluster that has not started
    yet is listed with its name but without client URLs (the others of a new
    cluster may form the quorum before it starts); one added with `member
    add` has neither until it starts."""
    return any(
        member.get("name") == name and member.get("clientURLs")
        for member in member_list.get("members") or []
    )


def release_directories(releases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One groundwork_files directory entry per release's versioned directory."""
    return [{"path": r["directory"], "mode": "0755"} for _, r in sorted(releases.items())]


def missing_releases(releases: dict[str, dict[str, Any]], present: dict[str, bool]) -> list[str]:
    """The releases whose check file the probe did not find (`present`: path ->
    exists), in name order."""
    return [name for name, r in sorted(releases.items()) if not present.get(r["check"], False)]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "registry_mirror_files": registry_mirror_files,
            "etcd_member_has_run": etcd_member_has_run,
            "release_directories": release_directories,
            "missing_releases": missing_releases,
        }

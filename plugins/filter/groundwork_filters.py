"""Filters the roles use: a stack's mappings turned into groundwork_files
entries, what an etcd member list says about one member, and which units a
run's changed files restart.

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


def binary_links(
    binaries: dict[str, dict[str, Any]], names: list[str], bin_dir: str
) -> list[dict[str, Any]]:
    """One groundwork_files link per named binary: bin_dir/<name> -> its
    versioned file (`path`, groundwork/plan/kube_config_vars.py)."""
    return [{"src": binaries[name]["path"], "dest": f"{bin_dir}/{name}"} for name in names]


def binary_directories(
    binaries: dict[str, dict[str, Any]], names: list[str]
) -> list[dict[str, Any]]:
    """The groundwork_files directory entries holding the named binaries' files."""
    paths = sorted({binaries[name]["path"].rsplit("/", 1)[0] for name in names})
    return [{"path": path, "mode": "0755"} for path in paths]


def binary_paths(binaries: dict[str, dict[str, Any]], names: list[str]) -> list[str]:
    """The versioned files of the named binaries the inventory pins, for the
    probe; one it does not pin is missing, and refused where it would be fetched."""
    return [binaries[name]["path"] for name in names if "path" in binaries.get(name, {})]


def missing_binaries(
    binaries: dict[str, dict[str, Any]], names: list[str], present: dict[str, bool]
) -> list[str]:
    """The named binaries whose versioned file the probe did not find (or that
    the inventory does not pin at all)."""
    return [
        name for name in names if not present.get(binaries.get(name, {}).get("path", ""), False)
    ]


def kubeconfig_files(kubeconfigs: list[dict[str, Any]], directory: str) -> list[dict[str, Any]]:
    """One groundwork_files entry per kubeconfig (directory/<name>.conf, 0600),
    rendered from kubeconfig.j2 with the entry as `kubeconfig`."""
    return [
        {
            "template": "kubeconfig.j2",
            "dest": f"{directory}/{entry['name']}.conf",
            "mode": "0600",
            "vars": {"kubeconfig": entry},
        }
        for entry in kubeconfigs
    ]


def units_to_restart(
    changed: list[str], triggers: dict[str, list[str]], units: dict[str, dict[str, Any]]
) -> list[str]:
    """The units that ran before this run (`units`: the probe's name ->
    {active, enabled}) and read a path this run changed (`triggers`: unit ->
    the paths it reads, where one ending in / stands for everything under
    it), in the order of `triggers`. A unit started for the first time in
    this run needs no restart."""

    def reads(paths: list[str], path: str) -> bool:
        return any(path == p or (p.endswith("/") and path.startswith(p)) for p in paths)

    return [
        unit
        for unit, paths in triggers.items()
        if units.get(unit, {}).get("active") and any(reads(paths, path) for path in changed)
    ]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "registry_mirror_files": registry_mirror_files,
            "etcd_member_has_run": etcd_member_has_run,
            "release_directories": release_directories,
            "missing_releases": missing_releases,
            "binary_links": binary_links,
            "binary_directories": binary_directories,
            "binary_paths": binary_paths,
            "missing_binaries": missing_binaries,
            "kubeconfig_files": kubeconfig_files,
            "units_to_restart": units_to_restart,
        }

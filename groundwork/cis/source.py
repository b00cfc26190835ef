"""kube-bench's benchmark definitions, read from its pinned Go module, and
the files `groundwork cis` copies to a node.

Nothing of upstream's is copied into this repository: cfg/config.yaml and
the benchmark's folder are read from Go's module cache at the version
components/kube-bench/go.sum pins (downloaded through the module proxy when
missing), Groundwork's override laid over the config and its adaptations
applied to the checks as they are read.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from groundwork.build import BY_COMPONENT, BuildError, Built
from groundwork.build.recipes import ModuleInfo
from groundwork.build.run import go_env, module_info
from groundwork.cis.benchmark import (
    CLUSTER_TARGETS,
    CONTROL_PLANE_TARGETS,
    ETCD_TARGETS,
    KUBELET_TARGETS,
    BenchmarkError,
    InstallPaths,
    adapt_controls,
    adaptations,
    benchmark_for,
    install_paths,
    merge,
    override_config,
)
from groundwork.paths import data_dir

COMPONENT = "kube-bench"
TARGETS = (*CONTROL_PLANE_TARGETS, *ETCD_TARGETS, *KUBELET_TARGETS, *CLUSTER_TARGETS)
ROLES = ("control_plane", "node", "etcd")


class _Loader(yaml.SafeLoader):
    """YAML as kube-bench's Go reads it where it matters here: a check's id
    (2.1, 1.10) stays the text it is, never a float."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a SafeLoader


def dump_yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, width=1_000_000)


@dataclass(frozen=True)
class NodeFiles:
    """What a node gets: the cfg folder kube-bench reads (name -> text)."""

    benchmark: str
    mapped_from: str
    cfg: dict[str, str]
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # target -> check ids


def role_defaults(root: Path | None = None) -> dict[str, dict[str, Any]]:
    base = (root or data_dir()) / "roles"
    return {
        role: yaml.safe_load((base / role / "defaults" / "main.yml").read_text()) or {}
        for role in ROLES
    }


def check_ids(controls: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(check.get("id"))
        for group in controls.get("groups") or []
        for check in group.get("checks") or []
    )


def node_files(cfg_dir: Path, kubernetes: str, paths: InstallPaths) -> NodeFiles:
    """The cfg folder for this install, from kube-bench's cfg/ (pure but for
    reading it): config.yaml with Groundwork's override, and the benchmark's
    target files, adapted where ADAPTATIONS says."""
    upstream = load_yaml((cfg_dir / "config.yaml").read_text())
    benchmark, mapped_from = benchmark_for(upstream.get("version_mapping") or {}, kubernetes)
    folder = cfg_dir / benchmark
    cfg = {"config.yaml": dump_yaml(merge(upstream, override_config(paths)))}
    version_config = folder / "config.yaml"
    if version_config.exists():
        cfg[f"{benchmark}/config.yaml"] = version_config.read_text()
    changes = adaptations(paths)
    checks: dict[str, tuple[str, ...]] = {}
    for target in TARGETS:
        source = folder / f"{target}.yaml"
        if not source.exists():
            raise BenchmarkError(f"kube-bench's {benchmark} has no {target} checks ({source})")
        text = source.read_text()
        controls = load_yaml(text)
        ids = check_ids(controls)
        checks[target] = ids
        if any(i in changes for i in ids):
            text = dump_yaml(adapt_controls(controls, changes))
        cfg[f"{benchmark}/{target}.yaml"] = text
    return NodeFiles(benchmark, mapped_from, cfg, checks)


def pinned_module() -> ModuleInfo:
    """kube-bench's module in Go's module cache (fetched when missing)."""
    recipe = BY_COMPONENT[COMPONENT]
    try:
        return module_info(recipe, go_env())
    except (BuildError, OSError) as err:
        raise BuildError(
            f"kube-bench's benchmark definitions are read from {recipe.module} in Go's module "
            f"cache at the version components/{COMPONENT}/go.sum pins: run `groundwork build "
            f"{COMPONENT}` where the Go module proxy is reachable\n{err}"
        ) from None


def for_install(kubernetes: str) -> NodeFiles:
    """The node files for this checkout's roles and a Kubernetes release."""
    return node_files(pinned_module().dir / "cfg", kubernetes, install_paths(role_defaults()))


def tarball(built: Built, files: NodeFiles) -> bytes:
    """kube-bench and its cfg/ as one gzipped tar, streamed to each node."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        tar.add(built.path(COMPONENT), arcname=COMPONENT, filter=_root_owned)
        for name, text in sorted(files.cfg.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"cfg/{name}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = 0o755
    return info

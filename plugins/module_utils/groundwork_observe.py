"""What a node looked like to Groundwork's modules, as one digest.

groundwork_probe returns the digest of the facts it read, groundwork_files
the digest of the state of the paths it manages (type, owner, group, mode,
the sha256 of each file's content, each link's target, each block's lines).
`groundwork up` keeps them from a run that changed nothing; the next `up`
computes them again on each node with this same code in one SSH call
(groundwork/converged.py) and runs the roles only where one differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat


def digest(value):
    """sha256 of the value's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _stat(path):
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return {
        "type": stat.S_IFMT(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "mode": stat.S_IMODE(st.st_mode),
    }


def _sha256(path):
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha.update(chunk)
    except OSError:
        return None
    return sha.hexdigest()


def _link(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def _block(path, marker):
    """The lines between `# BEGIN marker` and `# END marker`, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    begin, end = f"# BEGIN {marker}", f"# END {marker}"
    if begin not in lines:
        return None
    start = lines.index(begin) + 1
    stop = lines.index(end, start) if end in lines[start:] else len(lines)
    return lines[start:stop]


def files_state(params):
    """The state of every path a groundwork_files call manages (its
    directories, links, files and blocks parameters; contents not needed)."""
    state = []
    for entry in params.get("directories") or []:
        state.append(["directory", entry["path"], _stat(entry["path"])])
    for entry in params.get("links") or []:
        state.append(["link", entry["dest"], _stat(entry["dest"]), _link(entry["dest"])])
    for entry in params.get("files") or []:
        found = _stat(entry["dest"])
        content = _sha256(entry["dest"]) if found and found["type"] == stat.S_IFREG else None
        state.append(["file", entry["dest"], found, content])
    for entry in params.get("blocks") or []:
        state.append(
            ["block", entry["path"], entry["marker"], _block(entry["path"], entry["marker"])]
        )
    return state

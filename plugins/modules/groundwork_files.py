#!/usr/bin/python
"""Converge a set of directories, symlinks and files on a node in one call.

The roles used to spend one task per file (template, copy, file); on a
no-change run each task costs a round trip per host, which made a no-change
`up` take a minute. This module takes everything a role writes at once: the
`groundwork_files` action plugin (plugins/action) renders templates and reads
controller files, then this module compares and writes only what differs.

Files are written atomically (a temporary file in the destination directory,
then rename), after an optional validate command has accepted the temporary
file. File contents are marked no_log: private keys travel in them, and must
not appear in logs, job events or process arguments.

For Ansible's --diff, the action plugin flags the entries whose content may
be shown (`diff: true`: never a secret one); for each of them that changes,
the content before and after comes back base64-encoded in `diffs`, so the
no_log masking of file contents cannot garble it, and the action plugin
turns it into Ansible's diff.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: groundwork_files
short_description: Converge directories, symlinks and files on a node in one call
description:
  - Ensures each listed directory exists with its owner, group and mode; each symlink points at
    its target; each file has exactly its content, owner, group and mode.
  - Called by the groundwork_files action plugin, which renders C(template) entries and reads
    C(src) entries on the controller into C(content).
  - Returns the paths it changed, so handlers and later tasks can act on a specific file.
options:
  directories:
    description: Directories, created with parents (missing parents are root-owned 0755).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, required: true}
  links:
    description: Symbolic links.
    type: list
    elements: dict
    default: []
    suboptions:
      src: {description: What the link points at., type: path, required: true}
      dest: {description: The link itself., type: path, required: true}
      force:
        description: Replace a regular file or a link to elsewhere at dest; a real directory is never replaced.
        type: bool
        default: true
  files:
    description: Files with their full content.
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: Absolute path., type: path, required: true}
      content: {description: The whole file (text)., type: str, required: true, no_log: true}
      owner: {description: Owner name., type: str, default: root}
      group: {description: Group name., type: str, default: root}
      mode: {description: Octal mode as a string., type: str, required: true}
      validate:
        description: Command run on the new content before it is installed; C(%s) is its path.
        type: str
      diff:
        description: Return the content before and after when it changes (never for a secret file).
        type: bool
        default: false
  blocks:
    description:
      - Blocks of lines this node's roles own inside a file others write too (C(/etc/hosts)),
        between C(# BEGIN marker) and C(# END marker) lines; the rest of the file is kept.
      - A missing block is appended. When the file cannot be replaced by a rename (a file
        bind-mounted into a container, like C(/etc/hosts) under podman), it is rewritten in place.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path of the file (created 0644 root-owned if missing)., type: path, required: true}
      marker: {description: Text after C(# BEGIN) and C(# END)., type: str, required: true}
      content: {description: The lines between the markers., type: str, required: true}
      diff:
        description: Return the file's text before and after when the block changes.
        type: bool
        default: false
author: Groundwork
"""

RETURN = r"""
changed_paths:
  description: Every path created or modified, in the order given (directories, links, files, blocks).
  type: list
  elements: str
  returned: always
diffs:
  description:
    - For each changed entry with C(diff), its path and its content before and after (base64);
      the action plugin turns them into Ansible's diff.
  type: list
  elements: dict
  returned: always
observed:
  description:
    - sha256 of the state of every managed path after the call (type, owner, group, mode,
      content digest, link target, block lines), from module_utils/groundwork_observe.py.
  type: str
  returned: always
"""

import base64
import contextlib
import errno
import grp
import os
import pwd
import shlex
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.groundwork_observe import digest, files_state


def _ids(module, owner, group):
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        module.fail_json(msg=f"no user {owner!r} on this node")
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        module.fail_json(msg=f"no group {group!r} on this node")
    return uid, gid


def _mode(module, text, where):
    try:
        return int(str(text), 8)
    except ValueError:
        module.fail_json(msg=f"{where}: mode {text!r} is not octal (write it as a quoted string)")


def _attrs_differ(st, uid, gid, mode):
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (uid, gid, mode)


def _make_parents(path, check_mode):
    """Create missing parent directories root-owned 0755; True when any was missing."""
    parent = os.path.dirname(path)
    if os.path.isdir(parent):
        return False
    if not check_mode:
        os.makedirs(parent, mode=0o755, exist_ok=True)
    return True


def converge_directory(module, entry):
    path = entry["path"]
    uid, gid = _ids(module, entry["owner"], entry["group"])
    mode = _mode(module, entry["mode"], path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not module.check_mode:
            os.makedirs(path, mode=0o755, exist_ok=True)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    if not stat.S_ISDIR(st.st_mode):
        module.fail_json(msg=f"{path} exists and is not a directory")
    if _attrs_differ(st, uid, gid, mode):
        if not module.check_mode:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True
    return False


def converge_link(module, entry):
    src, dest = entry["src"], entry["dest"]
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISLNK(st.st_mode) and os.readlink(dest) == src:
            return False
        if stat.S_ISDIR(st.st_mode):
            module.fail_json(
                msg=f"{dest} is a real directory; refusing to replace it with a link to {src}"
            )
        if not entry["force"]:
            module.fail_json(msg=f"{dest} exists and is not a link to {src} (force is off)")
    if module.check_mode:
        return True
    _make_parents(dest, False)
    # A new link under a temporary name, renamed over dest: never a moment without it.
    tmp = f"{dest}.groundwork-tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(src, tmp)
    os.replace(tmp, dest)
    return True


def _validate(module, command, path, dest):
    argv = [part.replace("%s", path) for part in shlex.split(command)]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(
            msg=f"{dest}: the new content was rejected by `{command}`: {(err or out).strip()}"
        )


def diff_record(path, before, after):
    """One changed entry's content before and after, base64-encoded (see the module's doc)."""
    return {
        "path": path,
        "before": base64.b64encode(before).decode("ascii"),
        "after": base64.b64encode(after).decode("ascii"),
    }


def converge_file(module, entry, diffs):
    dest = entry["dest"]
    content = entry["content"].encode("utf-8")
    uid, gid = _ids(module, entry["owner"], entry["group"])
    mode = _mode(module, entry["mode"], dest)
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        st = None
    before = b""
    if st is not None and stat.S_ISREG(st.st_mode):
        with open(dest, "rb") as current:
            before = current.read()
        if before == content:
            if not _attrs_differ(st, uid, gid, mode):
                return False
            if not module.check_mode:
                os.chown(dest, uid, gid)
                os.chmod(dest, mode)
            return True
    elif st is not None and stat.S_ISDIR(st.st_mode):
        module.fail_json(msg=f"{dest} is a directory, not a file")
    if entry["diff"]:
        diffs.append(diff_record(dest, before, content))
    if module.check_mode:
        return True
    _make_parents(dest, False)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".groundwork-")
    try:
        # Owner and mode before content: a key is never readable by others, not even briefly.
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as new:
            new.write(content)
            new.flush()
            os.fsync(new.fileno())
        if entry.get("validate"):
            _validate(module, entry["validate"], tmp, dest)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise
        raise
    return True


def with_block(text, marker, content):
    """text with the lines between `# BEGIN marker` and `# END marker` set to content."""
    begin, end = f"# BEGIN {marker}", f"# END {marker}"
    body = content if not content or content.endswith("\n") else content + "\n"
    block = f"{begin}\n{body}{end}\n"
    lines = text.splitlines(keepends=True)
    stripped = [line.rstrip("\n") for line in lines]
    if begin in stripped and end in stripped[stripped.index(begin) :]:
        first = stripped.index(begin)
        last = stripped.index(end, first)
        return "".join(lines[:first]) + block + "".join(lines[last + 1 :])
    if text and not text.endswith("\n"):
        text += "\n"
    return text + block


def converge_block(module, entry, diffs):
    path = entry["path"]
    try:
        with open(path, encoding="utf-8") as current:
            text = current.read()
    except FileNotFoundError:
        text = None
    wanted = with_block(text or "", entry["marker"], entry["content"])
    if wanted == text:
        return False
    if entry["diff"]:
        diffs.append(diff_record(path, (text or "").encode("utf-8"), wanted.encode("utf-8")))
    if module.check_mode:
        return True
    if text is None:
        _make_parents(path, False)
    st = os.stat(path) if text is not None else None
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".groundwork-")
    try:
        os.fchown(fd, st.st_uid if st else 0, st.st_gid if st else 0)
        os.fchmod(fd, stat.S_IMODE(st.st_mode) if st else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as new:
            new.write(wanted)
            new.flush()
            os.fsync(new.fileno())
        try:
            os.replace(tmp, path)
            return True
        except OSError as err:
            # A bind-mounted file (a container's /etc/hosts) cannot be renamed over.
            if err.errno not in (errno.EBUSY, errno.EXDEV):
                raise
        with open(path, "w", encoding="utf-8") as in_place:
            in_place.write(wanted)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return True


def _entries(**options):
    """Argument spec of a list of entries, each a dict with these options."""
    return {"type": "list", "elements": "dict", "default": [], "options": options}


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": _entries(
                path={"type": "path", "required": True},
                owner={"type": "str", "default": "root"},
                group={"type": "str", "default": "root"},
                mode={"type": "str", "required": True},
            ),
            "links": _entries(
                src={"type": "path", "required": True},
                dest={"type": "path", "required": True},
                force={"type": "bool", "default": True},
            ),
            "files": _entries(
                dest={"type": "path", "required": True},
                content={"type": "str", "required": True, "no_log": True},
                owner={"type": "str", "default": "root"},
                group={"type": "str", "default": "root"},
                mode={"type": "str", "required": True},
                validate={"type": "str"},
                diff={"type": "bool", "default": False},
            ),
            "blocks": _entries(
                path={"type": "path", "required": True},
                marker={"type": "str", "required": True},
                content={"type": "str", "required": True},
                diff={"type": "bool", "default": False},
            ),
        },
        supports_check_mode=True,
    )
    changed_paths = []
    diffs = []
    for entry in module.params["directories"]:
        if converge_directory(module, entry):
            changed_paths.append(entry["path"])
    for entry in module.params["links"]:
        if converge_link(module, entry):
            changed_paths.append(entry["dest"])
    for entry in module.params["files"]:
        if converge_file(module, entry, diffs):
            changed_paths.append(entry["dest"])
    for entry in module.params["blocks"]:
        if converge_block(module, entry, diffs):
            changed_paths.append(entry["path"])
    # The state the paths are in now, as one digest: `up` leaves a node alone
    # while every digest is as in the last run that changed nothing.
    module.exit_json(
        changed=bool(changed_paths),
        changed_paths=changed_paths,
        diffs=diffs,
        observed=digest(files_state(module.params)),
    )


if __name__ == "__main__":
    main()

"""Controller side of groundwork_files: render templates, read files, one module call.

Each entry of `files` names its content one of three ways:
  template: a Jinja template found like the template module finds it (the role's templates/)
  src:      a file on the controller (absolute, or found in the role's files/)
  content:  the text itself
and may carry `enabled: false` to leave it out (a file a stack does not need).
`blocks` (lines a role owns inside a shared file, like /etc/hosts) name their
content the same ways; `directories` and `links` take `enabled` too.
Templates see the task's variables (`item` too, in a loop) and the entry's own
`vars`. An entry may be a list of entries, spliced in (one file per registry
mirror, built by the groundwork filters in plugins/filter).
Everything is sent to the node in one module call; see plugins/modules/groundwork_files.py.

Under --diff, each changed file and block is shown as the template module
shows it, except secret ones: a file whose mode lets no one but its owner
read it (0600, 0400 ...), an entry marked `secret: true`, and every entry of
a no_log task never show their content.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

try:  # the template module's own variables (ansible_managed and friends)
    from ansible._internal._templating._template_vars import generate_ansible_template_vars
except ImportError:  # pragma: no cover - older ansible-core
    generate_ansible_template_vars = None

SOURCE_KEYS = ("template", "src", "content")


def is_secret(entry: dict[str, Any]) -> bool:
    """Content never shown: marked secret, or a file only its owner may read.
    A mode that is not octal counts as secret (the module refuses it anyway)."""
    if boolean(entry.get("secret", False), strict=True):
        return True
    if "mode" not in entry:  # a block: the shared file keeps its own mode
        return False
    try:
        return int(str(entry["mode"]), 8) & 0o044 == 0
    except ValueError:
        return True


def ansible_diffs(records: list[dict[str, str]]) -> list[dict[str, str]]:
    """The module's base64 records of changed entries as Ansible's diff (one per path)."""
    return [
        {
            "before_header": record["path"],
            "after_header": record["path"],
            "before": _text(record["before"]),
            "after": _text(record["after"]),
        }
        for record in records
    ]


def _text(encoded: str) -> str:
    return base64.b64decode(encoded).decode("utf-8", errors="replace")


def _enabled(entries: list[Any] | None) -> list[dict[str, Any]]:
    """The entries a stack needs: `enabled` (default true) decides, and never reaches the node.

    An entry may itself be a list of entries (a variable built by a filter,
    one file per registry mirror): it is spliced in.
    """
    flat: list[dict[str, Any]] = []
    for entry in entries or []:
        flat.extend(entry if isinstance(entry, list) else [entry])
    return [
        {key: value for key, value in entry.items() if key != "enabled"}
        for entry in flat
        if boolean(entry.get("enabled", True), strict=True)
    ]


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("directories", "links", "files", "blocks"))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        show_diff = bool(self._task.diff) and not self._task.no_log
        try:
            module_args = {
                "directories": _enabled(args.get("directories")),
                "links": _enabled(args.get("links")),
                "files": [
                    self._resolve(e, task_vars, show_diff=show_diff)
                    for e in _enabled(args.get("files"))
                ],
                "blocks": [
                    self._resolve(e, task_vars, "path", show_diff=show_diff)
                    for e in _enabled(args.get("blocks"))
                ],
            }
        except (AnsibleError, OSError, TypeError) as err:
            raise AnsibleActionFail(f"groundwork_files: {err}") from err
        result.update(
            self._execute_module(
                module_name="groundwork_files", module_args=module_args, task_vars=task_vars
            )
        )
        diffs = ansible_diffs(result.pop("diffs", None) or [])
        if diffs:
            result["diff"] = diffs
        return result

    def _resolve(
        self,
        entry: dict[str, Any],
        task_vars: dict[str, Any],
        target: str = "dest",
        *,
        show_diff: bool = False,
    ) -> dict[str, Any]:
        sources = [key for key in SOURCE_KEYS if key in entry]
        dest = entry.get(target, "?")
        if len(sources) != 1:
            raise AnsibleActionFail(f"{dest}: give exactly one of {', '.join(SOURCE_KEYS)}")
        source = sources[0]
        if source == "template":
            variables = task_vars | dict(entry.get("vars") or {})
            content = self._render(str(entry["template"]), str(dest), variables)
        elif source == "src":
            path = str(entry["src"])
            if not os.path.isabs(path):
                path = self._find_needle("files", path)
            with open(path, encoding="utf-8") as handle:
                content = handle.read()
        else:
            content = str(entry["content"])
        resolved = {k: v for k, v in entry.items() if k not in (*SOURCE_KEYS, "vars", "secret")}
        resolved["content"] = content
        resolved["diff"] = show_diff and not is_secret(entry)
        return resolved

    def _render(self, name: str, dest: str, task_vars: dict[str, Any]) -> str:
        source = self._find_needle("templates", name)
        template = trust_as_template(self._loader.get_text_file_contents(source))
        searchpath = list(task_vars.get("ansible_search_path", []))
        searchpath.extend([self._loader._basedir, os.path.dirname(source)])
        searchpath = [p for base in searchpath for p in (os.path.join(base, "templates"), base)]
        variables = dict(task_vars)
        if generate_ansible_template_vars is not None:
            variables.update(
                generate_ansible_template_vars(
                    path=name,
                    fullpath=source,
                    dest_path=dest,
                    include_ansible_managed="ansible_managed" not in variables,
                )
            )
        templar = self._templar.copy_with_new_env(
            searchpath=searchpath, available_variables=variables
        )
        # The template module's defaults: trim_blocks on, lstrip_blocks off.
        rendered = templar.template(
            template,
            escape_backslashes=False,
            overrides={"trim_blocks": True, "lstrip_blocks": False},
        )
        return "" if rendered is None else str(rendered)

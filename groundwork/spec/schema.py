"""The JSON Schema of a stack file, generated from the model that validates it.

Editors use it for completion and inline errors (docs/stack.schema.json; a
stack file opts in with a `# yaml-language-server: $schema=...` first line).
It describes the file as Pulumi reads it: the cluster under
`config: groundwork:cluster`, beside the keys Pulumi itself writes. The
model stays the judge: `groundwork validate` checks what a schema cannot
(overlapping CIDRs, duplicate names, addresses outside the node subnet).
"""

from __future__ import annotations

import json
from typing import Any

from groundwork.spec.model import ClusterSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
CLUSTER_KEY = "groundwork:cluster"


def stack_file_schema() -> dict[str, Any]:
    """The whole stack file's schema (pure; the same model gives the same bytes)."""
    cluster = ClusterSpec.model_json_schema(by_alias=True, mode="validation")
    definitions = cluster.pop("$defs", {})
    definitions["ClusterSpec"] = cluster
    return {
        "$schema": DIALECT,
        "title": "Groundwork stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": {CLUSTER_KEY: {"$ref": "#/$defs/ClusterSpec"}},
                "required": [CLUSTER_KEY],
            },
            # Written by Pulumi's secrets providers, never by hand.
            "encryptionsalt": {"type": "string"},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "required": ["config"],
        "$defs": definitions,
    }


def render() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"

"""Small helpers that read live state on a node (shared by the checks)."""

from __future__ import annotations

import json
import re
from typing import Any

import _facts as facts

from groundwork.verify.drift import Expect


def service_state(host: Any, unit: str) -> tuple[str, str]:
    """(ActiveState, UnitFileState) of a systemd unit, in one round trip."""
    out = host.run(facts.unit(unit)).stdout
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return props.get("ActiveState", "") or "(unknown)", props.get("UnitFileState", "") or "(none)"


def check_service(host: Any, expect: Expect, unit: str) -> None:
    active, enabled = service_state(host, unit)
    expect.equal(f"{unit} active", "active", active)
    expect.equal(f"{unit} enabled", "enabled", enabled)


def tcp_connect(host: Any, address: str, port: int) -> str:
    """ "accepted", or why a TCP connection from the node to address:port was not."""
    out = host.run(facts.tcp_connect(address, port))
    if out.rc == 0:
        return "accepted"
    lines: list[str] = out.stdout.strip().splitlines()
    return lines[-1] if lines else "timed out" if out.rc == 124 else "failed"


def listening_ports(host: Any) -> set[tuple[str, int]]:
    """(local address, port) of every listening TCP socket."""
    out = host.run(facts.LISTENING).stdout
    found = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        addr, _, port = fields[3].rpartition(":")
        if port.isdigit():
            found.add((addr.strip("[]").split("%")[0], int(port)))
    return found


def version_in(text: str) -> str | None:
    m = re.search(r"\bv?(\d+\.\d+\.\d+)\b", text)
    return m.group(1) if m else None


def read_json(host: Any, path: str) -> Any:
    out = host.run(facts.cat(path))
    if out.rc != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return "(not JSON)"

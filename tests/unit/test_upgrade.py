"""Version-skew prechecks: check_upgrade, and playbooks/upgrade_prechecks.yml agreeing with it.

The playbook half runs the real precheck playbook with ansible-playbook on
this machine (connection local) against a stand-in kubectl that reports the
scenario's versions, and checks it passes exactly when check_upgrade finds
no problem, failing on the same rule (U1-U6) when it does not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from _local_ansible import ANSIBLE_PLAYBOOK, playbook_env

from groundwork import versions
from groundwork.plan.upgrade import RULES, check_upgrade, parse_version

ROOT = Path(__file__).resolve().parents[2]
PRECHECKS = ROOT / "playbooks" / "upgrade_prechecks.yml"


def rules_of(problems: list[str]) -> list[str]:
    return [p.split(":", 1)[0] for p in problems]


# --- check_upgrade -------------------------------------------------------------


def test_patch_and_next_minor_are_fine() -> None:
    kubelets = {"cp1": "v1.35.2", "w1": "v1.35.2"}
    assert check_upgrade("v1.35.2", kubelets, "1.35.3") == []
    assert check_upgrade("v1.35.2", kubelets, "1.36.4") == []
    assert check_upgrade("1.36.4", {"w1": "1.36.4"}, "v1.36.4") == []  # a re-run


def test_one_minor_at_a_time() -> None:
    assert rules_of(check_upgrade("v1.34.3", {}, "1.36.4")) == ["U5"]
    problems = check_upgrade("v1.34.3", {}, "1.36.4")
    assert "next: 1.35" in problems[0]


def test_no_downgrade() -> None:
    assert rules_of(check_upgrade("v1.36.4", {}, "1.36.3")) == ["U4"]
    assert rules_of(check_upgrade("v1.36.4", {}, "1.35.9")) == ["U4"]


def test_kubelet_never_newer_than_the_apiserver() -> None:
    problems = check_upgrade("v1.35.0", {"w1": "v1.35.0", "w2": "v1.36.0"}, "1.36.4")
    assert rules_of(problems) == ["U6"]
    assert "w2" in problems[0] and "newer than the apiserver" in problems[0]


def test_kubelet_at_most_three_minors_behind_the_target() -> None:
    assert check_upgrade("v1.36.0", {"w1": "v1.34.1"}, "1.37.0") == []  # 3 behind: allowed
    problems = check_upgrade("v1.37.0", {"w1": "v1.34.1"}, "1.38.0")
    assert "U6" in rules_of(problems)


def test_supported_minors_only() -> None:
    last = versions.KUBERNETES_MINORS[-1]
    major, minor = (int(x) for x in last.split("."))
    target = f"{major}.{minor + 1}.0"
    assert rules_of(check_upgrade(f"v{last}.2", {}, target)) == ["U2"]


def test_unknown_versions() -> None:
    assert rules_of(check_upgrade("v1.36.4", {}, "1.36")) == ["U1"]
    assert rules_of(check_upgrade("", {}, "1.36.4")) == ["U3"]
    assert rules_of(check_upgrade("v1.36.4", {"w1": "garbage"}, "1.36.4")) == ["U6"]


def test_every_problem_at_once() -> None:
    problems = check_upgrade("v1.34.0", {"w1": "v1.35.0", "w2": "v1.36.0"}, "1.36.4")
    assert rules_of(problems) == ["U5", "U6", "U6"]


def test_parse_version() -> None:
    assert parse_version("v1.36.4") == (1, 36, 4)
    assert parse_version("1.36.4-gke.100") == (1, 36, 4)
    assert parse_version("1.36") is None


# --- the playbook implements the same rules --------------------------------------


def test_playbook_names_every_rule() -> None:
    plays = yaml.safe_load(PRECHECKS.read_text())
    names = [task["name"] for play in plays for task in play.get("tasks", [])]
    ids = [m.group(1) for n in names if (m := re.match(r"^(U\d+) ", n))]
    assert ids == list(RULES)


@dataclass(frozen=True)
class Scenario:
    apiserver: str  # "" = the apiserver does not answer
    kubelets: dict[str, str]
    target: str


SCENARIOS = {
    "next-minor": Scenario("v1.35.2", {"cp1": "v1.35.2", "w1": "v1.35.1"}, "1.36.4"),
    "skips-a-minor": Scenario("v1.34.1", {"cp1": "v1.34.1"}, "1.36.4"),
    "downgrade": Scenario("v1.36.4", {"cp1": "v1.36.4"}, "1.35.1"),
    "kubelet-newer": Scenario("v1.35.0", {"cp1": "v1.35.0", "w1": "v1.36.0"}, "1.36.4"),
    "kubelet-too-old": Scenario("v1.36.0", {"cp1": "v1.36.0", "w1": "v1.33.5"}, "1.37.0"),
    "unsupported": Scenario("v1.37.2", {"cp1": "v1.37.2"}, "1.38.0"),
    "apiserver-down": Scenario("", {}, "1.36.4"),
    "not-a-version": Scenario("v1.36.4", {}, "1.36"),
}


def _fake_kubectl(directory: Path, scenario: Scenario) -> Path:
    """A kubectl that answers `get --raw=/version` and the node list from the scenario."""
    version = json.dumps({"gitVersion": scenario.apiserver})
    nodes = "".join(f"{name} {v}\n" for name, v in scenario.kubelets.items())
    script = directory / "kubectl"
    script.write_text(
        "#!/bin/sh\n"
        + ('echo "the server is not reachable" >&2; exit 1\n' if not scenario.apiserver else "")
        + 'case "$*" in\n'
        + f"  *--raw=/version*) printf '%s\\n' '{version}' ;;\n"
        # Only the jsonpath real kubectl turns into one line per node: a
        # newline escape doubled on its way through Jinja would print "\\n".
        + f"  *nodes*'{{\"\\n\"}}{{end}}'*) printf '%s' '{nodes}' ;;\n"
        + "  *) exit 2 ;;\n"
        + "esac\n"
    )
    script.chmod(0o755)
    return script


def _run_prechecks(directory: Path, scenario: Scenario) -> subprocess.CompletedProcess[str]:
    directory.mkdir()
    kubectl = _fake_kubectl(directory, scenario)
    inventory = directory / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "control_plane": {
                            "hosts": {
                                "cp1": {
                                    "ansible_connection": "local",
                                    "ansible_python_interpreter": sys.executable,
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    extra = {
        "upgrade_kubectl": [str(kubectl)],
        "gw_kubernetes_version": scenario.target,
        "gw_kubernetes_minors": list(versions.KUBERNETES_MINORS),
    }
    env = playbook_env(directory)
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), "-e", json.dumps(extra), str(PRECHECKS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not installed")
def test_playbook_prechecks_agree_with_check_upgrade(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=min(len(SCENARIOS), 2 * (os.cpu_count() or 1))) as pool:
        runs = {
            name: pool.submit(_run_prechecks, tmp_path / name, scenario)
            for name, scenario in SCENARIOS.items()
        }
        results = {name: future.result() for name, future in runs.items()}
    for name, scenario in SCENARIOS.items():
        result = results[name]
        problems = check_upgrade(scenario.apiserver, scenario.kubelets, scenario.target)
        output = result.stdout + result.stderr
        if not problems:
            assert result.returncode == 0, (name, output)
            continue
        assert result.returncode != 0, (name, output)
        # The playbook stops at its first failing assert: the first rule Python reports.
        failed = re.findall(r"\b(U\d): ", output)
        assert failed, (name, output)
        assert failed[0] == rules_of(problems)[0], (name, failed, problems)

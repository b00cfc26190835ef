"""The CLI door's addons apply (groundwork/phases/addons.py) through an
endpoint that takes no request yet: right after a first install the load
balancer may not have marked an apiserver up, and closes connections.

kubectl is stood in for by a shell script that answers as kubectl does,
from a list of answers per verb, and records every call.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from groundwork.phases import addons

EOF_WORDS = "Unable to connect to the server: EOF"


def fake_kubectl(tmp_path: Path, applies: list[int], readyz: list[int]) -> Path:
    """A kubectl whose n-th apply and n-th `get --raw=/readyz` exit with the
    listed codes (the last one repeats); a failure says what kubectl says of
    an endpoint that closed the connection."""
    calls = tmp_path / "calls"
    script = tmp_path / "kubectl"
    script.write_text(
        f"""#!/bin/sh
cat >/dev/null
case "$2" in apply) verb=apply; codes="{" ".join(map(str, applies))}";;
  get) verb=readyz; codes="{" ".join(map(str, readyz))}";; esac
echo "$verb" >>{calls}
n=$(grep -c "^$verb$" {calls})
code=$(echo $codes | tr ' ' '\\n' | sed -n "${{n}}p")
[ -n "$code" ] || code=$(echo $codes | tr ' ' '\\n' | tail -1)
[ "$code" = 0 ] && {{ echo ok; exit 0; }}
echo "{EOF_WORDS}" >&2
exit "$code"
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls").read_text().split()


OBJECTS: list[dict[str, object]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
]


def test_an_unreached_endpoint_is_waited_for_then_the_apply_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(addons, "kubectl", lambda: str(fake_kubectl(tmp_path, [1, 0], [1, 1, 0])))
    monkeypatch.setattr("groundwork.phases.addons.time.sleep", lambda _: None)
    said: list[str] = []
    out = addons.apply_once_reached(tmp_path / "kubeconfig", OBJECTS, said.append)
    assert out.strip() == "ok"
    assert calls(tmp_path) == ["apply", "readyz", "readyz", "readyz", "apply"]
    assert said == ["addons: waiting for the endpoint to answer /readyz"]


def test_an_endpoint_that_never_answers_is_the_error_with_kubectls_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(addons, "kubectl", lambda: str(fake_kubectl(tmp_path, [1], [1])))
    monkeypatch.setattr("groundwork.phases.addons.time.sleep", lambda _: None)
    monkeypatch.setattr(addons, "ENDPOINT_TIMEOUT", 0.0)
    with pytest.raises(addons.AddonError) as refused:
        addons.apply_once_reached(tmp_path / "kubeconfig", OBJECTS)
    assert str(refused.value) == f"the endpoint did not answer /readyz within 0 s: {EOF_WORDS}"
    assert calls(tmp_path) == ["apply", "readyz"]


def test_a_refused_object_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an endpoint that took no request is waited for: kubectl's refusal
    of an object is the answer."""
    script = fake_kubectl(tmp_path, [1], [0])
    script.write_text(script.read_text().replace(EOF_WORDS, "field not declared in schema"))
    monkeypatch.setattr(addons, "kubectl", lambda: str(script))
    with pytest.raises(addons.AddonError, match="field not declared in schema"):
        addons.apply_once_reached(tmp_path / "kubeconfig", OBJECTS)
    assert calls(tmp_path) == ["apply"]

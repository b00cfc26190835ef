"""`groundwork pulumi`: the stack's config copy, argv, and one front door per stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundwork import door
from groundwork.pulumi import workspace
from groundwork.pulumi.language_host import engine_address

REPO = "config:\n  groundwork:cluster:\n    name: lab\n"
SALT = "encryptionsalt: v1:abc=:v1:def:ghi=="


def test_the_config_copy_is_the_repository_file_with_this_machines_salt() -> None:
    assert workspace.merged_config(REPO, None) == REPO
    assert workspace.merged_config(REPO, f"{REPO}{SALT}\n") == f"{REPO}{SALT}\n"
    # An edit in the repository reaches the copy; the salt stays.
    edited = REPO.replace("lab", "lab2")
    assert workspace.merged_config(edited, f"{REPO}{SALT}\n") == f"{edited}{SALT}\n"
    # A salt someone committed is used once and never doubled.
    assert workspace.merged_config(f"{REPO}{SALT}\n", None).count("encryptionsalt") == 1


def test_the_subcommand_and_the_stack_are_found_among_flags() -> None:
    args = ["-C", "/x", "preview", "-s", "lab", "--diff"]
    assert workspace.subcommand(args) == "preview"
    assert workspace.stack_of(args) == "lab"
    assert workspace.stack_of(["up", "--stack=prod"]) == "prod"
    assert workspace.stack_of(["up"]) is None
    # An organisation's stack reference: the file and the state are the stack's.
    assert workspace.stack_name("acme/prod") == "prod"
    assert workspace.stack_name("acme/groundwork/prod") == "prod"
    assert workspace.stack_name("prod") == "prod"


def test_config_readers_get_the_copy_and_others_do_not() -> None:
    copy = Path("/state/lab/pulumi/Pulumi.lab.yaml")
    assert workspace.argv("lab", ["up", "-s", "lab"], copy)[-2:] == ["--config-file", str(copy)]
    assert "--config-file" not in workspace.argv("lab", ["stack", "output", "-s", "lab"], copy)
    own = ["preview", "-s", "lab", "--config-file", "/tmp/x.yaml"]
    assert workspace.argv("lab", own, copy) == ["pulumi", *own]


def test_the_environment_is_offline_with_the_stacks_backend_and_passphrase_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    env = workspace.environment("lab", {"PATH": "/usr/bin"}, [tmp_path / "bin"])
    assert env["PULUMI_BACKEND_URL"] == (tmp_path / "lab" / "pulumi").as_uri()
    passphrase = Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    assert passphrase.stat().st_mode & 0o777 == 0o600
    assert len(passphrase.read_text().strip()) >= 32
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PATH"].startswith(str(tmp_path / "bin"))
    # A team's own backend wins.
    shared = workspace.environment("lab", {"PULUMI_BACKEND_URL": "s3://bucket"}, [])
    assert shared["PULUMI_BACKEND_URL"] == "s3://bucket"


def test_one_stack_one_front_door(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path))
    door.claim("lab", "groundwork")
    door.claim("lab", "groundwork")  # the same door again: fine
    with pytest.raises(door.WrongDoor) as refused:
        door.check("lab", "pulumi")
    message = str(refused.value)
    assert "driven by `groundwork up --stack lab`" in message
    assert "groundwork destroy --stack lab" in message and "pulumi up -s lab" in message
    door.release("lab")
    door.claim("lab", "pulumi")
    assert door.holder("lab") is not None and door.holder("lab")[0] == "pulumi"  # type: ignore[index]


def test_the_language_host_reads_the_engine_address_after_its_flags() -> None:
    assert engine_address(["-root", "/p", "127.0.0.1:1234"]) == "127.0.0.1:1234"
    assert engine_address(["--tracing=file:/t", "127.0.0.1:9"]) == "127.0.0.1:9"
    assert engine_address([]) == ""

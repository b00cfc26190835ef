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


# Stands in for the Pulumi CLI: no stacks yet, and `stack init` salts the
# project's stacks/Pulumi.<stack>.yaml (Pulumi.yaml's stackConfigDir) as the
# real one does, in the folder it runs in.
FAKE_PULUMI = f"""#!/bin/sh
case "$1 $2" in
  "stack ls") echo "[]" ;;
  "stack init") mkdir -p stacks && printf '%s\\n' '{SALT}' >>"stacks/Pulumi.$3.yaml" ;;
esac
"""


@pytest.mark.parametrize("installed", [False, True], ids=["checkout", "installed"])
def test_stack_init_leaves_the_project_and_the_users_stack_file_as_they_were(
    installed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The salt `pulumi stack init` writes goes to the stack's config copy. In
    a checkout the project's stacks/ holds the user's file; installed, the
    project is the package's folder, and the user's stacks are elsewhere."""
    from groundwork import paths
    from groundwork.cli.pulumi import ensure_stack

    project = tmp_path / "project"
    project.mkdir()
    stacks = project / "stacks" if not installed else tmp_path / "repo" / "stacks"
    stacks.mkdir(parents=True)
    (stacks / "Pulumi.site.yaml").write_text(REPO)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setattr(paths, "data_dir", lambda: project)
    monkeypatch.setenv("GROUNDWORK_STACKS_DIR", str(stacks))
    monkeypatch.setenv("GROUNDWORK_STATE_DIR", str(tmp_path / "state"))
    ensure_stack("site", {"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert (stacks / "Pulumi.site.yaml").read_text() == REPO
    assert (project / "stacks").exists() is not installed  # nothing left in the package
    assert workspace.config_copy("site").read_text() == f"{REPO}{SALT}\n"

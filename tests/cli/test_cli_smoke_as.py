"""Smoke as the workload: `smoke_as` / `--smoke-as` stream with a token minted for the service
account while every other call keeps the operator's identity; a principal without the role
fails with PERMISSION_DENIED naming it, an operator who may not impersonate gets
IMPERSONATION_DENIED; apply waits out IAM propagation for the member it just granted; a stream
run as a principal proves its access check when the policy alone could not."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import OWNER, Cli

APP = "app@demo-ready.iam.gserviceaccount.com"
MEMBER = f"serviceAccount:{APP}"
MANIFEST = f"""version: 1
projects:
  - project_id: demo-ready
    principals: [{MEMBER}]
    smoke_as: {MEMBER}
    models:
      - model: gpt-oss-120b
        locations: [global]
"""
USER_BINDING = {"role": "roles/aiplatform.user", "members": [MEMBER]}


def world_with(emulator: Emulator, *bindings: dict[str, Any], **timing: float) -> None:
    world = emulator.get_world()
    world["service_accounts"] = [
        {"email": APP, "project": "demo-ready"},
        {"email": OWNER, "project": "demo-ready"},
    ]
    world["iam_policies"] = [{"resource": "projects/demo-ready", "bindings": list(bindings)}]
    world["timing"].update(timing)
    emulator.put_world(world)


def checks_of(stdout: str) -> dict[str, dict[str, Any]]:
    (project,) = json.loads(stdout)["projects"]
    return {c["name"]: c for c in project["checks"]}


def callers(emulator: Emulator, suffix: str) -> set[str]:
    return {e["principal"] for e in emulator.journal() if e["path"].endswith(suffix)}


def test_smoke_as_proves_the_model_for_that_identity(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    world_with(cli_env, USER_BINDING)
    result = cli("smoke", write_manifest(MANIFEST), "--format", "json")
    assert result.exit_code == 0, result.output
    smoke = checks_of(result.stdout)["smoke:gpt-oss-120b@global"]
    assert smoke["status"] == "ok" and smoke["metrics"]["run_as"] == MEMBER
    assert callers(cli_env, "/chat/completions") == {APP}
    assert callers(cli_env, ":generateAccessToken") == {OWNER}


def test_a_principal_without_the_role_fails_with_permission_denied_naming_it(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    world_with(cli_env)
    result = cli("smoke", write_manifest(MANIFEST), "--format", "json")
    assert result.exit_code == 1, result.output
    smoke = checks_of(result.stdout)["smoke:gpt-oss-120b@global"]
    assert smoke["status"] == "failed" and smoke["cause"] == "PERMISSION_DENIED"
    assert MEMBER in smoke["detail"] and f"--member={MEMBER}" in smoke["remedy"]
    assert "roles/aiplatform.user" in smoke["remedy"]


def test_an_operator_who_cannot_impersonate_gets_impersonation_denied(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str], monkeypatch: Any
) -> None:
    world_with(cli_env, USER_BINDING)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-viewer")
    result = cli("smoke", write_manifest(MANIFEST), "--format", "json")
    assert result.exit_code == 1, result.output
    smoke = checks_of(result.stdout)["smoke:gpt-oss-120b@global"]
    assert smoke["cause"] == "IMPERSONATION_DENIED"
    assert smoke["detail"].startswith("Project demo-ready: ")
    assert "roles/iam.serviceAccountTokenCreator" in smoke["remedy"] and APP in smoke["remedy"]
    assert "emulator-viewer" not in result.output
    assert not callers(cli_env, "/chat/completions")  # no stream without the account's token


def test_the_flag_overrides_the_manifest_and_must_be_a_service_account(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    world_with(cli_env)
    manifest = write_manifest(MANIFEST)
    result = cli("smoke", manifest, "--smoke-as", OWNER, "--format", "json")
    assert result.exit_code == 0, result.output
    assert callers(cli_env, "/chat/completions") == {OWNER}
    refused = cli("smoke", manifest, "--smoke-as", "user:me@example.com")
    assert refused.exit_code == 1 and "is not a service account" in refused.stderr
    both = cli("audit", manifest, "--no-smoke", "--smoke-as", APP)
    assert both.exit_code == 1 and "drop --no-smoke or --smoke-as" in both.stderr


def test_apply_grants_then_waits_out_propagation_and_proves_it(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    world_with(cli_env, iam_propagation_s=100)
    result = cli("apply", write_manifest(MANIFEST), "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    checks = checks_of(result.stdout)
    assert checks[f"access:{MEMBER}"]["status"] == "changed"
    assert checks["smoke:gpt-oss-120b@global"]["status"] == "ok"
    streams = [
        e["status"]
        for e in cli_env.journal()
        if e["path"].endswith("/chat/completions") and e["principal"] == APP
    ]
    assert streams == [403, 403, 403, 200]  # refused while the grant propagated (100 s)
    # A piped run says why the smoke phase was quiet (each wait of 3 s or more, one line).
    assert f"for propagation (access:{MEMBER})" in result.stderr


def test_a_stream_as_the_principal_proves_access_the_policy_could_not(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    """A conditional binding: the policy alone cannot tell (unknown); the emulator grants
    nothing under a condition, so add an unconditional grant through the folder."""
    condition = {"expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}
    world_with(cli_env, {**USER_BINDING, "condition": condition})
    world = cli_env.get_world()
    world["iam_policies"].append({"resource": "folders/345678901234", "bindings": [USER_BINDING]})
    cli_env.put_world(world)
    result = cli("audit", write_manifest(MANIFEST), "--format", "json")
    assert result.exit_code == 0, result.output
    access = checks_of(result.stdout)[f"access:{MEMBER}"]
    assert access["status"] == "ok" and "run as this principal" in access["detail"]


def test_a_grant_slower_than_the_bound_is_propagating_not_failed(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    world_with(cli_env, iam_propagation_s=3600)
    result = cli("apply", write_manifest(MANIFEST), "--yes", "--format", "json")
    smoke = checks_of(result.stdout)["smoke:gpt-oss-120b@global"]
    assert smoke["status"] == "propagating" and "after 420 s" in smoke["detail"]
    assert "bootstrap smoke" in smoke["remedy"]
    # apply waits out propagation; still propagating after the bound is its error (exitcodes)
    assert result.exit_code == 1, result.output

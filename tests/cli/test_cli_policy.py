"""The org policy preflight end to end: plan, apply and audit read the effective policies from the
emulator over HTTP (one getEffectivePolicy per constraint), report the `policy` check, and apply
sends nothing the policy forbids. An unreadable policy is a warning that keeps a ready project ok,
and `audit --skip policy` sends no policy read at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import APIS, MODEL_120B, OPEN_ACCOUNT, Cli, mutating, one_project

MODELS = "constraints/vertexai.allowedModels"
SERVICES = "constraints/gcp.restrictServiceUsage"


def _world(emulator: Emulator, *policies: dict[str, Any], enabled: bool = False) -> None:
    world = emulator.get_world()
    world["projects"].append(
        {
            "project_id": "policy-app",
            "number": "200000000011",
            "parent": "folders/345678901234",
            "billing_account": OPEN_ACCOUNT,
            "services": list(APIS) if enabled else [APIS[1]],
            "models": [MODEL_120B] if enabled else [],
        }
    )
    world["org_policies"] = list(policies)
    emulator.put_world(world)
    emulator.clear_journal()


def _policy_check(stdout: str) -> dict[str, Any]:
    (project,) = json.loads(stdout)["projects"]
    return dict(next(c for c in project["checks"] if c["name"] == "policy"))


def _reads(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if ":getEffectivePolicy" in json.dumps(e)]


@pytest.fixture
def manifest(write_manifest: Callable[[str], str]) -> str:
    return write_manifest(one_project("policy-app"))


@pytest.mark.parametrize(("command", "code"), [("plan", 3), ("audit", 2), ("apply", 3)])
def test_a_model_the_policy_leaves_out_is_denied_and_never_enabled(
    cli: Cli, cli_env: Emulator, manifest: str, command: str, code: int
) -> None:
    # The organization allows one Gemini model; the project's policy merges into it.
    _world(
        cli_env,
        {
            "resource": "organizations/123456789012",
            "constraint": MODELS,
            "allowed_values": ["publishers/google/models/gemini-2.5-flash:predict"],
        },
        {"resource": "projects/policy-app", "constraint": MODELS, "inherit_from_parent": True},
        enabled=True,
    )
    args = ("--yes",) if command == "apply" else ()
    result = cli(command, manifest, *args, "--format", "json")
    assert result.exit_code == code, result.output
    check = _policy_check(result.stdout)
    assert check["status"] == "action_required" and check["cause"] == "ORG_POLICY_DENIED"
    assert f"add {MODEL_120B}:predict to the allowed values of {MODELS}" in check["remedy"]
    assert "roles/orgpolicy.policyAdmin" in check["remedy"]
    assert not [e for e in mutating(cli_env) if "enable" in json.dumps(e)]


def test_an_explicitly_allowed_model_is_ok_and_costs_one_read_per_constraint(
    cli: Cli, cli_env: Emulator, manifest: str
) -> None:
    _world(
        cli_env,
        {
            "resource": "folders/345678901234",
            "constraint": MODELS,
            "allowed_values": [f"is:{MODEL_120B}:predict"],
        },
        {
            "resource": "organizations/123456789012",
            "constraint": SERVICES,
            "denied_values": ["compute.googleapis.com"],
        },
        enabled=True,
    )
    result = cli("audit", manifest, "--format", "json")
    assert result.exit_code == 0, result.output
    check = _policy_check(result.stdout)
    assert check["status"] == "ok"
    assert MODELS in check["detail"] and SERVICES in check["detail"]
    paths = sorted(e["path"] for e in _reads(cli_env))
    assert paths == [
        "/v2/projects/policy-app/policies/gcp.restrictServiceUsage:getEffectivePolicy",
        "/v2/projects/policy-app/policies/vertexai.allowedModels:getEffectivePolicy",
    ]


def test_a_forbidden_api_is_never_enabled(cli: Cli, cli_env: Emulator, manifest: str) -> None:
    _world(
        cli_env,
        {
            "resource": "folders/345678901234",
            "constraint": SERVICES,
            "denied_values": [f"is:{APIS[0]}"],
        },
    )
    result = cli("apply", manifest, "--yes", "--format", "json")
    assert result.exit_code == 3, result.output
    check = _policy_check(result.stdout)
    assert check["cause"] == "ORG_POLICY_DENIED"
    assert f"remove {APIS[0]} from the denied values of {SERVICES}" in check["remedy"]
    assert mutating(cli_env) == []


def test_an_unreadable_policy_warns_and_keeps_a_ready_project_ok(
    cli: Cli, cli_env: Emulator, manifest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(cli_env, enabled=True)
    world = cli_env.get_world()
    world["principals"].append(
        {
            "email": "no-policy@example.com",
            "tokens": ["no-policy"],
            "grants": {
                "*": [
                    "resourcemanager.projects.get",
                    "serviceusage.services.get",
                    "aiplatform.endpoints.predict",
                ]
            },
        }
    )
    cli_env.put_world(world)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "no-policy")
    result = cli("audit", manifest, "--format", "json")
    assert result.exit_code == 0, result.output
    check = _policy_check(result.stdout)
    assert check["status"] == "warning"
    assert "orgpolicy.policy.get" in check["remedy"] and "--skip policy" in check["remedy"]
    assert json.loads(result.stdout)["projects"][0]["status"] == "ok"
    assert "Traceback" not in result.output


def test_audit_skip_policy_sends_no_policy_read(cli: Cli, cli_env: Emulator, manifest: str) -> None:
    _world(cli_env, enabled=True)
    result = cli("audit", manifest, "--skip", "policy", "--format", "json")
    assert result.exit_code == 0, result.output
    assert _policy_check(result.stdout)["status"] == "skipped"
    assert _reads(cli_env) == []


def test_org_policy_api_off_on_the_quota_project_is_a_warning_naming_the_fix(
    cli: Cli, cli_env: Emulator, manifest: str
) -> None:
    _world(cli_env, enabled=True)
    url = "https://console.developers.google.com/apis/api/orgpolicy.googleapis.com/overview?project=424242424242"
    body = {
        "error": {
            "code": 403,
            "message": "Organization Policy API has not been used in project 424242424242 before "
            f"or it is disabled. Enable it by visiting {url} then retry.",
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "orgpolicy.googleapis.com",
                        "consumer": "projects/424242424242",
                        "activationUrl": url,
                    },
                }
            ],
        }
    }
    rule = {"match": {"path": ":getEffectivePolicy"}, "times": -1, "status": 403, "body": body}
    cli_env.add_faults({"rules": [{**rule, "action": "respond"}]})
    result = cli("audit", manifest, "--format", "json")
    assert result.exit_code == 0, result.output
    check = _policy_check(result.stdout)
    assert check["status"] == "warning" and check["cause"] == "SERVICE_DISABLED"
    assert (
        "gcloud services enable orgpolicy.googleapis.com --project=424242424242" in check["remedy"]
    )
    assert len(_reads(cli_env)) == 2  # not retried

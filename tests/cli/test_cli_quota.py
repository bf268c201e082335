"""Quota visibility end to end (issue 14 items 4-6), over HTTP against the emulator: Cloud Quotas
read once per project by plan and audit, a zero quota reported as QUOTA_ZERO before any call, a
smoke 429 for a model whose quota reads 0 reported as QUOTA_ZERO even when the answer looks like
a busy rate limit, an ordinary 429 still RATE_LIMITED and retried, `min_tokens_per_minute` as a
finding, and an unreadable quota a warning that never fails the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import APIS, MODEL_120B, OPEN_ACCOUNT, Cli, one_project
from tests.error_payloads import envelope, error_info

QUOTA = "quota:gpt-oss-120b@global"
SMOKE = "smoke:gpt-oss-120b@global"
# Row 22's MaaS 429 as public reports show it: no ErrorInfo and nothing that says "limit: 0".
BUSY_429 = {
    "error": {
        "code": 429,
        "status": "RESOURCE_EXHAUSTED",
        "message": "Quota exceeded for aiplatform.googleapis.com/"
        "global_online_prediction_requests_per_base_model with base model: gpt-oss-120b-maas. "
        "Please submit a quota increase request.",
    }
}


def _ready(project_id: str, number: str) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "number": number,
        "parent": "folders/345678901234",
        "billing_account": OPEN_ACCOUNT,
        "services": list(APIS),
        "models": [MODEL_120B],
    }


@pytest.fixture
def quota_world(cli_env: Emulator) -> Emulator:
    world = cli_env.get_world()
    world["projects"] += [
        _ready("quota-zero", "200000000011"),
        _ready("quota-some", "200000000012"),
    ]
    world["model_quotas"] = [
        {"project": "quota-zero", "location": "global", "model": "gpt-oss-120b-maas",
         "requests_per_minute": 0},
        {"project": "quota-some", "location": "global", "model": "gpt-oss-120b-maas",
         "requests_per_minute": 30, "tokens_per_minute": 50000},
    ]  # fmt: skip
    world["principals"].append(
        {
            "email": "no-quota@bootstrap-emulator.iam.gserviceaccount.com",
            "tokens": ["no-quota"],
            "grants": {"*": ["resourcemanager.projects.get", "serviceusage.services.get",
                             "billing.accounts.get", "aiplatform.endpoints.predict"]},
        }
    )  # fmt: skip
    cli_env.put_world(world)
    cli_env.clear_journal()
    return cli_env


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    checks = [c for p in report["projects"] for c in p["checks"] if c["name"] == name]
    checks += [s for s in report.get("smoke", []) if isinstance(s, dict) and s["name"] == name]
    assert len(checks) == 1, report
    return checks[0]


def _requests(emulator: Emulator, needle: str) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if needle in json.dumps(e)]


@pytest.mark.parametrize("command", ["plan", "audit"])
def test_zero_quota_is_quota_zero_before_any_call(
    cli: Cli, quota_world: Emulator, write_manifest: Callable[[str], str], command: str
) -> None:
    path = write_manifest(one_project("quota-zero"))
    result = cli(command, path, "--format", "json")
    assert "Traceback" not in result.output
    assert result.exit_code in (2, 3), result.output  # findings / a person must act, not an error
    check = _check(json.loads(result.stdout), QUOTA)
    assert check["status"] == "action_required"
    assert check["cause"] == "QUOTA_ZERO"
    assert check["metrics"]["requests_per_minute"] == 0
    assert "console.cloud.google.com/iam-admin/quotas?project=quota-zero" in check["remedy"]
    assert "gcloud quotas preferences create --project=quota-zero" in check["remedy"]
    assert (
        "--quota-id=GlobalOnlinePredictionRequestsPerMinutePerProjectPerBaseModel"
        in (check["remedy"])
    )
    # One paged list per project, on the service's parent (not one get per model).
    lists = _requests(quota_world, "/quotaInfos")
    assert len(lists) == 1, lists
    assert "/services/aiplatform.googleapis.com/quotaInfos" in json.dumps(lists[0])


def test_limits_are_reported_and_min_tokens_per_minute_is_a_finding(
    cli: Cli, quota_world: Emulator, write_manifest: Callable[[str], str]
) -> None:
    ok = cli("plan", write_manifest(one_project("quota-some")), "--format", "json")
    check = _check(json.loads(ok.stdout), QUOTA)
    assert ok.exit_code == 0, ok.output
    assert check["status"] == "ok"
    assert check["metrics"]["requests_per_minute"] == 30
    assert check["metrics"]["input_tokens_per_minute"] == 50000
    wanting = one_project("quota-some", "\n        min_tokens_per_minute: 100000")
    low = cli("plan", write_manifest(wanting), "--format", "json")
    check = _check(json.loads(low.stdout), QUOTA)
    assert low.exit_code == 3, low.output
    assert check["status"] == "action_required"
    assert "below the manifest's min_tokens_per_minute 100000" in check["detail"]
    assert "--preferred-value=100000" in check["remedy"]


@pytest.mark.parametrize("command", [("plan",), ("audit", "--no-smoke")])
def test_unreadable_quota_is_a_warning_never_an_error(
    cli: Cli,
    quota_world: Emulator,
    write_manifest: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "no-quota")
    path = write_manifest(one_project("quota-some"))
    result = cli(*command, path, "--format", "json")
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    check = _check(json.loads(result.stdout), QUOTA)
    assert check["status"] == "warning"
    assert "cloudquotas.quotas.get" in check["remedy"]
    assert "roles/cloudquotas.viewer" in check["remedy"]


def test_smoke_429_for_a_zero_quota_is_quota_zero(
    cli: Cli, quota_world: Emulator, write_manifest: Callable[[str], str]
) -> None:
    """The answer says nothing of a zero limit; the quota read after the 429 does."""
    quota_world.add_faults(
        {"rules": [{"match": {"method": "POST", "path": "chat/completions"}, "times": -1,
                    "status": 429, "body": BUSY_429}]}
    )  # fmt: skip
    result = cli("smoke", write_manifest(one_project("quota-zero")), "--format", "json")
    assert "Traceback" not in result.output
    assert result.exit_code != 0
    check = _check(json.loads(result.stdout), SMOKE)
    assert check["cause"] == "QUOTA_ZERO", check
    assert "not a transient rate limit" in check["detail"]
    assert (
        "--quota-id=GlobalOnlinePredictionRequestsPerMinutePerProjectPerBaseModel"
        in (check["remedy"])
    )
    assert len(_requests(quota_world, "/quotaInfos")) == 1


def test_ordinary_429_is_still_rate_limited_and_retried(
    cli: Cli, quota_world: Emulator, write_manifest: Callable[[str], str]
) -> None:
    quota_world.add_faults(
        {"rules": [{"match": {"method": "POST", "path": "chat/completions"}, "times": -1,
                    "status": 429, "body": BUSY_429}]}
    )  # fmt: skip
    result = cli("smoke", write_manifest(one_project("quota-some")), "--format", "json")
    assert "Traceback" not in result.output
    check = _check(json.loads(result.stdout), SMOKE)
    assert check["cause"] == "RATE_LIMITED", check
    assert len(_requests(quota_world, "chat/completions")) > 1  # retried


def test_audit_can_leave_quota_reads_out(
    cli: Cli, quota_world: Emulator, write_manifest: Callable[[str], str]
) -> None:
    path = write_manifest(one_project("quota-some"))
    result = cli("audit", path, "--skip", "quota", "--no-smoke", "--format", "json")
    assert result.exit_code == 0, result.output
    check = _check(json.loads(result.stdout), QUOTA)
    assert check["status"] == "skipped"
    assert "--skip quota" in check["detail"]
    assert _requests(quota_world, "/quotaInfos") == []


def test_cloud_quotas_api_off_on_the_quota_project_is_a_warning_naming_it(
    cli: Cli, quota_world: Emulator, write_manifest: Callable[[str], str]
) -> None:
    """Google's SERVICE_DISABLED for the caller's quota project (not the target): the warning
    names the API and that project, and the run still exits 0."""
    body = envelope(
        403,
        "PERMISSION_DENIED",
        "Cloud Quotas API has not been used in project 987654321098 before or it is disabled.",
        error_info(
            "SERVICE_DISABLED",
            consumer="projects/987654321098",
            service="cloudquotas.googleapis.com",
        ),
    )
    quota_world.add_faults(
        {"rules": [{"match": {"path": "/quotaInfos"}, "times": -1, "status": 403, "body": body}]}
    )
    path = write_manifest(one_project("quota-some"))
    result = cli("plan", path, "--format", "json")
    assert result.exit_code == 0, result.output
    check = _check(json.loads(result.stdout), QUOTA)
    assert check["status"] == "warning"
    assert "services enable cloudquotas.googleapis.com --project=987654321098" in check["remedy"]
    assert len(_requests(quota_world, "/quotaInfos")) == 1  # a 403 is not retried

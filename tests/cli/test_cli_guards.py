"""The data-plane guards end to end (evidence rows 22-24): a project under an org policy that
leaves gpt-oss out, one inside a VPC-SC perimeter and one whose model quota is 0. `smoke`,
`audit` and `apply --yes` (enable: true) against the emulator report the guard's own cause, exit
non-zero, send no enableModel, and do not retry: the journal holds one chat request per case (the
probe, or the probe and one stream)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import APIS, MODEL_120B, OPEN_ACCOUNT, Cli, mutating, one_project

CASES = {
    "guard-org-policy": "ORG_POLICY_DENIED",
    "guard-perimeter": "VPC_SC_BLOCKED",
    "guard-quota-zero": "QUOTA_ZERO",
}


def _project(project_id: str, number: str, *, enabled: bool) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "number": number,
        "parent": "folders/345678901234",
        "billing_account": OPEN_ACCOUNT,
        "services": list(APIS),
        "models": [MODEL_120B] if enabled else [],
    }


@pytest.fixture
def guarded(cli_env: Emulator) -> Emulator:
    world = cli_env.get_world()
    world["projects"] += [
        _project("guard-org-policy", "200000000001", enabled=False),
        _project("guard-perimeter", "200000000002", enabled=False),
        _project("guard-quota-zero", "200000000003", enabled=True),
    ]
    world["org_policies"] = [
        {
            "resource": "projects/guard-org-policy",
            "constraint": "constraints/vertexai.allowedModels",
            "allowed_values": ["publishers/google/models/gemini-2.5-flash:predict"],
            "denied_values": [],
        }
    ]
    world["vpc_sc"] = {"perimeter_projects": ["200000000002"], "allowed_principals": []}
    world["model_quotas"] = [
        {
            "project": "guard-quota-zero",
            "location": "global",
            "model": "gpt-oss-120b-maas",
            "requests_per_minute": 0,
        }
    ]
    cli_env.put_world(world)
    cli_env.clear_journal()
    return cli_env


def _chats(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if "chat/completions" in json.dumps(e)]


def _causes(report: dict[str, Any]) -> set[str]:
    found = {str(c.get("cause")) for p in report["projects"] for c in p["checks"]}
    found |= {str(s.get("cause")) for s in report.get("smoke", []) if isinstance(s, dict)}
    return found


@pytest.mark.parametrize("project", sorted(CASES))
@pytest.mark.parametrize("command", ["smoke", "audit"])
def test_guard_is_reported_with_its_cause_and_not_retried(
    cli: Cli,
    guarded: Emulator,
    write_manifest: Callable[[str], str],
    project: str,
    command: str,
) -> None:
    path = write_manifest(one_project(project))
    result = cli(command, path, "--format", "json")
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert CASES[project] in _causes(report), result.stdout
    assert 1 <= len(_chats(guarded)) <= 2, _chats(guarded)
    assert mutating(guarded) == []


@pytest.mark.parametrize("project", sorted(CASES))
def test_apply_sends_no_enable_model_under_a_guard(
    cli: Cli, guarded: Emulator, write_manifest: Callable[[str], str], project: str
) -> None:
    path = write_manifest(one_project(project))
    result = cli("apply", path, "--yes", "--format", "json")
    assert result.exit_code != 0, result.output
    assert CASES[project] in _causes(json.loads(result.stdout)), result.stdout
    assert not [e for e in mutating(guarded) if "enableModel" in json.dumps(e)]
    assert 1 <= len(_chats(guarded)) <= 2, _chats(guarded)


def test_an_allowed_model_passes_the_org_policy(
    cli: Cli, guarded: Emulator, write_manifest: Callable[[str], str]
) -> None:
    world = guarded.get_world()
    world["org_policies"][0]["allowed_values"].append(f"{MODEL_120B}:predict")
    next(p for p in world["projects"] if p["project_id"] == "guard-org-policy")["models"] = [
        MODEL_120B
    ]
    guarded.put_world(world)
    result = cli("smoke", write_manifest(one_project("guard-org-policy")))
    assert result.exit_code == 0, result.output

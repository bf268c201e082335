"""`plan` checks who may call the models: one `access:<member>` check per manifest principal, read
from the project's IAM policy, without any write."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import bootstrap.gcp.projects as gcp_projects
from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, mutating
from tests.iam_support import project_policy, with_project_policy

GRANTED = "serviceAccount:app@demo-ready.iam.gserviceaccount.com"
UNGRANTED = "serviceAccount:batch@demo-ready.iam.gserviceaccount.com"
MANIFEST = f"""\
version: 1
projects:
  - project_id: demo-ready
    link_billing: true
    billing_account: 012345-6789AB-CDEF01
    principals: [{GRANTED}, {UNGRANTED}]
    models:
      - model: gpt-oss-120b
        locations: [global]
        enable: true
"""


def grant(emulator: Emulator, member: str) -> None:
    world = emulator.get_world()
    policy = {"bindings": [{"role": "roles/aiplatform.user", "members": [member]}]}
    with_project_policy(world, "demo-ready", policy)
    emulator.put_world(world)


def test_plan_reports_granted_and_ungranted_principals(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    grant(cli_env, GRANTED)
    cli_env.clear_journal()
    result = cli("plan", write_manifest(MANIFEST), "--format", "json")
    assert "Traceback" not in result.output
    (project,) = json.loads(result.stdout)["projects"]
    checks = {c["name"]: c for c in project["checks"]}
    assert checks[f"access:{GRANTED}"]["status"] == "ok"
    assert checks[f"access:{UNGRANTED}"]["status"] == "pending"
    grants = [c for c in project["changes"] if c["action"] == "grant_role"]
    assert len(grants) == 1 and UNGRANTED in json.dumps(grants[0])
    reads = [e["path"] for e in cli_env.journal() if e["path"].endswith(":getIamPolicy")]
    assert reads == ["/v3/projects/demo-ready:getIamPolicy"]  # once per project
    assert mutating(cli_env) == []


def test_no_principals_no_policy_read(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    manifest = MANIFEST.replace(f"    principals: [{GRANTED}, {UNGRANTED}]\n", "")
    result = cli("plan", write_manifest(manifest), "--format", "json")
    assert result.exit_code == 0, result.output
    assert not [e for e in cli_env.journal() if e["path"].endswith(":getIamPolicy")]


KEPT: list[dict[str, Any]] = [
    {"role": "roles/viewer", "members": ["user:ops@example.com"]},
    {
        "role": "roles/aiplatform.user",
        "members": ["user:temp@example.com"],
        "condition": {
            "title": "until",
            "expression": "request.time < timestamp('2030-01-01T00:00:00Z')",
        },
    },
    {"role": "roles/aiplatform.user", "members": [GRANTED]},
]


def set_policy(emulator: Emulator, bindings: list[dict[str, Any]], etag: str) -> None:
    world = emulator.get_world()
    with_project_policy(world, "demo-ready", {"bindings": bindings, "etag": etag, "version": 3})
    emulator.put_world(world)


def sets(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if e["path"].endswith(":setIamPolicy")]


def policy_of(emulator: Emulator) -> dict[str, Any]:
    return project_policy(emulator.get_world(), "demo-ready")


def test_apply_grants_the_missing_member_and_keeps_everything_else(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    set_policy(cli_env, KEPT, "BwYAAAAAAAE=")
    manifest = write_manifest(MANIFEST)
    cli_env.clear_journal()
    result = cli("apply", manifest, "--yes", "--no-smoke", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(sets(cli_env)) == 1
    after = policy_of(cli_env)
    assert after["version"] == 3 and after["etag"] != "BwYAAAAAAAE="
    user = {"role": "roles/aiplatform.user", "members": [GRANTED, UNGRANTED]}
    assert after["bindings"] == [*KEPT[:2], user]  # field by field: the rest as read
    (project,) = json.loads(result.stdout)["projects"]
    assert {c["name"]: c["status"] for c in project["checks"]}[f"access:{UNGRANTED}"] == "changed"
    cli_env.clear_journal()
    again = cli("plan", manifest, "--format", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["projects"][0]["changes"] == []
    assert mutating(cli_env) == []


def test_a_concurrent_writer_loses_nothing(
    cli: Cli,
    cli_env: Emulator,
    write_manifest: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another writer changes the policy between our read and our write: the first
    setIamPolicy answers 409 ABORTED; the grant re-reads, re-applies and keeps both changes."""
    set_policy(cli_env, KEPT, "BwYAAAAAAAE=")
    other: dict[str, Any] = {"role": "roles/viewer", "members": ["user:other@example.com"]}
    real = gcp_projects.add_member
    calls: list[int] = []

    def racing(policy: Any, member: str, role: str) -> bool:
        if not calls:
            set_policy(cli_env, [*KEPT, other], "BwYAAAAAAAI=")  # the other writer
        calls.append(1)
        return real(policy, member, role)

    monkeypatch.setattr(gcp_projects, "add_member", racing)
    cli_env.clear_journal()
    result = cli("apply", write_manifest(MANIFEST), "--yes", "--no-smoke", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [e["status"] for e in sets(cli_env)] == [409, 200]
    bindings = policy_of(cli_env)["bindings"]
    assert other in bindings and KEPT[0] in bindings and KEPT[1] in bindings
    user = next(
        b for b in bindings if b["role"] == "roles/aiplatform.user" and "condition" not in b
    )
    assert user["members"] == [GRANTED, UNGRANTED]

"""`plan` checks who may call the models: one `access:<member>` check per manifest principal, read
from the project's IAM policy, without any write."""

from __future__ import annotations

import json
from collections.abc import Callable

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, mutating

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
    for project in world["projects"]:
        if project["project_id"] == "demo-ready":
            project["iam_policy"] = {
                "bindings": [{"role": "roles/aiplatform.user", "members": [member]}]
            }
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
    missing = checks[f"access:{UNGRANTED}"]
    assert missing["status"] == "action_required"
    assert missing["cause"] == "PRINCIPAL_NOT_GRANTED"
    assert missing["remedy"] == (
        f"gcloud projects add-iam-policy-binding demo-ready --member={UNGRANTED} "
        "--role=roles/aiplatform.user"
    )
    assert result.exit_code not in (0, 2), result.output  # a person must act
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

"""The least-privilege role lists stay true: examples/roles/*.yaml and docs/permissions.md list
exactly the permissions bootstrap/plan/permissions.py says each command needs (which reads apply's
from the planner), and a principal holding only those permissions runs each command against
the emulator as well as an owner does."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap.emulator.inprocess import Emulator
from bootstrap.plan.permissions import COMMANDS, Scope, needs_for, permissions_for
from bootstrap.plan.preflight import CREATE_PERMISSION, LINK_PERMISSION
from tests.cli.cli_support import FOLDER, OPEN_ACCOUNT, Cli, read_json

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "examples" / "roles"
DOC = ROOT / "docs" / "permissions.md"
SUFFIX = {
    Scope.PROJECT: "",
    Scope.BILLING_ACCOUNT: "-billing",
    Scope.PARENT: "-parent",
    Scope.SERVICE_ACCOUNT: "-service-account",
}


def expected_role_files() -> dict[str, tuple[str, ...]]:
    return {
        f"{command}{SUFFIX[scope]}.yaml": permissions_for(command, scope)
        for command in COMMANDS
        for scope in Scope
        if permissions_for(command, scope)
    }


def test_custom_role_files_hold_exactly_the_permissions_each_command_needs() -> None:
    expected = expected_role_files()
    assert sorted(p.name for p in ROLES.glob("*.yaml")) == sorted(expected)
    for name, permissions in expected.items():
        role = yaml.safe_load((ROLES / name).read_text())
        assert set(role) == {"title", "description", "stage", "includedPermissions"}, name
        assert tuple(role["includedPermissions"]) == permissions, name


def test_apply_needs_what_the_planners_preflight_tests() -> None:
    apply = set(permissions_for("apply"))
    assert {CREATE_PERMISSION, LINK_PERMISSION} <= apply
    assert "resourcemanager.projects.createBillingAssignment" in apply
    assert "serviceusage.services.enable" in apply
    read_only = set(permissions_for("audit")) | set(permissions_for("plan"))
    assert not any(
        word in permission
        for permission in read_only
        for word in ("create", "enable", "grant", "update", "delete")
    )
    # The stream, the reads that explain a refused one, and a token for smoke_as.
    assert permissions_for("smoke", Scope.PROJECT) == (
        "aiplatform.endpoints.predict",
        "resourcemanager.projects.get",
        "serviceusage.services.get",
    )
    assert permissions_for("smoke", Scope.SERVICE_ACCOUNT) == (
        "iam.serviceAccounts.getAccessToken",
    )
    # Never a permission to undo something: no disable, unlink or delete anywhere.
    for command in COMMANDS:
        assert not any(
            word in p for p in permissions_for(command) for word in ("disable", "delete")
        )


def doc_tables() -> dict[str, list[tuple[str, str, str]]]:
    """`### bootstrap <command>` sections -> rows of (permission, scope, role)."""
    tables: dict[str, list[tuple[str, str, str]]] = {}
    command = None
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^### `bootstrap (\w+)`", line)
        if heading:
            command = heading.group(1)
            tables[command] = []
            continue
        row = re.match(r"^\| `([a-z.A-Z]+)` \| (\w+) \| `(roles/[\w.]+)` \|", line)
        if command and row:
            tables[command].append((row.group(1), row.group(2), row.group(3)))
    return tables


def test_docs_list_each_commands_permissions_scope_and_role() -> None:
    tables = doc_tables()
    assert sorted(tables) == sorted(COMMANDS)
    for command in COMMANDS:
        expected = sorted((n.permission, n.scope.value, n.role) for n in needs_for(command))
        assert sorted(tables[command]) == expected, command


def test_docs_point_at_every_custom_role_file() -> None:
    text = DOC.read_text()
    for name in expected_role_files():
        assert f"examples/roles/{name}" in text


# -- the lists are sufficient: a principal holding only them, against the emulator --------------

FRESH = f"""\
version: 1
defaults:
  billing_account: {OPEN_ACCOUNT}
  parent: folders/{FOLDER}
  link_billing: true
  models:
    - model: gpt-oss-120b
      locations: [global]
      enable: true
projects:
  - project_id: demo-no-billing
  - project_id: demo-api-disabled
  - project_id: least-new
    create: true
"""


def with_principal(emulator: Emulator, command: str) -> str:
    """Add a principal holding exactly `command`'s permissions, each on its own resource."""
    world = emulator.get_world()
    grants: dict[str, list[str]] = {
        "*": list(permissions_for(command, Scope.PROJECT)),
        f"folders/{FOLDER}": list(permissions_for(command, Scope.PARENT)),
    }
    for account in world["billing_accounts"]:
        grants[f"billingAccounts/{account['id']}"] = list(
            permissions_for(command, Scope.BILLING_ACCOUNT)
        )
    for service_account in world["service_accounts"]:
        resource = (
            f"projects/{service_account['project']}/serviceAccounts/{service_account['email']}"
        )
        grants[resource] = list(permissions_for(command, Scope.SERVICE_ACCOUNT))
    token = f"least-{command}"
    world["principals"].append(
        {
            "email": f"{token}@bootstrap-emulator.iam.gserviceaccount.com",
            "tokens": [token],
            "grants": {k: v for k, v in grants.items() if v},
        }
    )
    emulator.put_world(world)
    return token


def causes(report: dict[str, Any]) -> set[str]:
    return {c["cause"] for p in report["projects"] for c in p["checks"] if c["cause"]}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {p["project_id"]: p["status"] for p in report["projects"]}


def findings(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """What was observed: every check but `permissions` (which says whether the caller could
    apply), with a change the preflight blocked (not run) the same as one planned (pending)."""
    later = {"pending": "not yet", "not_run": "not yet"}
    return {
        (p["project_id"], c["name"]): (later.get(c["status"], c["status"]), c["cause"])
        for p in report["projects"]
        for c in p["checks"]
        if c["name"] != "permissions"
    }


@pytest.mark.parametrize("command", ["audit", "plan", "smoke"])
def test_the_read_only_lists_are_enough_for_the_demo_world(
    cli: Cli,
    cli_env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
) -> None:
    owner = tmp_path / "owner.json"
    cli(command, "manifests/demo.yaml", "--output", str(owner))
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", with_principal(cli_env, command))
    least = tmp_path / "least.json"
    result = cli(command, "manifests/demo.yaml", "--output", str(least))
    assert "Traceback" not in result.output
    assert findings(read_json(least)) == findings(read_json(owner))
    # The apply preflight in plan/audit (testIamPermissions needs no permission) does tell a
    # read-only caller that apply would be blocked: that is the permissions check, by design.
    permission_checks = {
        p["project_id"]
        for p in read_json(least)["projects"]
        for c in p["checks"]
        if c["name"] == "permissions"
    }
    assert permission_checks <= {p for p, s in statuses(read_json(owner)).items() if s != "ok"}


def test_the_apply_lists_are_enough_to_converge_fresh_projects(
    cli: Cli,
    cli_env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    write_manifest: Callable[[str], str],
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", with_principal(cli_env, "apply"))
    path = tmp_path / "apply.json"
    result = cli("apply", write_manifest(FRESH), "--yes", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert set(statuses(read_json(path)).values()) == {"ok"}


def test_one_permission_fewer_is_caught_by_the_preflight(
    cli: Cli,
    cli_env: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    write_manifest: Callable[[str], str],
) -> None:
    # Proves the emulator enforces the list: without consents.grant, enableModel is blocked.
    token = with_principal(cli_env, "apply")
    world = cli_env.get_world()
    principal = next(p for p in world["principals"] if token in p["tokens"])
    principal["grants"]["*"].remove("consumerprocurement.consents.grant")
    cli_env.put_world(world)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", token)
    path = tmp_path / "apply.json"
    result = cli("apply", write_manifest(FRESH), "--yes", "--no-smoke", "--output", str(path))
    assert result.exit_code == 1, result.output
    assert "PERMISSION_DENIED" in causes(read_json(path))
    assert "consumerprocurement.consents.grant" in path.read_text()

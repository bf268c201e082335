"""`audit --parent` walks the folder tree: nested projects are found, --direct-only keeps to the
parent's own children, and a folder that cannot be listed makes the run partial (exit 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from bootstrap.exitcodes import ExitCode
from tests.cli.cli_support import Cli

ORG = "organizations/123456789012"
FOLDER = "folders/345678901234"
NESTED = "demo-nested"  # in folders/456789012345, one level below FOLDER


def audit(cli: Cli, *args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("audit", "--parent", *args, "--no-smoke", "--format", "json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout), result.stderr


def ids(report: dict[str, Any]) -> set[str]:
    return {p["project_id"] for p in report["projects"]}


def test_the_organization_audit_finds_the_project_in_the_nested_folder(
    cli: Cli, cli_env: Emulator
) -> None:
    _, whole, _ = audit(cli, ORG)
    assert NESTED in ids(whole) and "demo-ready" in ids(whole)
    listed = [e for e in cli_env.journal() if e["path"] == "/v3/folders"]
    assert len(listed) == 3, "the organization, its folder and the sub-folder were each listed"
    _, direct, _ = audit(cli, FOLDER, "--direct-only")
    assert NESTED not in ids(direct) and "demo-ready" in ids(direct)
    _, nested, _ = audit(cli, FOLDER)
    assert ids(nested) == ids(direct) | {NESTED}


def test_a_folder_that_cannot_be_listed_makes_the_discovery_partial_and_the_run_fail(
    cli: Cli, cli_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = cli_env.get_world()
    reads = [
        "resourcemanager.projects.get",
        "resourcemanager.projects.list",
        "serviceusage.services.get",
        "billing.resourceAssociations.list",
        "billing.accounts.get",
        "aiplatform.endpoints.predict",
    ]
    # May read every project, but may not list folders (resourcemanager.folders.list).
    grants = {"*": reads}
    world["principals"].append(
        {"email": "reader@example.com", "tokens": ["no-sub-folders"], "grants": grants}
    )
    cli_env.put_world(world)
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "no-sub-folders")
    code, report, _ = audit(cli, FOLDER)
    assert code == ExitCode.ERROR, "what the unlisted folder holds was not judged"
    assert report["run"]["partial"] is True and report["exit_code"] == ExitCode.ERROR
    assert any("resourcemanager.folders.list" in w and FOLDER in w for w in report["warnings"])
    assert NESTED not in ids(report) and "demo-ready" in ids(report)

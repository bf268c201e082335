"""The example manifests validate, match the JSON Schema, and the schema file is in sync."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from bootstrap.cli import cli
from bootstrap.manifest.loader import load_manifests
from bootstrap.manifest.schema import json_schema_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "manifests").glob("*.yaml"))
AS_OF = date(2026, 11, 25)


def test_schema_file_matches_generated_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert (ROOT / "manifest.schema.json").read_text(encoding="utf-8") == result.output
    assert result.output == json_schema_text()


def test_schema_describes_every_property_for_editors() -> None:
    schema = json.loads(json_schema_text())
    for definition in [schema, *schema["$defs"].values()]:
        for name, prop in definition["properties"].items():
            assert prop.get("description"), name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_matches_json_schema(path: Path) -> None:
    schema = json.loads(json_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_has_modeline_and_no_retired_model(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../manifest.schema.json"
    result = load_manifests([path], as_of=AS_OF)
    assert result.ok, [d.render() for d in result.diagnostics]
    assert result.desired is not None


def test_validate_manifests_directory_exits_0() -> None:
    result = CliRunner().invoke(cli, ["validate", str(ROOT / "manifests"), "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output


def test_examples_cover_at_least_three_files() -> None:
    assert {path.name for path in EXAMPLES} >= {"demo.yaml", "onboarding.yaml", "ci.yaml"}


DEFAULT_WORLD = ROOT / "bootstrap" / "emulator" / "worlds" / "default.yaml"


def test_demo_matches_the_emulator_default_world() -> None:
    desired = load_manifests([ROOT / "manifests" / "demo.yaml"], as_of=AS_OF).desired
    assert desired is not None
    projects = {project.project_id: project for project in desired.projects}
    assert list(projects) == [
        "demo-ready",
        "demo-no-billing",
        "demo-api-disabled",
        "demo-model-off",
        "demo-closed-billing",
        "demo-quota-zero",
        "demo-policy-blocked",
        "demo-grant",
        "demo-deleting",
        "demo-new",
    ]
    world = yaml.safe_load(DEFAULT_WORLD.read_text())
    world_projects = {p["project_id"] for p in world["projects"]}
    assert set(projects) - world_projects == {"demo-new"}, "only demo-new is created by the demo"
    accounts = {a["id"]: a["open"] for a in world["billing_accounts"]}
    closed = projects["demo-closed-billing"].billing_account
    assert closed is not None and accounts[closed] is False, "it must point at the closed account"
    for project in projects.values():
        assert project.billing_account in accounts
        assert project.parent == "folders/345678901234"
        assert project.labels == {"team": "ml"}
        assert [(m.alias, m.locations) for m in project.models] == [("gpt-oss-120b", ("global",))]
    assert not projects["demo-model-off"].models[0].enable
    assert not projects["demo-deleting"].create and not projects["demo-deleting"].link_billing
    assert projects["demo-new"].create and projects["demo-new"].display_name == "Demo new"
    app = "serviceAccount:app@demo-grant.iam.gserviceaccount.com"
    assert projects["demo-grant"].principals == (app,) and projects["demo-grant"].smoke_as == app
    accounts_of_world = {a["email"] for a in world["service_accounts"]}
    assert app.removeprefix("serviceAccount:") in accounts_of_world, "the demo mints its tokens"
    for name in ("demo-ready", "demo-no-billing", "demo-api-disabled", "demo-closed-billing"):
        assert projects[name].link_billing and projects[name].models[0].enable
    assert desired.smoke.max_tokens == 512 and desired.smoke.reasoning_effort == "low"

"""`bootstrap validate` and `bootstrap schema` through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bootstrap.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def test_show_prints_merged_state_as_json() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "validate",
            str(ROOT / "manifests" / "onboarding.yaml"),
            "--show",
            "--as-of",
            "2026-11-25",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    prod = data["projects"][1]
    assert prod["labels"] == {"team": "research-prod", "cost-center": "cc-1234", "env": "prod"}
    assert "storage.googleapis.com" in prod["services"]
    assert prod["principal_role"] == "roles/aiplatform.user"
    assert prod["principals"][0].startswith("serviceAccount:research-app@")
    assert prod["principals"][1].startswith("principalSet://iam.googleapis.com/projects/")
    assert len(data["projects"][0]["principals"]) == 1


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nprojects:\n  - project_id: acme-one\n    models:\n"
        "      - model: gpt-oss-20b\n        locations: [us-central1]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["validate", str(path), "--as-of", "2026-08-01"])
    assert result.exit_code == 0 and "warning:" in result.output
    result = CliRunner().invoke(cli, ["validate", str(path), "--as-of", "2026-10-21"])
    assert result.exit_code == 1 and f"{path}:5:" in result.output


def test_bad_as_of_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--as-of", "tomorrow"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_schema_prints_json() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "bootstrap manifest v1"

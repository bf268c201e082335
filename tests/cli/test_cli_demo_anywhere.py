"""`bootstrap demo` works from any directory: it finds the repository's demo manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap.jobs.demo import DEMO_MANIFEST, demo_manifest
from tests.cli.cli_support import run_cli

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_demo_manifest_is_found_from_another_directory(tmp_path: Path) -> None:
    assert demo_manifest(cwd=REPOSITORY) == REPOSITORY / DEMO_MANIFEST
    assert demo_manifest(cwd=tmp_path) == REPOSITORY / DEMO_MANIFEST
    # A manifests/demo.yaml in the working directory wins (a copy someone edits).
    (tmp_path / "manifests").mkdir()
    (tmp_path / DEMO_MANIFEST).write_text("version: 1\nprojects: []\n")
    assert demo_manifest(cwd=tmp_path) == tmp_path / DEMO_MANIFEST


def test_demo_runs_from_a_directory_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BOOTSTRAP_EMULATOR_HOST", "BOOTSTRAP_EMULATOR_TOKEN", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli(["demo", "--output", "report.json"])
    assert result.exit_code == 0, result.output[-3000:]
    assert "not found" not in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert {p["project_id"] for p in report["projects"]} >= {"demo-ready", "demo-new"}

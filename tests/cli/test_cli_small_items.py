"""The smaller items of issue 18: one error for a missing path in every command, `validate -`
reading stdin, a mapping where text was expected shown with its value, and the viewer told what
it lacks rather than "no role on the project"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, run_cli

MISSING = "/no/such/dir/manifest.yaml"

GOOD = """\
version: 1
projects:
  - project_id: stdin-demo
    models: [{model: gpt-oss-120b, locations: [global]}]
"""


@pytest.mark.parametrize(
    "args",
    [
        ("validate", MISSING),
        ("plan", MISSING),
        ("apply", MISSING, "--yes"),
        ("audit", MISSING),
        ("smoke", MISSING),
        ("env", MISSING, "--project", "p"),
        ("report", "merge", MISSING),
        ("demo", MISSING),
        ("emulator", "--world", MISSING),
        ("emulator", "--faults", MISSING),
    ],
    ids=lambda args: " ".join(a for a in args if a != MISSING),
)
def test_a_missing_path_is_the_same_one_line_error_everywhere(args: tuple[str, ...]) -> None:
    result = run_cli(args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {MISSING}: no such file or directory (check the path)")
    assert "Invalid value" not in result.stderr and ":1:1:" not in result.stderr


def test_a_directory_where_a_file_is_needed_says_so(tmp_path: Path) -> None:
    result = run_cli(["report", "merge", str(tmp_path)])
    assert result.exit_code == 1
    assert f"error: {tmp_path} is a directory; give a file" in result.stderr


def test_validate_dash_reads_the_manifest_from_stdin() -> None:
    result = run_cli(["validate", "-", "--show"], stdin=GOOD)
    assert result.exit_code == 0, result.stderr
    assert "1 file(s), 1 project(s) valid" in result.stderr
    shown = json.loads(result.stdout)
    assert [p["project_id"] for p in shown["projects"]] == ["stdin-demo"]
    assert shown["sources"] == ["-"]


def test_validate_dash_names_stdin_in_diagnostics() -> None:
    result = run_cli(["validate", "-"], stdin=GOOD + "    bogus: 1\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("-:5:5: unknown key 'bogus' in projects[0]")


def test_a_mapping_where_text_was_expected_shows_the_value() -> None:
    text = GOOD.replace(
        "  - project_id: stdin-demo\n", "  - project_id: stdin-demo\n    display_name: {Team: ML}\n"
    )
    result = run_cli(["validate", "-"], stdin=text)
    assert result.exit_code == 1
    assert (
        "-:4:19: projects[0].display_name must be text, not the mapping {Team: ML} "
        "(hint: quote it if it is text: '{Team: ML}')"
    ) in result.stderr


def test_the_viewer_is_told_what_it_lacks_not_that_it_has_no_role(
    cli: Cli, cli_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-viewer")
    out = tmp_path / "plan.json"
    result = cli("plan", "manifests/demo.yaml", "--output", str(out))
    assert "Traceback" not in result.output
    report = json.loads(out.read_text())
    [project] = [p for p in report["projects"] if p["project_id"] == "demo-api-disabled"]
    [check] = [c for c in project["checks"] if c["name"] == "permissions"]
    assert "no role" not in check["detail"]
    assert "the caller can read the project" in check["detail"]
    assert "serviceusage.services.enable (roles/serviceusage.serviceUsageAdmin)" in check["detail"]

"""The examples work as written: the GitHub Actions workflow authenticates with Workload Identity
Federation and runs the audit command that, run here against the emulator, writes JUnit and JSON
and appends the step summary; the Cloud Run recipe's commands parse and add up."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import junitparser
import pytest
import yaml

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, read_json

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "bootstrap-audit.yml"
CLOUD_RUN = ROOT / "docs" / "fleet.md"


def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def steps() -> list[dict[str, Any]]:
    jobs = workflow()["jobs"]
    assert len(jobs) == 1
    result: list[dict[str, Any]] = next(iter(jobs.values()))["steps"]
    return result


def step_using(action: str) -> dict[str, Any]:
    return next(s for s in steps() if s.get("uses", "").startswith(action + "@"))


def test_workflow_authenticates_with_workload_identity_federation() -> None:
    assert workflow()["permissions"]["id-token"] == "write"
    auth = step_using("google-github-actions/auth")
    assert set(auth["with"]) >= {"workload_identity_provider", "service_account"}
    assert "credentials_json" not in auth["with"], "no service account keys"
    names = [s.get("uses", s.get("name")) for s in steps()]
    assert names.index(auth["uses"]) < next(
        i for i, s in enumerate(steps()) if "bootstrap audit" in s.get("run", "")
    ), "authenticate before auditing"


def test_workflow_publishes_junit_and_keeps_the_reports_even_when_the_audit_fails() -> None:
    junit = step_using("mikepenz/action-junit-report")
    assert junit["with"]["report_paths"] == "audit.xml"
    assert workflow()["permissions"]["checks"] == "write"
    artifact = step_using("actions/upload-artifact")
    for step in (junit, artifact):
        assert "cancelled()" in step["if"]


def audit_command() -> list[str]:
    run = next(s["run"] for s in steps() if "bootstrap audit" in s.get("run", ""))
    return shlex.split(run)


def test_the_workflows_audit_command_writes_junit_json_and_the_step_summary(
    cli: Cli, cli_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = audit_command()
    assert command[:3] == ["bootstrap", "audit", "manifests/"]
    assert command[3:] == ["--output", "audit.xml", "--output", "audit.json"]
    shutil.copytree(ROOT / "manifests", tmp_path / "manifests")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(tmp_path)
    result = cli(*command[1:])
    assert result.exit_code in (1, 2), result.output  # the demo world has findings and errors
    assert "Traceback" not in result.output
    report = read_json(tmp_path / "audit.json")
    assert report["exit_code"] == result.exit_code
    suites = list(junitparser.JUnitXml.fromfile(str(tmp_path / "audit.xml")))
    assert sorted(s.name for s in suites) == sorted(p["project_id"] for p in report["projects"])
    assert "| " in summary.read_text()
    assert not [e for e in cli_env.journal() if e["mutating"]]


# -- Cloud Run recipe ----------------------------------------------------------------------------


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", CLOUD_RUN.read_text(), flags=re.S)


def test_cloud_run_recipe_creates_a_sharded_job_and_merges_the_shards() -> None:
    text = "\n".join(shell_blocks()).replace("\\\n", " ")
    create = next(line for line in text.splitlines() if "gcloud run jobs create" in line)
    assert re.search(r"--tasks[ =]\d+", create)
    assert "AUDIT_PARENT=folders/" in create and "mount-path=/reports" in create
    assert "bootstrap audit --parent" in task_script()
    assert "gcloud run jobs execute" in text
    assert "bootstrap report merge audit-*.json" in text


def task_script() -> str:
    return next(block for block in shell_blocks() if block.startswith("#!/bin/sh"))


def test_cloud_run_task_script_shards_and_the_documented_merge_equals_one_audit(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    # The documented wrapper, run as Cloud Run would run three tasks (the real console script
    # in a subprocess, against the emulator), then the documented merge.
    script = tmp_path / "audit-task.sh"
    script.write_text(task_script().replace("/reports/", f"{tmp_path}/reports/"))
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AUDIT_PARENT": "folders/345678901234",
        "CLOUD_RUN_EXECUTION": "bootstrap-audit-x1",
        "CLOUD_RUN_TASK_COUNT": "3",
    }
    for index in range(3):
        done = subprocess.run(
            ["sh", str(script)],
            env={**env, "CLOUD_RUN_TASK_INDEX": str(index)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"shard {index + 1}/3" in done.stdout
    shards = sorted((tmp_path / "reports" / "bootstrap-audit-x1").glob("audit-*.json"))
    assert len(shards) == 3
    merged_path = tmp_path / "audit.json"
    merged = cli("report", "merge", *map(str, shards), "--output", str(merged_path))
    whole = cli("audit", "--parent", "folders/345678901234", "--no-smoke", "--format", "json")
    assert merged.exit_code == whole.exit_code == 2, merged.output  # findings, every read done
    expected = json.loads(whole.stdout)
    report = read_json(merged_path)
    assert [p["project_id"] for p in report["projects"]] == sorted(
        p["project_id"] for p in expected["projects"]
    )
    assert [p["status"] for p in report["projects"]] == [
        p["status"] for p in sorted(expected["projects"], key=lambda p: p["project_id"])
    ]
    assert not [e for e in cli_env.journal() if e["mutating"]]

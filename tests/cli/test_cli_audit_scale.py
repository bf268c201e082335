"""`audit --parent` at scale: 204 projects in mixed states under one folder, label filters (AND),
shards that add up to the whole (by --shard and by Cloud Run's task variables), and shard
reports that merge into exactly the unsharded audit. Waits run on the emulator's clock."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import (
    EXPECTED_STATUS,
    FOLDER,
    KINDS,
    OTHER_FOLDER,
    Cli,
    kind_of,
    labels_for,
    mutating,
    read_json,
    run_cli,
    scale_world,
)

COUNT = 204
PARENT = f"folders/{FOLDER}"
# Fields that measure time and so differ between two runs of the same audit.
TIMING = ("duration_ms", "metrics")


@pytest.fixture
def big_world(cli_env: Emulator) -> Emulator:
    cli_env.put_world(scale_world(cli_env.get_world(), COUNT))
    cli_env.clear_journal()
    return cli_env


def audit(cli: Cli, tmp_path: Path, name: str, *args: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / f"{name}.json"
    result = cli("audit", "--parent", PARENT, *args, "--output", str(path))
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    report = read_json(path)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, report


def ids(report: dict[str, Any]) -> list[str]:
    return [p["project_id"] for p in report["projects"]]


def without_timing(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **project,
            "checks": [
                {k: v for k, v in check.items() if k not in TIMING} for check in project["checks"]
            ],
        }
        for project in report["projects"]
    ]


STATUS_KEYS = ("ok", "changes", "propagating", "unknown", "action_required", "failed", "projects")


def statuses(report: dict[str, Any]) -> dict[str, Any]:
    return {key: report["summary"][key] for key in STATUS_KEYS}


def test_audit_of_a_folder_reports_each_project_as_its_state_and_sends_no_change(
    cli: Cli, big_world: Emulator, tmp_path: Path
) -> None:
    code, report = audit(cli, tmp_path, "all")
    assert code == 2  # every project was read: what is wrong is a finding (deletion too)
    assert len(report["projects"]) == COUNT
    assert all(not pid.endswith(("-900", "-901", "-902")) for pid in ids(report)), (
        f"projects under folders/{OTHER_FOLDER} must not be discovered"
    )
    for project in report["projects"]:
        assert project["status"] == EXPECTED_STATUS[kind_of(project["project_id"])], project
    per_status = Counter(p["status"] for p in report["projects"])
    assert statuses(report) == {**{k: per_status.get(k, 0) for k in STATUS_KEYS}, "projects": COUNT}
    smoked = [
        check
        for project in report["projects"]
        if kind_of(project["project_id"]) == "ready"
        for check in project["checks"]
        if check["name"] == "smoke:gpt-oss-120b@global"
    ]
    assert len(smoked) == COUNT // 6 and {c["status"] for c in smoked} == {"ok"}
    assert mutating(big_world) == []


@pytest.mark.parametrize(
    ("labels", "code"),
    [
        (("kind=ready",), 0),  # all compliant
        (("kind=api-off", "env=prod"), 2),  # findings only
        (("kind=deleting",), 2),  # a project pending deletion is a finding, not a read error
    ],
)
def test_audit_exit_code_is_0_compliant_2_findings(
    cli: Cli, big_world: Emulator, tmp_path: Path, labels: tuple[str, ...], code: int
) -> None:
    args = [arg for label in labels for arg in ("--label", label)]
    got, report = audit(cli, tmp_path, "labelled", "--no-smoke", *args)
    assert report["projects"]
    assert got == code


def test_labels_are_anded_a_project_matching_one_of_two_is_excluded(
    cli: Cli, big_world: Emulator, tmp_path: Path
) -> None:
    _, both = audit(
        cli, tmp_path, "both", "--no-smoke", "--label", "team=ml", "--label", "env=prod"
    )
    _, team = audit(cli, tmp_path, "team", "--no-smoke", "--label", "team=ml")
    expected = []
    for i in range(COUNT):
        kind = KINDS[i % len(KINDS)]
        labels = labels_for(i, kind)
        if labels["team"] == "ml" and labels["env"] == "prod":
            expected.append(f"scale-{kind}-{i:03d}")
    assert ids(both) == sorted(expected)
    # Index 1 has team=ml but env=dev.
    only_team = next(pid for pid in ids(team) if pid.endswith("-001"))
    assert only_team not in ids(both), "matching one of two labels must not be enough"
    assert set(ids(both)) < set(ids(team))


def test_shards_are_disjoint_add_up_to_the_whole_and_merge_into_the_unsharded_audit(
    cli: Cli, big_world: Emulator, tmp_path: Path
) -> None:
    whole_code, whole = audit(cli, tmp_path, "whole")
    shard_files = []
    shard_ids: list[set[str]] = []
    for k in range(1, 5):
        audit(cli, tmp_path, f"shard-{k}", "--shard", f"{k}/4")
        shard_files.append(str(tmp_path / f"shard-{k}.json"))
        shard_ids.append(set(ids(read_json(tmp_path / f"shard-{k}.json"))))
    assert all(shard_ids), "every shard of 204 projects gets some"
    assert sum(len(s) for s in shard_ids) == COUNT
    assert set().union(*shard_ids) == set(ids(whole))
    assert mutating(big_world) == []

    merged_path = tmp_path / "merged.json"
    merged = cli("report", "merge", *shard_files, "--format", "json", "--output", str(merged_path))
    assert merged.exit_code == whole_code == 2, merged.output  # findings, every read done
    report = read_json(merged_path)
    assert report["exit_code"] == whole["exit_code"]
    assert ids(report) == sorted(ids(whole))
    assert without_timing(report) == sorted(without_timing(whole), key=lambda p: p["project_id"])
    assert statuses(report) == statuses(whole)
    assert report["command"] == "audit"


def test_cloud_run_task_variables_select_the_same_shards_as_the_flag(
    cli: Cli, big_world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "4")
    from_env: list[list[str]] = []
    for index in range(4):
        monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", str(index))
        _, report = audit(cli, tmp_path, f"task-{index}", "--no-smoke")
        from_env.append(ids(report))
    monkeypatch.delenv("CLOUD_RUN_TASK_INDEX")
    monkeypatch.delenv("CLOUD_RUN_TASK_COUNT")
    _, first = audit(cli, tmp_path, "flag-1", "--no-smoke", "--shard", "1/4")
    assert from_env[0] == ids(first), "task index 0 is --shard 1/4"
    assert sum(len(s) for s in from_env) == COUNT
    assert len(set().union(*map(set, from_env))) == COUNT


def test_shard_sources_that_disagree_are_an_error_and_agreeing_ones_select_the_same_shard(
    cli: Cli, big_world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "4")
    monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", "3")
    clash = cli("audit", "--parent", PARENT, "--no-smoke", "--shard", "1/2")
    assert clash.exit_code == 1 and "Traceback" not in clash.output
    assert "--shard says 1/2" in clash.stderr and "Cloud Run Jobs says 4/4" in clash.stderr
    _, agreeing = audit(cli, tmp_path, "agreeing", "--no-smoke", "--shard", "4/4")
    _, from_env = audit(cli, tmp_path, "from-env", "--no-smoke")
    assert ids(agreeing) == ids(from_env) and agreeing["run"]["shard"] == {"index": 4, "count": 4}


def test_run_cli_is_the_console_entry_point() -> None:
    # Guards the helper itself: usage errors exit 1 through main(), never click's 2.
    assert run_cli(["audit", "--shard", "x"]).exit_code == 1

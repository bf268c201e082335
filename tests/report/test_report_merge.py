"""`report merge`: shard reports joined give the report of the unsharded run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import pytest

from bootstrap.errors import BootstrapError, Cause
from bootstrap.exitcodes import ExitCode, combine
from bootstrap.report.json_report import report_from_json
from bootstrap.report.merge import merge_reports
from bootstrap.report.model import ProjectReport, ProjectStatus, RunReport
from bootstrap.report.render import Format, render
from tests.report.report_samples import STARTED_AT, all_projects, full_report

_EXIT_OF_STATUS = {
    ProjectStatus.OK: ExitCode.OK,
    ProjectStatus.CHANGES: ExitCode.CHANGES,
    ProjectStatus.ACTION_REQUIRED: ExitCode.ACTION_REQUIRED,
    ProjectStatus.FAILED: ExitCode.ERROR,
}


def _shard_of(project_id: str, count: int) -> int:
    # The same rule as `--shard K/N`: sha256 of the project id.
    return int.from_bytes(hashlib.sha256(project_id.encode()).digest()[:8], "big") % count


def _run(projects: tuple[ProjectReport, ...], *, offset_s: float, duration_s: float) -> RunReport:
    return RunReport(
        command="audit",
        started_at=STARTED_AT + dt.timedelta(seconds=offset_s),
        duration_s=duration_s,
        exit_code=int(combine(_EXIT_OF_STATUS[p.status] for p in projects)),
        projects=tuple(sorted(projects, key=lambda p: p.project_id)),
        metrics={"retries": len(projects)},
    )


def _through_json(report: RunReport) -> RunReport:
    return report_from_json(json.loads(render(report, Format.JSON)))


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_merged_equal_the_unsharded_report(count: int) -> None:
    projects = all_projects()
    # Both sides go through JSON files (as `bootstrap report merge` reads them), which round
    # durations to the report's precision.
    whole = _through_json(_run(projects, offset_s=0, duration_s=30))
    shards = [
        _run(
            tuple(p for p in projects if _shard_of(p.project_id, count) == k),
            offset_s=k,
            duration_s=30 - k,
        )
        for k in range(count)
    ]
    merged = merge_reports([_through_json(shard) for shard in shards])
    assert merged.projects == whole.projects
    assert merged.summary() == whole.summary()
    assert merged.to_json()["summary"] == whole.to_json()["summary"]
    assert merged.exit_code == whole.exit_code
    assert (merged.started_at, merged.duration_s, merged.command) == (STARTED_AT, 30, "audit")
    assert render(merged, Format.JSON) == render(whole, Format.JSON)


def test_a_project_in_two_shards_is_an_error() -> None:
    report = full_report()
    with pytest.raises(BootstrapError) as raised:
        merge_reports([report, report])
    assert raised.value.failure.cause is Cause.INVALID_INPUT
    assert "demo-ready appears in more than one report" in str(raised.value)


def test_nothing_to_merge_is_an_error() -> None:
    with pytest.raises(BootstrapError):
        merge_reports([])


@pytest.mark.parametrize(
    ("codes", "expected"),
    [((0, 2, 3, 1), 1), ((0, 2, 3), 3), ((2, 0), 2), ((0, 0), 0), ((0, 130, 1), 130), ((7,), 1)],
)
def test_exit_codes_combine_with_precedence_1_3_2_0(codes: tuple[int, ...], expected: int) -> None:
    reports = [
        RunReport(command="audit", started_at=STARTED_AT, duration_s=1, exit_code=code)
        for code in codes
    ]
    assert merge_reports(reports).exit_code == expected


def test_different_commands_and_metrics_merge_honestly() -> None:
    base = RunReport(command="audit", started_at=STARTED_AT, duration_s=1, exit_code=0)
    a = dataclasses.replace(base, metrics={"retries": 2, "region": "eu", "shard": "1/2"})
    b = dataclasses.replace(
        base,
        command="smoke",
        warnings=("w1", "w2"),
        metrics={"retries": 3.5, "region": "eu", "shard": "2/2"},
    )
    c = dataclasses.replace(base, warnings=("w2",))
    merged = merge_reports([a, b, c])
    assert merged.command == "merge"
    assert merged.metrics == {"retries": 5.5, "region": "eu"}
    assert merged.warnings == ("w1", "w2")

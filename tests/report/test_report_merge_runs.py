"""`report merge` proves a set of shard reports is one whole run, or says what is wrong."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bootstrap.errors import BootstrapError
from bootstrap.exitcodes import ExitCode
from bootstrap.report.merge import merge_reports
from bootstrap.report.model import RunReport
from bootstrap.report.render import Format, render
from bootstrap.report.run import RunInfo
from tests.cli.cli_support import run_cli
from tests.report.report_samples import STARTED_AT, all_projects

COUNT = 3


def shard(
    k: int, *, run_id: str = "run-1", digest: str = "sha256:abc", count: int = COUNT
) -> RunReport:
    projects = all_projects()
    mine = tuple(p for i, p in enumerate(projects) if i % count == k - 1)
    return RunReport(
        command="audit",
        started_at=STARTED_AT,
        duration_s=1.0,
        exit_code=0,
        projects=mine,
        run=RunInfo(
            id=run_id,
            started_at=STARTED_AT,
            shard_index=k,
            shard_count=count,
            population_count=len(projects),
            population_digest=digest,
        ),
    )


def error_of(reports: list[RunReport], **options: bool) -> str:
    with pytest.raises(BootstrapError) as raised:
        merge_reports(reports, **options)
    return str(raised.value)


def test_every_shard_once_merges_into_one_unsharded_run() -> None:
    merged = merge_reports([shard(k) for k in range(1, COUNT + 1)])
    assert merged.run is not None and merged.run.shard_index is None and not merged.run.partial
    assert len(merged.projects) == len(all_projects())


def test_a_missing_shard_is_refused_naming_it_unless_partial_is_allowed() -> None:
    reports = [shard(1), shard(3)]
    assert "Shard(s) 2/3 of run run-1 are missing" in error_of(reports)
    merged = merge_reports(reports, allow_partial=True)
    assert merged.run is not None and merged.run.partial and merged.run.missing_shards == (2,)
    assert merged.exit_code == ExitCode.ERROR, "a partial merge proves nothing about shard 2"
    data = json.loads(render(merged, Format.JSON))
    assert data["run"]["partial"] is True and data["run"]["missing_shards"] == [2]


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ([shard(1), shard(1), shard(2), shard(3)], "given twice"),
        ([shard(1), shard(2), shard(3, run_id="run-2")], "more than one run id"),
        ([shard(1), shard(2), shard(3, digest="sha256:other")], "more than one population"),
        ([shard(1), dataclasses.replace(shard(2), run=None), shard(3)], "no run metadata"),
    ],
    ids=["repeated", "mixed-runs", "mixed-populations", "old-report"],
)
def test_sets_that_are_not_one_run_are_refused(reports: list[RunReport], message: str) -> None:
    assert message in error_of(reports)
    assert message in error_of(reports, allow_partial=True), "partial never excuses a mix-up"


def test_the_cli_merge_exits_non_zero_naming_the_missing_shard(tmp_path: Path) -> None:
    files = []
    for k in (1, 3):
        path = tmp_path / f"shard-{k}.json"
        path.write_text(render(shard(k), Format.JSON))
        files.append(str(path))
    refused = run_cli(["report", "merge", *files, "--format", "json"])
    assert refused.exit_code == ExitCode.ERROR and "2/3" in refused.stderr
    partial = run_cli(["report", "merge", *files, "--allow-partial", "--format", "json"])
    assert partial.exit_code == ExitCode.ERROR
    assert json.loads(partial.stdout)["run"]["missing_shards"] == [2]

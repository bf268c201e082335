"""Shards: balanced ranges, the schedulers' variables, the run id, the CI matrix."""

from __future__ import annotations

import datetime as dt

import pytest

from bootstrap.jobs.shard import (
    MAX_MATRIX,
    Shard,
    matrix,
    population_digest,
    run_id,
    select,
    shard_from,
)

IDS = [f"proj-{i:03d}" for i in range(30)]
DAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(("total", "count"), [(30, 3), (31, 3), (32, 3), (5, 8), (1000, 7)])
def test_shards_cover_the_population_once_with_sizes_within_one(total: int, count: int) -> None:
    ids = [f"p-{i:05d}" for i in range(total)]
    shards = [select(ids, Shard(index=k, count=count, source="--shard")) for k in range(count)]
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1
    assert sum(sizes) == total and set().union(*shards) == set(ids)


def test_thirty_projects_over_three_shards_split_ten_ten_ten() -> None:
    sizes = [len(select(IDS, Shard(index=k, count=3, source="--shard"))) for k in range(3)]
    assert sizes == [10, 10, 10]


@pytest.mark.parametrize(
    ("env", "shard_count", "label", "source"),
    [
        ({"CLOUD_RUN_TASK_INDEX": "1", "CLOUD_RUN_TASK_COUNT": "3"}, None, "2/3", "Cloud Run Jobs"),
        ({"BATCH_TASK_INDEX": "0", "BATCH_TASK_COUNT": "4"}, None, "1/4", "Cloud Batch"),
        ({"JOB_COMPLETION_INDEX": "4"}, 5, "5/5", "a Kubernetes Indexed Job"),
    ],
)
def test_each_schedulers_variables_are_honoured(
    env: dict[str, str], shard_count: int | None, label: str, source: str
) -> None:
    shard = shard_from(None, env, shard_count=shard_count)
    assert shard is not None and shard.label == label and shard.source == source


@pytest.mark.parametrize(
    ("spec", "env", "shard_count", "message"),
    [
        ("1/2", {"CLOUD_RUN_TASK_INDEX": "0", "CLOUD_RUN_TASK_COUNT": "3"}, None, "disagree"),
        (None, {"JOB_COMPLETION_INDEX": "1"}, None, "--shard-count"),
        (None, {"BATCH_TASK_INDEX": "4", "BATCH_TASK_COUNT": "4"}, None, "0 <= index < count"),
        (None, {"CLOUD_RUN_TASK_COUNT": "x"}, None, "must be integers"),
        ("0/3", {}, None, "1 <= K <= N"),
    ],
)
def test_bad_or_conflicting_sources_are_errors(
    spec: str | None, env: dict[str, str], shard_count: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("<", ".")):
        shard_from(spec, env, shard_count=shard_count)


def test_agreeing_sources_and_no_source() -> None:
    env = {"CLOUD_RUN_TASK_INDEX": "2", "CLOUD_RUN_TASK_COUNT": "3"}
    shard = shard_from("3/3", env, shard_count=None)
    assert shard is not None and shard.label == "3/3"
    assert shard_from(None, {}, shard_count=None) is None


def test_the_run_id_comes_from_the_flag_the_ci_or_the_population_and_day() -> None:
    digest = population_digest(IDS)
    assert digest == population_digest(list(reversed(IDS))), "order does not matter"
    assert (
        run_id("mine", {"GITHUB_RUN_ID": "9"}, command="audit", digest=digest, today=DAY) == "mine"
    )
    github = {"GITHUB_RUN_ID": "9", "GITHUB_RUN_ATTEMPT": "2", "CLOUD_RUN_EXECUTION": "x"}
    assert run_id(None, github, command="audit", digest=digest, today=DAY) == "github-9-2"
    assert (
        run_id(None, {"CLOUD_RUN_EXECUTION": "exec-1"}, command="audit", digest=digest, today=DAY)
        == "exec-1"
    )
    derived = run_id(None, {}, command="audit", digest=digest, today=DAY)
    assert derived == run_id(None, {}, command="audit", digest=digest, today=DAY)
    assert derived != run_id(None, {}, command="audit", digest=digest, today=DAY + dt.timedelta(1))
    assert derived != run_id(
        None, {}, command="audit", digest=population_digest(IDS[1:]), today=DAY
    )


def test_the_github_matrix_lists_every_shard_up_to_the_limit() -> None:
    assert matrix(3) == {"include": [{"shard": "1/3"}, {"shard": "2/3"}, {"shard": "3/3"}]}
    assert len(matrix(MAX_MATRIX)["include"]) == MAX_MATRIX
    with pytest.raises(ValueError):
        matrix(MAX_MATRIX + 1)

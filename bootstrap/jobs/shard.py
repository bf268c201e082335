"""Sharding a project list over N workers, and the identity of the run the shards belong to.

Shards are contiguous ranges of the sorted project ids, so for a known population their sizes
differ by at most one and they add up to the whole list exactly once. When the population
changes between runs the ranges move: a project may land in another shard next time (what stays
stable is that one run's shards cover its population exactly once; `report merge` checks it).

Where the shard comes from: `--shard K/N`, or the batch scheduler running the task: Cloud Run
Jobs (`CLOUD_RUN_TASK_INDEX`/`_COUNT`), Cloud Batch (`BATCH_TASK_INDEX`/`_COUNT`) or a Kubernetes
Indexed Job (`JOB_COMPLETION_INDEX`, with the count from `--shard-count N`). Two sources that
disagree are an error, never a guess. The run id ties the shards of one run together without
coordination: `--run-id`, else the CI's own run id, else one derived from the population, the
command and the UTC date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# (variable holding the index from 0, variable holding the count, scheduler name)
_SCHEDULERS = (
    ("CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT", "Cloud Run Jobs"),
    ("BATCH_TASK_INDEX", "BATCH_TASK_COUNT", "Cloud Batch"),
)
_INDEXED_JOB = "JOB_COMPLETION_INDEX"
# The CI's own id for a run, in the order they are tried.
_RUN_ID_VARIABLES = ("CLOUD_RUN_EXECUTION", "BATCH_JOB_UID")
MAX_MATRIX = 256  # GitHub Actions' limit on the jobs of one matrix


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    index: int  # from 0
    count: int
    source: str  # where it came from, for error messages: "--shard", "Cloud Batch", ...

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.count}"


def parse_shard(spec: str) -> tuple[int, int]:
    """`K/N` with K counted from 1 -> (index from 0, count)."""
    k_text, sep, n_text = spec.partition("/")
    try:
        k, n = int(k_text), int(n_text)
    except ValueError:
        k = n = 0
    if not sep or n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard {spec!r} must be K/N with 1 <= K <= N, e.g. 2/8")
    return k - 1, n


def shard_from(
    spec: str | None, env: Mapping[str, str], *, shard_count: int | None
) -> Shard | None:
    """The shard this task runs, from the flag and the schedulers' variables (ValueError when a
    value is bad or two sources disagree); None for an unsharded run."""
    found: list[Shard] = []
    if spec is not None:
        index, count = parse_shard(spec)
        found.append(Shard(index=index, count=count, source="--shard"))
    for index_var, count_var, name in _SCHEDULERS:
        if count_var in env:
            found.append(
                _from_env(env.get(index_var, "0"), env[count_var], name, index_var, count_var)
            )
    if _INDEXED_JOB in env:
        if shard_count is None:
            raise ValueError(f"{_INDEXED_JOB} is set: pass --shard-count N (the Job's completions)")
        found.append(_from_env(env[_INDEXED_JOB], str(shard_count), "a Kubernetes Indexed Job",
                               _INDEXED_JOB, "--shard-count"))  # fmt: skip
    if len({(s.index, s.count) for s in found}) > 1:
        said = "; ".join(f"{s.source} says {s.label}" for s in found)
        raise ValueError(f"the shard sources disagree ({said}): keep one")
    return found[0] if found else None


def _from_env(index: str, count: str, name: str, index_var: str, count_var: str) -> Shard:
    # A bad value must stop the run: an index past the count would select no project and
    # report the shard compliant.
    try:
        k, n = parse_shard(f"{int(index) + 1}/{int(count)}")
    except ValueError:
        raise ValueError(
            f"{name}: {index_var}={index!r} and {count_var}={count!r} must be integers with "
            "0 <= index < count (or pass --shard K/N)"
        ) from None
    return Shard(index=k, count=n, source=name)


def select(project_ids: Sequence[str], shard: Shard) -> set[str]:
    """The shard's contiguous range of the sorted ids: sizes differ by at most one."""
    ordered = sorted(project_ids)
    start = shard.index * len(ordered) // shard.count
    end = (shard.index + 1) * len(ordered) // shard.count
    return set(ordered[start:end])


def population_digest(project_ids: Sequence[str]) -> str:
    """A short hash of the sorted ids: shards of one population agree on it."""
    joined = "\n".join(sorted(project_ids)).encode()
    return "sha256:" + hashlib.sha256(joined).hexdigest()[:16]


def run_id(
    explicit: str | None, env: Mapping[str, str], *, command: str, digest: str, today: dt.date
) -> str:
    """`--run-id`, else the CI's run id, else derived (same population, command and UTC day give
    the same id on every shard; another day gives another)."""
    if explicit:
        return explicit
    if "GITHUB_RUN_ID" in env:
        return f"github-{env['GITHUB_RUN_ID']}-{env.get('GITHUB_RUN_ATTEMPT', '1')}"
    for variable in _RUN_ID_VARIABLES:
        if env.get(variable):
            return env[variable]
    seed = f"{command}\n{digest}\n{today.isoformat()}".encode()
    return f"{command}-{today.isoformat()}-{hashlib.sha256(seed).hexdigest()[:8]}"


def matrix(count: int) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions matrix of `count` shards: `{"include": [{"shard": "1/N"}, ...]}`."""
    if not 1 <= count <= MAX_MATRIX:
        raise ValueError(f"a matrix holds 1 to {MAX_MATRIX} shards, not {count}")
    return {"include": [{"shard": f"{k}/{count}"} for k in range(1, count + 1)]}

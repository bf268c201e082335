"""Joining shard reports (`bootstrap report merge`) into the report one unsharded run would give.

A set of shard reports is merged only when it is provably one whole run: one run id, one
population, every shard 1..N exactly once (a lost shard would otherwise read as "all ok"), and
disjoint projects. `allow_partial` merges a set with shards missing, and the result says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bootstrap.exitcodes import ExitCode, combine
from bootstrap.report.input_errors import ReportInputError
from bootstrap.report.model import ProjectReport, RunReport
from bootstrap.report.run import RunInfo

# The command of a merged report whose shards ran different commands.
MIXED_COMMAND = "merge"


def merge_reports(reports: Sequence[RunReport], *, allow_partial: bool = False) -> RunReport:
    """One report of all shards: projects sorted by id, exit codes combined (1, 3, 2, 0), the
    earliest start, the longest duration (shards run side by side), warnings without repeats
    and run-wide numeric metrics summed. A partial merge exits 1 at least: it proves nothing
    about the shards it lacks."""
    if not reports:
        raise _invalid("There are no reports to merge.", "Pass at least one report file.")
    run = merged_run(reports, allow_partial=allow_partial)
    projects = _disjoint_projects(reports)
    codes = [_exit_code(report.exit_code) for report in reports]
    if run is not None and run.partial:
        codes.append(ExitCode.ERROR)
    commands = {report.command for report in reports}
    return RunReport(
        command=commands.pop() if len(commands) == 1 else MIXED_COMMAND,
        started_at=min(report.started_at for report in reports),
        duration_s=max(report.duration_s for report in reports),
        exit_code=int(combine(codes)),
        projects=tuple(sorted(projects, key=lambda project: project.project_id)),
        warnings=tuple(dict.fromkeys(w for report in reports for w in report.warnings)),
        metrics=_merge_metrics(reports),
        run=run,
    )


def merged_run(reports: Sequence[RunReport], *, allow_partial: bool) -> RunInfo | None:
    """The run the reports make up together; raises when they are not one run's shards."""
    runs = [report.run for report in reports]
    if all(run is None for run in runs):
        return None  # reports written before runs were recorded: only disjointness is checked
    if any(run is None for run in runs):
        raise _invalid(
            "Some reports carry no run metadata (written by an older bootstrap).",
            "Rerun every shard with this version, then merge.",
        )
    known = [run for run in runs if run is not None]
    _same(
        known, lambda r: r.id, "run id", "Merge the shards of one run (see each report's run.id)."
    )
    _same(known, lambda r: (r.population_count, r.population_digest), "population",
          "The shards were cut from different project lists: rerun them from one list.")  # fmt: skip
    _same(known, lambda r: r.shard_count, "shard count", "Merge shards of one --shard K/N run.")
    missing = _missing_shards(known)
    if missing and not allow_partial:
        count = known[0].shard_count
        raise _invalid(
            f"Shard(s) {', '.join(f'{k}/{count}' for k in missing)} of run {known[0].id} are "
            "missing: the merged report would say nothing about their projects.",
            "Pass every shard's report, or --allow-partial to merge and mark the result partial.",
        )
    first = known[0]
    return replace(
        first,
        started_at=min(run.started_at for run in known),
        shard_index=None,
        shard_count=None,
        partial=bool(missing),
        missing_shards=tuple(missing),
    )


def _same(
    runs: Sequence[RunInfo], key: Callable[[RunInfo], object], what: str, remedy: str
) -> None:
    values = {key(run) for run in runs}
    if len(values) > 1:
        shown = ", ".join(sorted(str(v) for v in values))
        raise _invalid(f"The reports mix more than one {what} ({shown}).", remedy)


def _missing_shards(runs: Sequence[RunInfo]) -> list[int]:
    count = runs[0].shard_count
    if count is None:
        if len(runs) > 1:
            raise _invalid("More than one unsharded report of the same run.", "Merge shards only.")
        return []
    seen: set[int] = set()
    for run in runs:
        assert run.shard_index is not None
        if run.shard_index in seen:
            raise _invalid(
                f"Shard {run.shard_index}/{count} of run {run.id} is given twice.",
                "Pass each shard's report once.",
            )
        seen.add(run.shard_index)
    return [k for k in range(1, count + 1) if k not in seen]


def _disjoint_projects(reports: Sequence[RunReport]) -> list[ProjectReport]:
    seen: set[str] = set()
    projects: list[ProjectReport] = []
    for report in reports:
        for project in report.projects:
            if project.project_id in seen:
                raise _invalid(
                    f"Project {project.project_id} appears in more than one report, so these "
                    "are not shards of one run.",
                    "Merge the reports of one run's shards (--shard 1/N ... N/N), each once.",
                )
            seen.add(project.project_id)
            projects.append(project)
    return projects


def _exit_code(code: int) -> ExitCode:
    # A code this version does not know still means the shard did not succeed.
    try:
        return ExitCode(code)
    except ValueError:
        return ExitCode.ERROR


def _merge_metrics(reports: Sequence[RunReport]) -> dict[str, float | int | str]:
    """Numbers add up (counts, retries, waits); any other value survives only if all agree."""
    merged: dict[str, float | int | str] = {}
    disagreed: set[str] = set()
    for report in reports:
        for key, value in report.metrics.items():
            if key not in merged:
                merged[key] = value
                continue
            current = merged[key]
            if _is_number(current) and _is_number(value):
                merged[key] = current + value  # type: ignore[operator]
            elif current != value:
                disagreed.add(key)
    return {key: value for key, value in merged.items() if key not in disagreed}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _invalid(message: str, remedy: str) -> ReportInputError:
    return ReportInputError(message, remedy=remedy)

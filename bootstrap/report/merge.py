"""Joining shard reports (`bootstrap report merge`) into the report one unsharded run would give.

Shards split the project list, so their projects are disjoint: a project in two shards means the
inputs were mixed up (two runs, or the same shard twice), and merging them would hide that.
"""

from __future__ import annotations

from collections.abc import Sequence

from bootstrap.exitcodes import ExitCode, combine
from bootstrap.report.input_errors import ReportInputError
from bootstrap.report.model import ProjectReport, RunReport

# The command of a merged report whose shards ran different commands.
MIXED_COMMAND = "merge"


def merge_reports(reports: Sequence[RunReport]) -> RunReport:
    """One report of all shards: projects sorted by id, exit codes combined (1, 3, 2, 0), the
    earliest start, the longest duration (shards run side by side), warnings without repeats
    and run-wide numeric metrics summed."""
    if not reports:
        raise _invalid("There are no reports to merge.", "Pass at least one report file.")
    projects = _disjoint_projects(reports)
    commands = {report.command for report in reports}
    return RunReport(
        command=commands.pop() if len(commands) == 1 else MIXED_COMMAND,
        started_at=min(report.started_at for report in reports),
        duration_s=max(report.duration_s for report in reports),
        exit_code=int(combine(_exit_code(report.exit_code) for report in reports)),
        projects=tuple(sorted(projects, key=lambda project: project.project_id)),
        warnings=tuple(dict.fromkeys(w for report in reports for w in report.warnings)),
        metrics=_merge_metrics(reports),
    )


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

"""From reconcile results to report values and exit codes: the one place that decides statuses.

Pure functions over values: a project's status comes from its checks and changes, a run's exit
code from its projects with the precedence 1, 3, 2, 0 (see `bootstrap.exitcodes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from bootstrap.checks import Check, CheckStatus
from bootstrap.exitcodes import Command, ExitCode, check_exit_code, combine
from bootstrap.plan.model import ChangeOutcome
from bootstrap.reconcile.results import ProjectResult
from bootstrap.report.model import (
    ChangeReport,
    CheckReport,
    ProjectReport,
    ProjectStatus,
    RunReport,
)
from bootstrap.report.run import RunInfo

# Most severe first: a project's status is that of its most severe check.
_PROJECT_STATUS: tuple[tuple[frozenset[CheckStatus], ProjectStatus], ...] = (
    (frozenset({CheckStatus.FAILED}), ProjectStatus.FAILED),
    (frozenset({CheckStatus.ACTION_REQUIRED}), ProjectStatus.ACTION_REQUIRED),
    (frozenset({CheckStatus.UNKNOWN}), ProjectStatus.UNKNOWN),
    (frozenset({CheckStatus.PROPAGATING}), ProjectStatus.PROPAGATING),
    (frozenset({CheckStatus.PENDING, CheckStatus.NOT_RUN}), ProjectStatus.CHANGES),
)


def project_status(checks: Iterable[Check], changes: Iterable[ChangeReport]) -> ProjectStatus:
    """The most severe of the checks' statuses; a project is ok only when every check passed
    (or was turned off by the user)."""
    statuses = {check.status for check in checks}
    outcomes = {change.outcome for change in changes}
    if ChangeOutcome.FAILED in outcomes:
        return ProjectStatus.FAILED
    for members, status in _PROJECT_STATUS:
        if statuses & members:
            return status
    if ChangeOutcome.PLANNED in outcomes:
        return ProjectStatus.CHANGES
    return ProjectStatus.OK


def project_report(result: ProjectResult, extra_checks: Sequence[Check] = ()) -> ProjectReport:
    """One project's report: its last plan's checks, what happened to each change, and smoke."""
    changes = tuple(
        ChangeReport(
            action=item.change.action.value,
            target=item.change.target,
            reason=item.change.reason
            if item.failure is None
            else f"{item.change.reason} (failed: {item.failure.message})",
            outcome=item.outcome,
        )
        for item in result.changes
    )
    checks = [*result.plan.checks, *extra_checks]
    reports = tuple(_check_report(check, result.gate_waits_s.get(check.name)) for check in checks)
    return ProjectReport(
        project_id=result.project_id,
        status=project_status(checks, changes),
        changes=changes,
        checks=reports,
    )


def _check_report(check: Check, gate_wait_s: float | None = None) -> CheckReport:
    """`gate_wait_s`: how long this step's readiness gate waited in this run, when it did."""
    metrics = dict(check.metrics)
    if gate_wait_s is not None:
        metrics["gate_wait_s"] = round(gate_wait_s, 3)
    return CheckReport(
        name=check.name,
        status=check.status,
        cause=check.cause.value if check.cause else None,
        remedy=check.remedy,
        duration_ms=check.duration_ms,
        detail=check.detail,
        metrics=metrics,
    )


def exit_code(command: Command, projects: Iterable[ProjectReport]) -> ExitCode:
    """Every check's exit code for this command (`bootstrap.exitcodes`), combined; a failed
    change is an error, a planned one pending (plan, audit) or not done (apply)."""
    codes: list[ExitCode] = []
    for project in projects:
        codes.extend(check_exit_code(command, check.status) for check in project.checks)
        for change in project.changes:
            if change.outcome is ChangeOutcome.FAILED:
                codes.append(ExitCode.ERROR)
            elif change.outcome is ChangeOutcome.PLANNED:
                codes.append(ExitCode.ERROR if command is Command.APPLY else ExitCode.CHANGES)
    return combine(codes)


def run_report(
    command: Command,
    projects: Sequence[ProjectReport],
    *,
    started_at: dt.datetime,
    duration_s: float,
    warnings: Sequence[str] = (),
    metrics: dict[str, float | int | str] | None = None,
    run: RunInfo | None = None,
) -> RunReport:
    return RunReport(
        command=command.value,
        started_at=started_at,
        duration_s=duration_s,
        # A run that could not see all it should have (a partial discovery) proves nothing
        # about the rest: it cannot pass.
        exit_code=int(
            combine(
                [
                    exit_code(command, projects),
                    ExitCode.ERROR if run and run.partial else ExitCode.OK,
                ]
            )
        ),
        projects=tuple(projects),
        warnings=tuple(warnings),
        metrics=dict(metrics or {}),
        run=run,
    )

"""From reconcile results to report values and exit codes: the one place that decides statuses.

Pure functions over values: a project's status comes from its checks and changes, a run's exit
code from its projects with the precedence 1, 3, 2, 0 (see `bootstrap.exitcodes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum

from bootstrap.checks import Check, CheckStatus
from bootstrap.exitcodes import ExitCode, combine
from bootstrap.plan.model import ChangeOutcome
from bootstrap.reconcile.results import ProjectResult
from bootstrap.report.model import (
    ChangeReport,
    CheckReport,
    ProjectReport,
    ProjectStatus,
    RunReport,
)


class Command(StrEnum):
    PLAN = "plan"
    APPLY = "apply"
    AUDIT = "audit"
    SMOKE = "smoke"
    DEMO = "demo"


def project_status(checks: Iterable[Check], changes: Iterable[ChangeReport]) -> ProjectStatus:
    checks = list(checks)
    changes = list(changes)
    statuses = {check.status for check in checks}
    if CheckStatus.FAILED in statuses or any(c.outcome is ChangeOutcome.FAILED for c in changes):
        return ProjectStatus.FAILED
    if CheckStatus.ACTION_REQUIRED in statuses:
        return ProjectStatus.ACTION_REQUIRED
    if CheckStatus.PENDING in statuses or any(c.outcome is ChangeOutcome.PLANNED for c in changes):
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
            outcome=ChangeOutcome(item.outcome),
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
    """plan: 0/2/3/1; apply and smoke: 0/3/1; audit: 0, 2 for any finding, 1 errors."""
    codes = []
    for project in projects:
        match project.status:
            case ProjectStatus.FAILED:
                codes.append(ExitCode.ERROR)
            case ProjectStatus.ACTION_REQUIRED:
                codes.append(
                    ExitCode.CHANGES if command is Command.AUDIT else ExitCode.ACTION_REQUIRED
                )
            case ProjectStatus.CHANGES:
                codes.append(ExitCode.ERROR if command is Command.APPLY else ExitCode.CHANGES)
            case ProjectStatus.OK:
                codes.append(ExitCode.OK)
    return combine(codes)


def run_report(
    command: Command,
    projects: Sequence[ProjectReport],
    *,
    started_at: dt.datetime,
    duration_s: float,
    warnings: Sequence[str] = (),
    metrics: dict[str, float | int | str] | None = None,
) -> RunReport:
    return RunReport(
        command=command.value,
        started_at=started_at,
        duration_s=duration_s,
        exit_code=int(exit_code(command, projects)),
        projects=tuple(projects),
        warnings=tuple(warnings),
        metrics=dict(metrics or {}),
    )

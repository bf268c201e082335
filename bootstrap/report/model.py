"""The run report: the one value every command produces and every renderer reads.

Its JSON form (`to_json`) is versioned and stable (`schema_version`); `docs/report.schema.json`
describes it and a test keeps the two in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bootstrap.plan import CheckStatus

SCHEMA_VERSION = 1


class ProjectStatus(StrEnum):
    OK = "ok"
    CHANGES = "changes"
    ACTION_REQUIRED = "action_required"
    FAILED = "failed"


class ChangeOutcome(StrEnum):
    PLANNED = "planned"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"  # not attempted: blocked by an earlier failure in the same project


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeReport:
    action: str
    target: str
    reason: str
    outcome: ChangeOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    name: str
    status: CheckStatus
    cause: str | None = None
    remedy: str = ""
    duration_ms: float = 0.0
    detail: str = ""
    metrics: dict[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectReport:
    project_id: str
    status: ProjectStatus
    changes: tuple[ChangeReport, ...] = ()
    checks: tuple[CheckReport, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    command: str
    started_at: dt.datetime  # timezone-aware UTC
    duration_s: float
    exit_code: int
    projects: tuple[ProjectReport, ...] = ()
    warnings: tuple[str, ...] = ()
    metrics: dict[str, float | int | str] = field(default_factory=dict)  # run-wide counts

    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in ProjectStatus}
        for project in self.projects:
            counts[project.status.value] += 1
        counts["projects"] = len(self.projects)
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "started_at": self.started_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "duration_s": round(self.duration_s, 3),
            "exit_code": self.exit_code,
            "projects": [_project_json(project) for project in self.projects],
            "summary": {**self.summary(), **self.metrics},
            "warnings": list(self.warnings),
        }


def _project_json(project: ProjectReport) -> dict[str, Any]:
    return {
        "project_id": project.project_id,
        "status": project.status.value,
        "changes": [
            {
                "action": change.action,
                "target": change.target,
                "reason": change.reason,
                "outcome": change.outcome.value,
            }
            for change in project.changes
        ],
        "checks": [
            {
                "name": check.name,
                "status": check.status.value,
                "cause": check.cause,
                "remedy": check.remedy,
                "duration_ms": round(check.duration_ms, 1),
                "detail": check.detail,
                "metrics": dict(check.metrics),
            }
            for check in project.checks
        ],
    }

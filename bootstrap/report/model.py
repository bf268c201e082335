"""The run report: the one value every command produces and every renderer reads.

Its JSON form (`to_json`) is versioned and stable (`schema_version`); `docs/report.schema.json`
describes it and a test keeps the two in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bootstrap.checks import CheckStatus
from bootstrap.plan.model import ChangeOutcome
from bootstrap.report.run import RunInfo

SCHEMA_VERSION = 2  # 2 added `run`; version 1 reports are still read
READABLE_VERSIONS = (1, 2)
CHANGED = "changed"  # the summary key of projects ok after this run changed them


class ProjectStatus(StrEnum):
    """The most severe status among a project's checks (see `bootstrap.jobs.status`)."""

    OK = "ok"
    CHANGES = "changes"  # pending changes, or checks waiting on them
    PROPAGATING = "propagating"  # a change landed; the data plane does not see it yet
    UNKNOWN = "unknown"  # something could not be read or verified
    ACTION_REQUIRED = "action_required"
    FAILED = "failed"


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

    @property
    def changed_to_ok(self) -> bool:
        """Ok after this run applied changes to it."""
        return self.status is ProjectStatus.OK and any(
            change.outcome is ChangeOutcome.APPLIED for change in self.changes
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    command: str
    started_at: dt.datetime  # timezone-aware UTC
    duration_s: float
    exit_code: int
    projects: tuple[ProjectReport, ...] = ()
    warnings: tuple[str, ...] = ()
    metrics: dict[str, float | int | str] = field(default_factory=dict)  # run-wide counts
    run: RunInfo | None = None  # which run (and shard) this report belongs to

    def summary(self) -> dict[str, int]:
        """Projects per status, as the table counts them: `ok` projects this run changed count
        as `changed`, not `ok`."""
        counts = {status.value: 0 for status in ProjectStatus} | {CHANGED: 0}
        for project in self.projects:
            counts[CHANGED if project.changed_to_ok else project.status.value] += 1
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
            "run": self.run.to_json() if self.run else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunReport:
        """The report `to_json` produced (raises KeyError/ValueError on a malformed dict)."""
        return report_from_json_dict(data)


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


def _counts_keys() -> frozenset[str]:
    """Keys `summary()` computes; everything else in a JSON summary is a run-wide metric."""
    return frozenset({*(status.value for status in ProjectStatus), CHANGED, "projects"})


def report_from_json_dict(data: dict[str, Any]) -> RunReport:
    """The inverse of `RunReport.to_json` for a well-formed dict (raises KeyError/ValueError).

    Callers reading files should use `bootstrap.report.report_from_json`, which turns these
    errors into a sentence naming the file.
    """
    version = data["schema_version"]
    if version not in READABLE_VERSIONS:
        raise ValueError(f"schema_version {version!r} is not one of {READABLE_VERSIONS}")
    started_at = dt.datetime.fromisoformat(str(data["started_at"]).replace("Z", "+00:00"))
    if started_at.tzinfo is None:
        raise ValueError("started_at has no time zone")
    summary = data.get("summary", {})
    return RunReport(
        command=str(data["command"]),
        started_at=started_at.astimezone(dt.UTC),
        duration_s=float(data["duration_s"]),
        exit_code=int(data["exit_code"]),
        projects=tuple(_project_from_json(project) for project in data["projects"]),
        warnings=tuple(str(warning) for warning in data.get("warnings", ())),
        metrics={key: value for key, value in summary.items() if key not in _counts_keys()},
        run=RunInfo.from_json(data["run"]) if data.get("run") else None,
    )


def _project_from_json(data: dict[str, Any]) -> ProjectReport:
    return ProjectReport(
        project_id=str(data["project_id"]),
        status=ProjectStatus(data["status"]),
        changes=tuple(
            ChangeReport(
                action=str(change["action"]),
                target=str(change["target"]),
                reason=str(change["reason"]),
                outcome=ChangeOutcome(change["outcome"]),
            )
            for change in data.get("changes", ())
        ),
        checks=tuple(
            CheckReport(
                name=str(check["name"]),
                status=CheckStatus(check["status"]),
                cause=None if check.get("cause") is None else str(check["cause"]),
                remedy=str(check.get("remedy", "")),
                duration_ms=float(check.get("duration_ms", 0.0)),
                detail=str(check.get("detail", "")),
                metrics=dict(check.get("metrics", {})),
            )
            for check in data.get("checks", ())
        ),
    )

"""The draft every planner step shares: what the steps have decided so far for one project.

Each step reads the desired and observed values plus what the earlier steps decided, and adds
at most one change and its checks. Pure: no I/O, no clock (the date is passed in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bootstrap.checks import Check, CheckStatus, depends_on
from bootstrap.cloud.observed import Observed
from bootstrap.errors import Cause
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import Change


@dataclass(slots=True)
class Draft:
    """What the steps have decided so far for one project."""

    desired: DesiredProject
    observed: Observed
    as_of: dt.date
    allow_relink: bool
    probe: bool
    findings: bool = False  # audit: word pending checks as findings, not as changes
    changes: list[Change] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    creating: bool = False
    billing_on: bool = False  # on now, or turned on by a planned change
    services_on: bool = False  # enabled now, or by a planned change
    fixes_blockers: bool = False  # the plan changes billing or services (so BLOCKED may clear)

    @property
    def pid(self) -> str:
        return self.desired.project_id

    def status_of(self, name: str) -> CheckStatus | None:
        return next((c.status for c in reversed(self.checks) if c.name == name), None)

    def pending(self, name: str, *, finding: str, change: str) -> None:
        """A pending check, worded as a finding in an audit and as a change in plan and apply."""
        self.check(name, CheckStatus.PENDING, finding if self.findings else change)

    def check(self, name: str, status: CheckStatus, detail: str, **extra: object) -> None:
        cause = extra.get("cause")
        remedy = extra.get("remedy", "")
        self.checks.append(
            Check(
                name=name,
                status=status,
                cause=cause if isinstance(cause, Cause) else None,
                remedy=remedy if isinstance(remedy, str) else "",
                detail=detail,
            )
        )


def unreadable(d: Draft, name: str, what: str, fallback_remedy: str = "") -> None:
    """An unknown check for a read that failed, with that read's own failure when observe kept
    one (the read has the check's name)."""
    failure = d.observed.failures.get(name)
    d.check(
        name,
        CheckStatus.UNKNOWN,
        failure.message if failure else f"Project {d.pid}: {what}.",
        cause=failure.cause if failure else Cause.UNKNOWN,
        remedy=failure.remedy if failure else fallback_remedy,
    )


def not_run(d: Draft, name: str, dependency: str) -> None:
    """A check that cannot be judged because the check `dependency` is not ok."""
    d.check(
        name,
        CheckStatus.NOT_RUN,
        f"Project {d.pid}: {depends_on(dependency, d.status_of(dependency))}.",
    )

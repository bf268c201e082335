"""The draft every planner step shares: what the steps have decided so far for one project.

Each step reads the desired and observed values plus what the earlier steps decided, and adds
at most one change and its checks. Pure: no I/O, no clock (the date is passed in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bootstrap.checks import Check, CheckStatus
from bootstrap.cloud.observed import Observed
from bootstrap.errors import Cause, Failure
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
    changes: list[Change] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    creating: bool = False
    billing_on: bool = False  # on now, or turned on by a planned change
    services_on: bool = False  # enabled now, or by a planned change
    fixes_blockers: bool = False  # the plan changes billing or services (so BLOCKED may clear)

    @property
    def pid(self) -> str:
        return self.desired.project_id

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


def first_failure(observed: Observed, *causes: Cause) -> Failure | None:
    """The first read failure observe recorded, preferring the given causes."""
    for failure in observed.failures:
        if not causes or failure.cause in causes:
            return failure
    return observed.failures[0] if observed.failures else None


def unreadable(d: Draft, name: str, what: str, fallback_remedy: str = "") -> None:
    """A failed check for a read that failed: the read's own failure, when observe kept one."""
    failure = first_failure(d.observed)
    d.check(
        name,
        CheckStatus.FAILED,
        failure.message if failure else f"Project {d.pid}: {what}.",
        cause=failure.cause if failure else Cause.UNKNOWN,
        remedy=failure.remedy if failure else fallback_remedy,
    )

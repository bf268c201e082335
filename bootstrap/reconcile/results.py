"""The values a reconcile run produces: per-project results and what happened to each change.

Kept apart from the reconciler and the apply steps so that reports and jobs can read results
without importing the machinery that makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bootstrap.cloud.observed import Observed
from bootstrap.errors import Failure
from bootstrap.plan.model import Change, ChangeOutcome, ProjectPlan
from bootstrap.reconcile.events import EventSink as EventSink  # (project_id, event value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeResult:
    change: Change
    outcome: ChangeOutcome
    failure: Failure | None = None
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectResult:
    """Everything one project's run produced: the last plan and what happened to each change."""

    project_id: str
    plan: ProjectPlan
    changes: tuple[ChangeResult, ...] = ()
    observed: Observed | None = None
    gate_waits_s: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0

"""The values a reconcile run produces and is driven by: options, and per-project results.

Kept apart from the reconciler and the apply steps so that reports and jobs can read results
without importing the machinery that makes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from bootstrap.errors import Failure
from bootstrap.observed import Observed
from bootstrap.plan import Change, ProjectPlan

EventSink = Callable[[str, str], None]  # (project_id, message)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    as_of: dt.date
    apply: bool = False
    allow_relink: bool = False
    probe: bool = True
    preflight: bool = True
    concurrency: int = 16
    gate_deadline_s: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeResult:
    change: Change
    outcome: str  # planned | applied | failed | skipped
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

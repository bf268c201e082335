"""Pure planning: Desired x Observed -> Plan. No I/O; the same inputs always give the same plan.

A plan is a closed set of changes (each with an action, a target, a user-facing reason and a
display symbol) plus checks (what was verified, what blocks, what needs a person). Presentation
fields never drive behaviour: apply reads only `action` and the typed fields of each change.
Nothing in a plan ever disables an API, unlinks billing or deletes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.errors import Cause


class Action(StrEnum):
    CREATE_PROJECT = "create_project"
    LINK_BILLING = "link_billing"
    ENABLE_SERVICES = "enable_services"
    ENABLE_MODEL = "enable_model"


SYMBOLS: dict[Action, str] = {
    Action.CREATE_PROJECT: "+",
    Action.LINK_BILLING: "~",
    Action.ENABLE_SERVICES: "+",
    Action.ENABLE_MODEL: "+",
}

# The order in which apply executes changes within a project.
ACTION_ORDER: tuple[Action, ...] = (
    Action.CREATE_PROJECT,
    Action.LINK_BILLING,
    Action.ENABLE_SERVICES,
    Action.ENABLE_MODEL,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One mutation apply will make. Typed fields drive apply; `reason` is for people."""

    action: Action
    target: str  # projects/ID, billingAccounts/ID, a service list, or a publisher model name
    reason: str
    project_id: str
    billing_account: str | None = None  # LINK_BILLING
    services: tuple[str, ...] = ()  # ENABLE_SERVICES
    publisher_model: str | None = None  # ENABLE_MODEL
    parent: str | None = None  # CREATE_PROJECT
    display_name: str | None = None  # CREATE_PROJECT
    labels: dict[str, str] = field(default_factory=dict)  # CREATE_PROJECT
    relink: bool = False  # LINK_BILLING over another account (only with --allow-relink)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.action]


class CheckStatus(StrEnum):
    OK = "ok"
    PENDING = "pending"  # a planned change will fix it
    CHANGED = "changed"  # apply fixed it in this run
    ACTION_REQUIRED = "action_required"  # a person must act
    FAILED = "failed"
    SKIPPED = "skipped"  # not checked (blocked by an earlier step, or --no-probe)
    WARNING = (
        "warning"  # informational difference, never changed (e.g. labels on an existing project)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One verified fact about a project: `project`, `billing`, `services`, `permissions`,
    `model:<alias>@<location>` or `smoke:<alias>@<location>`."""

    name: str
    status: CheckStatus
    cause: Cause | None = None
    remedy: str = ""
    detail: str = ""
    duration_ms: float = 0.0
    metrics: dict[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectPlan:
    project_id: str
    changes: tuple[Change, ...] = ()
    checks: tuple[Check, ...] = ()

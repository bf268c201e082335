"""The plan as values: the closed set of actions, a change, a project's plan, and their order.

A plan is a closed set of changes (each with an action, a target, a user-facing reason and a
display symbol) plus checks (what was verified, what blocks, what needs a person). Presentation
fields never drive behaviour: apply reads only `action` and the typed fields of each change.
Nothing in a plan ever disables an API, unlinks billing or deletes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.checks import BILLING, PROJECT, SERVICES, Check


class Action(StrEnum):
    CREATE_PROJECT = "create_project"
    LINK_BILLING = "link_billing"
    ENABLE_SERVICES = "enable_services"
    ENABLE_MODEL = "enable_model"
    GRANT_ROLE = "grant_role"


SYMBOLS: dict[Action, str] = {
    Action.CREATE_PROJECT: "+",
    Action.LINK_BILLING: "~",
    Action.ENABLE_SERVICES: "+",
    Action.ENABLE_MODEL: "+",
    Action.GRANT_ROLE: "+",
}

# The order in which apply executes changes within a project.
ACTION_ORDER: tuple[Action, ...] = (
    Action.CREATE_PROJECT,
    Action.LINK_BILLING,
    Action.ENABLE_SERVICES,
    Action.ENABLE_MODEL,
    Action.GRANT_ROLE,
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
    member: str | None = None  # GRANT_ROLE: the IAM member to add
    role: str | None = None  # GRANT_ROLE: the role whose unconditional binding gets it

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.action]


class ChangeOutcome(StrEnum):
    """What happened to a planned change in a run."""

    PLANNED = "planned"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"  # not attempted: blocked by an earlier failure in the same project


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectPlan:
    project_id: str
    changes: tuple[Change, ...] = ()
    checks: tuple[Check, ...] = ()


# The check each action fixes (the model action fixes one `model:` check per location; a grant
# fixes the `access:<member>` check of its member).
CHECK_FOR_ACTION: dict[Action, str] = {
    Action.CREATE_PROJECT: PROJECT,
    Action.LINK_BILLING: BILLING,
    Action.ENABLE_SERVICES: SERVICES,
}

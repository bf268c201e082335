"""The planner's steps for the project, billing and services, and the draft every step shares.

Each step reads the desired and observed values plus what the earlier steps decided (`Draft`),
and adds at most one change and its checks. Pure: no I/O, no clock (the date is passed in). The
models step, which also takes a `Draft`, is in `bootstrap.plan_models`.

Decisions the rest of the tool relies on:
- Every required API is treated as needing billing (the MaaS ones all do), so services are only
  enabled when billing is on or a planned link turns it on.
- A project linked to a closed account X (billingEnabled false) while the manifest names an open
  account Y is a relink: drift for a person unless `--allow-relink`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bootstrap import remedies
from bootstrap.desired import DesiredProject
from bootstrap.errors import Cause, Failure
from bootstrap.observed import (
    Observed,
    ObservedBilling,
    ProjectState,
    ServiceState,
)
from bootstrap.plan import Action, Change, Check, CheckStatus


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


# --- project ----------------------------------------------------------------------------------


def plan_project_step(d: Draft) -> bool:
    """The `project` check and maybe `create_project`. False: nothing else can be planned."""
    project = d.observed.project
    if project is None:
        unreadable(d, "project", "could not be read")
        return False
    if project.state is ProjectState.DELETE_REQUESTED:
        d.check(
            "project",
            CheckStatus.FAILED,
            f"Project {d.pid} is scheduled for deletion (DELETE_REQUESTED); nothing will be changed.",
            cause=Cause.PROJECT_DELETE_REQUESTED,
            remedy=f"gcloud projects undelete {d.pid}",
        )
        return False
    if project.state is ProjectState.NOT_FOUND:
        return _missing_project(d)
    _project_differences(d)
    return True


def _missing_project(d: Draft) -> bool:
    if not d.desired.create:
        d.check(
            "project",
            CheckStatus.FAILED,
            f"Project {d.pid} does not exist or the caller cannot see it, and the manifest does "
            "not say create: true.",
            cause=Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN,
            remedy="Check the project id, grant roles/browser on it, or set create: true.",
        )
        return False
    where = f" under {d.desired.parent}" if d.desired.parent else ""
    d.changes.append(
        Change(
            action=Action.CREATE_PROJECT,
            target=f"projects/{d.pid}",
            reason=f"Project {d.pid} does not exist and the manifest says create: true{where}.",
            project_id=d.pid,
            parent=d.desired.parent,
            display_name=d.desired.display_name,
            labels=dict(d.desired.labels),
        )
    )
    d.creating = True
    d.check("project", CheckStatus.PENDING, f"Project {d.pid} will be created{where}.")
    return True


def _project_differences(d: Draft) -> None:
    """Labels and display name are reported, never changed, on an existing project."""
    project = d.observed.project
    assert project is not None
    notes: list[str] = []
    wanted = d.desired.display_name
    if wanted is not None and project.display_name is not None and wanted != project.display_name:
        notes.append(f"display name is {project.display_name!r}, the manifest says {wanted!r}")
    differing = sorted(
        key for key, value in d.desired.labels.items() if project.labels.get(key) != value
    )
    if differing:
        notes.append("labels differ: " + ", ".join(differing))
    if notes:
        d.check(
            "project",
            CheckStatus.WARNING,
            f"Project {d.pid}: " + "; ".join(notes) + " (informational; existing projects are "
            "never modified).",
        )
    else:
        d.check("project", CheckStatus.OK, f"Project {d.pid} is ACTIVE.")


# --- billing ----------------------------------------------------------------------------------


def plan_billing_step(d: Draft) -> None:
    billing = ObservedBilling(account=None, enabled=False) if d.creating else d.observed.billing
    if billing is None:
        unreadable(d, "billing", "billing could not be read", remedies.billing_console(d.pid))
        return
    wanted = d.desired.billing_account
    if billing.enabled:
        d.billing_on = True
        current = billing.account
        if d.desired.link_billing and wanted and current is not None and current != wanted:
            _linked_elsewhere(d, current, closed=False)
        else:
            d.check("billing", CheckStatus.OK, f"Project {d.pid}: billing is enabled.")
        return
    if not d.desired.link_billing:
        d.check(
            "billing",
            CheckStatus.ACTION_REQUIRED,
            f"Project {d.pid} has no active billing and the manifest does not say link_billing: true.",
            cause=Cause.BILLING_DISABLED,
            remedy=remedies.link_billing(d.pid, wanted),
        )
        return
    _link_when_off(d, billing, wanted)


def _link_when_off(d: Draft, billing: ObservedBilling, wanted: str | None) -> None:
    if not wanted:  # the loader rejects this; never plan a link with an empty account
        d.check(
            "billing",
            CheckStatus.FAILED,
            f"Project {d.pid}: link_billing is true but no billing_account is given.",
            cause=Cause.INVALID_INPUT,
            remedy="Set billing_account: 012345-6789AB-CDEF01 in the manifest.",
        )
        return
    info = d.observed.billing_account
    if billing.account == wanted or (info is not None and not info.open):
        d.check(
            "billing",
            CheckStatus.FAILED,
            f"Project {d.pid}: billing account {wanted} is closed; linking it would leave billing "
            "off, so nothing is sent.",
            cause=Cause.BILLING_ACCOUNT_CLOSED,
            remedy=f"Reopen {wanted} or name an open account: {remedies.billing_console(d.pid)}",
        )
        return
    if billing.account is not None:  # linked to another (closed) account: a relink
        _linked_elsewhere(d, billing.account, closed=True)
        return
    _add_link(d, wanted, relink=False, reason=f"Project {d.pid} has no billing account.")


def _linked_elsewhere(d: Draft, current: str, *, closed: bool) -> None:
    wanted = d.desired.billing_account
    assert wanted
    state = "closed account" if closed else "account"
    info = d.observed.billing_account
    # Relinking an enabled project to an account not known to be open could switch billing off.
    safe = closed or (info is not None and info.open)
    if d.allow_relink and safe:
        _add_link(
            d,
            wanted,
            relink=True,
            reason=f"Project {d.pid} is linked to {state} {current}; --allow-relink moves it to {wanted}.",
        )
        return
    why = "" if d.allow_relink else " Rerun with --allow-relink to move it."
    if d.allow_relink and not safe:
        why = f" Not relinked: {wanted} could not be confirmed open."
    d.check(
        "billing",
        CheckStatus.ACTION_REQUIRED,
        f"Project {d.pid} is linked to {state} {current}, not {wanted}.{why}",
        cause=Cause.BILLING_LINKED_ELSEWHERE,
        remedy=remedies.link_billing(d.pid, wanted),
    )


def _add_link(d: Draft, account: str, *, relink: bool, reason: str) -> None:
    d.changes.append(
        Change(
            action=Action.LINK_BILLING,
            target=f"billingAccounts/{account}",
            reason=reason,
            project_id=d.pid,
            billing_account=account,
            relink=relink,
        )
    )
    d.billing_on = True
    d.fixes_blockers = True
    d.check("billing", CheckStatus.PENDING, f"{reason} It will be linked to {account}.")


# --- services ---------------------------------------------------------------------------------


def plan_services_step(d: Draft) -> None:
    required = d.desired.services
    if not required:
        d.services_on = True
        return
    states = {} if d.creating else d.observed.services
    if states is None:
        unreadable(d, "services", "API states could not be read")
        return
    missing = tuple(s for s in required if states.get(s) is not ServiceState.ENABLED)
    if not missing:
        d.services_on = True
        d.check("services", CheckStatus.OK, f"Project {d.pid}: {', '.join(required)} enabled.")
        return
    listed = ", ".join(missing)
    if not d.billing_on:
        d.check(
            "services",
            CheckStatus.ACTION_REQUIRED,
            f"Project {d.pid}: {listed} cannot be enabled until billing is on.",
            cause=Cause.BILLING_REQUIRED_TO_ENABLE,
            remedy="turn billing on first (the billing check says how), then rerun apply",
        )
        return
    d.changes.append(
        Change(
            action=Action.ENABLE_SERVICES,
            target=f"projects/{d.pid}/services",
            reason=f"Project {d.pid}: required APIs not enabled: {listed}.",
            project_id=d.pid,
            services=missing,
        )
    )
    d.services_on = True
    d.fixes_blockers = True
    d.check("services", CheckStatus.PENDING, f"Project {d.pid}: will enable {listed}.")

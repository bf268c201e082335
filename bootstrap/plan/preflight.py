"""The permission preflight: which permissions a plan needs, and the plan without what is denied.

`required_permissions` lists, per resource, what the planned changes need (the reconciler asks
testIamPermissions for exactly those); `apply_preflight` drops the changes a missing permission
blocks, and their dependents, and adds a failed `permissions` check. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bootstrap import remedies
from bootstrap.checks import (
    ACCESS_PREFIX,
    PERMISSIONS,
    PROJECT,
    Check,
    CheckStatus,
    depends_on,
    is_model_check,
)
from bootstrap.cloud.observed import PermissionReport
from bootstrap.errors import Cause
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import CHECK_FOR_ACTION, Action, Change, ProjectPlan

# Which permission each action needs, and on which side: the project, the parent (create) or the
# billing account (link). The project side of a link is createBillingAssignment.
_PROJECT_PERMISSION: dict[Action, str] = {
    Action.LINK_BILLING: "resourcemanager.projects.createBillingAssignment",
    Action.ENABLE_SERVICES: "serviceusage.services.enable",
    Action.ENABLE_MODEL: "consumerprocurement.consents.grant",
    Action.GRANT_ROLE: "resourcemanager.projects.setIamPolicy",
}
# Permissions whose need is not confirmed by Google (evidence row 18: enableModel's permission is
# cut off in the docs). Missing one only warns: the real call decides.
UNVERIFIED_PERMISSIONS = frozenset({"consumerprocurement.consents.grant"})
CREATE_PERMISSION = "resourcemanager.projects.create"
LINK_PERMISSION = "billing.resourceAssociations.create"


def required_permissions(
    plan: ProjectPlan, desired: DesiredProject
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per resource, the permissions the planned changes need: the parent (create), the project,
    the billing account (link), in that order.

    A project this plan creates is skipped on the project side: it cannot be tested before it
    exists, and its creator becomes its owner. A create without a parent cannot be tested either.
    """
    return _required(plan, desired.parent)


def _required(plan: ProjectPlan, parent: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    creating = any(c.action is Action.CREATE_PROJECT for c in plan.changes)
    wanted: dict[str, list[str]] = {}
    for change in plan.changes:
        for resource, permission in _needs(change, parent, creating=creating):
            perms = wanted.setdefault(resource, [])
            if permission not in perms:
                perms.append(permission)
    return tuple(sorted(((r, tuple(p)) for r, p in wanted.items()), key=_resource_rank))


def _needs(change: Change, parent: str | None, *, creating: bool) -> list[tuple[str, str]]:
    project = f"projects/{change.project_id}"
    if change.action is Action.CREATE_PROJECT:
        where = change.parent or parent
        return [(where, CREATE_PERMISSION)] if where else []
    needs = [] if creating else [(project, _PROJECT_PERMISSION[change.action])]
    if change.action is Action.LINK_BILLING and change.billing_account:
        needs.append((f"billingAccounts/{change.billing_account}", LINK_PERMISSION))
    return needs


def _resource_rank(item: tuple[str, tuple[str, ...]]) -> tuple[int, str]:
    kind = item[0].partition("/")[0]
    order = {"organizations": 0, "folders": 0, "projects": 1, "billingAccounts": 2}
    return order.get(kind, 3), item[0]


def apply_preflight(plan: ProjectPlan, reports: Sequence[PermissionReport]) -> ProjectPlan:
    """Drop every change whose permission the preflight found missing, and the changes that
    depend on it (no project -> nothing; no billing link -> no APIs; no APIs -> no model), and add
    a failed `permissions` check naming each missing permission with the role that grants it.

    When a project's preflight granted none of the permissions asked for, the message says what
    that means: the caller has no role on the project or the project is missing (testIamPermissions
    answers an empty set, not an error) - not that each permission was individually denied. The
    preflight can fail open, so the real call stays authoritative for what it lets through.
    A missing permission Google does not confirm (`UNVERIFIED_PERMISSIONS`) blocks nothing: it
    only warns, and the data plane decides.
    """
    asked = dict(_required(plan, None))
    # The project was read in this run: the caller has some role on it (a viewer, say).
    readable = any(c.name == PROJECT and c.status is CheckStatus.OK for c in plan.checks)
    blocked: set[Action] = set()
    lines: list[str] = []
    doubts: list[str] = []
    remedy = ""
    for report in reports:
        refused = tuple(p for p in report.missing if p not in UNVERIFIED_PERMISSIONS)
        doubts += [_unverified_line(report.resource, p) for p in report.missing if p not in refused]
        if not refused:
            continue
        lines.append(_missing_line(report, asked.get(report.resource, ()), refused, readable))
        remedy = remedy or remedies.grant_permission(refused[0], report.resource)
        blocked |= _blocked_actions(plan, replace(report, missing=refused))
    if not lines:
        return _warn(plan, doubts) if doubts else plan
    blocked |= _dependents(plan, blocked)
    kept = tuple(c for c in plan.changes if c.action not in blocked)
    checks = tuple(_skip_blocked(c, blocked) for c in plan.checks if c.name != PERMISSIONS)
    check = Check(
        name=PERMISSIONS,
        status=CheckStatus.FAILED,
        cause=Cause.PERMISSION_DENIED,
        remedy=remedy,
        detail=f"Project {plan.project_id}: "
        + " ".join([*lines, *doubts])
        + " Blocked changes are not sent.",
    )
    return replace(plan, changes=kept, checks=(*checks, check))


def _unverified_line(resource: str, permission: str) -> str:
    return (
        f"{permission} ({remedies.role_for(permission)}) is missing on {resource}, but Google "
        "does not confirm that enableModel needs it (unverified): the change is still sent and "
        "Vertex AI's answer decides."
    )


def _warn(plan: ProjectPlan, doubts: list[str]) -> ProjectPlan:
    """Only unverified permissions are missing: nothing is dropped, the check warns."""
    checks = tuple(c for c in plan.checks if c.name != PERMISSIONS)
    check = Check(
        name=PERMISSIONS,
        status=CheckStatus.WARNING,
        remedy=remedies.grant_permission(
            sorted(UNVERIFIED_PERMISSIONS)[0], f"projects/{plan.project_id}"
        ),
        detail=f"Project {plan.project_id}: " + " ".join(doubts),
    )
    return replace(plan, checks=(*checks, check))


def _missing_line(
    report: PermissionReport, asked: tuple[str, ...], refused: tuple[str, ...], readable: bool
) -> str:
    granted_none = report.resource.startswith("projects/") and set(asked) <= set(report.missing)
    listed = ", ".join(f"{p} ({remedies.role_for(p)})" for p in refused)
    if granted_none and asked and readable:
        # Not "no role": it read the project. Its roles are read-only for this work.
        return (
            f"the preflight on {report.resource} granted none of the permissions asked for "
            f"({listed}): the caller can read the project, but its roles there (read-only, "
            "such as roles/viewer) grant none of these; the roles named are missing."
        )
    if granted_none and asked:
        return (
            f"the preflight on {report.resource} granted none of the permissions asked for "
            f"({listed}): the caller has no role on the project or it is missing."
        )
    return f"missing on {report.resource}: {listed}."


def _blocked_actions(plan: ProjectPlan, report: PermissionReport) -> set[Action]:
    """The planned actions that need one of the report's missing permissions on its resource."""
    missing = set(report.missing)
    blocked: set[Action] = set()
    for change in plan.changes:
        if any(
            r == report.resource and p in missing for r, p in _needs(change, None, creating=False)
        ):
            blocked.add(change.action)
    return blocked


def _dependents(plan: ProjectPlan, blocked: set[Action]) -> set[Action]:
    """Actions that cannot succeed once an earlier one is not sent."""
    planned = {c.action for c in plan.changes}
    out = set(blocked)
    if Action.CREATE_PROJECT in out:
        out |= planned
    relink = any(c.relink for c in plan.changes if c.action is Action.LINK_BILLING)
    if Action.LINK_BILLING in out and not relink:  # billing stays off: nothing can be enabled
        out |= {Action.ENABLE_SERVICES, Action.ENABLE_MODEL}
    if Action.ENABLE_SERVICES in out:
        out.add(Action.ENABLE_MODEL)
    return out


def _skip_blocked(check: Check, blocked: set[Action]) -> Check:
    """A pending check whose change is not sent is not run: it depends on `permissions`."""
    if check.status is not CheckStatus.PENDING:
        return check
    names = {CHECK_FOR_ACTION[a] for a in blocked if a in CHECK_FOR_ACTION}
    is_model = is_model_check(check.name) and Action.ENABLE_MODEL in blocked
    is_access = check.name.startswith(ACCESS_PREFIX) and Action.GRANT_ROLE in blocked
    if check.name not in names and not (is_model or is_access):
        return check
    return replace(
        check,
        status=CheckStatus.NOT_RUN,
        detail=f"{check.detail} Not sent: {depends_on(PERMISSIONS, CheckStatus.FAILED)}.",
    )

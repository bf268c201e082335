"""Pure planning: Desired x Observed -> Plan. No I/O; the same inputs always give the same plan.

The steps run in dependency order, one module each (project, billing, policy, services,
models, access), all writing into one `Draft`; a step that cannot proceed stops the steps that need it.
"""

from __future__ import annotations

from datetime import date

from bootstrap.cloud.observed import Observed
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.access import plan_access_step
from bootstrap.plan.billing import plan_billing_step
from bootstrap.plan.draft import Draft
from bootstrap.plan.model import ACTION_ORDER, ProjectPlan
from bootstrap.plan.models import plan_models_step
from bootstrap.plan.policy import plan_policy_step
from bootstrap.plan.project import plan_project_step
from bootstrap.plan.quota import plan_quota_step
from bootstrap.plan.services import plan_services_step


def plan_project(
    desired: DesiredProject,
    observed: Observed,
    *,
    as_of: date,
    allow_relink: bool = False,
    probe: bool = True,
    findings: bool = False,
) -> ProjectPlan:
    """The changes that make `observed` match `desired`, and the checks that explain them.

    Pure: no I/O. Only the four additive actions ever appear. Permission preflight is separate
    (`bootstrap.plan.preflight`), so re-planning never applies it twice.
    """
    draft = Draft(
        desired=desired,
        observed=observed,
        as_of=as_of,
        allow_relink=allow_relink,
        probe=probe,
        findings=findings,
    )
    if plan_project_step(draft):
        plan_billing_step(draft)
        plan_policy_step(draft)
        plan_services_step(draft)
        plan_models_step(draft)
        plan_quota_step(draft)
        plan_access_step(draft)
    changes = sorted(draft.changes, key=lambda c: ACTION_ORDER.index(c.action))
    return ProjectPlan(
        project_id=desired.project_id, changes=tuple(changes), checks=tuple(draft.checks)
    )

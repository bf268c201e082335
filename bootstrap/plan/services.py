"""The planner's services step: the `services` check and maybe `enable_services`.

Every required API is treated as needing billing (the MaaS ones all do), so services are only
enabled when billing is on or a planned link turns it on, and none while the effective org policy
forbids a missing one (the policy check says who must act).
"""

from __future__ import annotations

from bootstrap.checks import BILLING, POLICY, SERVICES, CheckStatus
from bootstrap.cloud.observed import ServiceState
from bootstrap.errors import Cause
from bootstrap.plan.draft import Draft, not_run, unreadable
from bootstrap.plan.model import Action, Change
from bootstrap.plan.policy import denied_services


def plan_services_step(d: Draft) -> None:
    required = d.desired.services
    if not required:
        d.services_on = True
        return
    states = {} if d.creating else d.observed.services
    if states is None:
        unreadable(d, SERVICES, "API states could not be read")
        return
    missing = tuple(s for s in required if states.get(s) is not ServiceState.ENABLED)
    if not missing:
        d.services_on = True
        d.check(SERVICES, CheckStatus.OK, f"Project {d.pid}: {', '.join(required)} enabled.")
        return
    if denied_services(d).keys() & set(missing):
        not_run(d, SERVICES, POLICY)  # enabling an API the org policy forbids is never sent
    elif d.billing_on:
        _enable(d, missing)
    elif d.status_of(BILLING) is CheckStatus.UNKNOWN:
        not_run(d, SERVICES, BILLING)  # unknown billing is not "off"
    else:
        d.check(
            SERVICES,
            CheckStatus.ACTION_REQUIRED,
            f"Project {d.pid}: {', '.join(missing)} cannot be enabled until billing is on.",
            cause=Cause.BILLING_REQUIRED_TO_ENABLE,
            remedy="turn billing on first (the billing check says how), then rerun apply",
        )


def _enable(d: Draft, missing: tuple[str, ...]) -> None:
    listed = ", ".join(missing)
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
    d.pending(
        SERVICES,
        finding=f"Project {d.pid}: {listed} not enabled; apply enables them.",
        change=f"Project {d.pid}: will enable {listed}.",
    )

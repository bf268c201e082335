"""`bootstrap smoke` without a plan: a vague data-plane refusal re-explained from the project's state.

Vertex AI's chat route answers alike for different states: SERVICE_DISABLED both when the API is
off and in the minutes after it was enabled, and "not found or forbidden" for a project being
deleted. `bootstrap smoke` reads no state before streaming, so a remedy written from the answer
alone can be wrong: `gcloud services enable` fails while billing is off, "is disabled" misleads
for an API that is on and propagating, and "grant roles/browser" cannot revive a deleted project.
After a stream fails that way, the project, its billing and its APIs are read once, and the
check's cause, detail and remedy come from what they say (billing first, then the APIs, then
propagation). When the state cannot be read, the data plane's words stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bootstrap import remedies
from bootstrap.checks import Check, CheckStatus
from bootstrap.cloud.observed import ProjectState, ServiceState
from bootstrap.cloud.protocol import Cloud
from bootstrap.errors import BootstrapError, Cause, Failure
from bootstrap.manifest.desired import DesiredProject

# The causes whose data-plane answer does not tell the project's state apart.
VAGUE = frozenset(
    {Cause.SERVICE_DISABLED, Cause.BILLING_DISABLED, Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN}
)


def explain_from_state(
    cloud: Cloud, projects: Sequence[DesiredProject], checks: Mapping[str, list[Check]]
) -> dict[str, list[Check]]:
    """`checks` with each vague smoke failure re-explained from its project's state."""
    explained = dict(checks)
    for desired in projects:
        mine = checks.get(desired.project_id, [])
        vague = [c for c in mine if c.status is CheckStatus.FAILED and c.cause in VAGUE]
        if not vague:
            continue
        causes = {c.cause for c in vague if c.cause is not None}
        failure = _state_failure(cloud, desired, causes)
        if failure is None:
            continue
        explained[desired.project_id] = [
            replace(c, cause=failure.cause, detail=failure.message, remedy=failure.remedy)
            if c in vague
            else c
            for c in mine
        ]
    return explained


def _state_failure(cloud: Cloud, desired: DesiredProject, causes: set[Cause]) -> Failure | None:
    """What the project's state says is wrong, or None to keep the data plane's explanation."""
    pid = desired.project_id
    try:
        project = cloud.get_project(pid)
        if project.state is ProjectState.DELETE_REQUESTED:
            return Failure(
                cause=Cause.PROJECT_DELETE_REQUESTED,
                message=f"Project {pid} is scheduled for deletion (DELETE_REQUESTED), so Vertex "
                "AI refuses its calls.",
                remedy=f"{remedies.undelete_project(pid)} (possible within 30 days of the "
                "deletion request), then rerun",
            )
        if project.state is not ProjectState.ACTIVE:
            return None  # missing or hidden: the data plane's words say just that
        billing = cloud.get_billing(pid)
        if not billing.enabled:
            return _billing_off(desired, billing.account)
        states = cloud.get_services(pid, desired.services)
    except BootstrapError:
        return None
    off = [s for s in desired.services if states.get(s) is not ServiceState.ENABLED]
    if off:
        return Failure(
            cause=Cause.SERVICE_DISABLED,
            message=f"Project {pid}: {', '.join(off)} not enabled.",
            remedy=remedies.enable_api(pid, " ".join(off)),
        )
    if Cause.SERVICE_DISABLED not in causes:
        return None
    return Failure(
        cause=Cause.SERVICE_DISABLED,
        message=f"Project {pid}: {', '.join(desired.services)} enabled, still propagating: "
        "Vertex AI answers as if disabled for a few minutes after an API is enabled.",
        remedy="wait, then rerun; bootstrap smoke --wait-ready 10m waits for it",
    )


def _billing_off(desired: DesiredProject, linked: str | None) -> Failure:
    """Billing first: no API can be enabled (nor called) until it is on."""
    pid = desired.project_id
    then = ", then enable the APIs (bootstrap apply does both)"
    if linked is None:
        return Failure(
            cause=Cause.BILLING_DISABLED,
            message=f"Project {pid} has no billing account, so its APIs can be neither enabled "
            "nor called.",
            remedy=f"link billing first: {remedies.link_billing(pid, desired.billing_account)}"
            + then,
        )
    # Linked to an account that does not enable billing (closed or disabled): linking it again
    # changes nothing; another account (or reopening this one) does.
    other = desired.billing_account if desired.billing_account != linked else None
    return Failure(
        cause=Cause.BILLING_DISABLED,
        message=f"Project {pid} is linked to billing account {linked}, which does not enable "
        "billing (closed or disabled), so its APIs can be neither enabled nor called.",
        remedy=f"link an open billing account first: {remedies.link_billing(pid, other)}, or "
        f"reopen {linked}: {remedies.billing_console(pid)}" + then,
    )

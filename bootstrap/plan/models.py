"""The planner's models step: one check per model and location, and the enable it may need.

Each desired model is judged in each of its locations from what observe saw (the probe's access
state), falling back to the catalog only when nothing was observed (no probe, or blocked): a
retired model or a location the catalog does not list then fails without a call. A model whose
probe says BLOCKED (or, for a project this plan creates, was never probed) is treated as "not
enabled" when this plan fixes what blocks it; otherwise the check is skipped. A model not enabled
in some location gets one `ENABLE_MODEL` change when the manifest says `enable: true`, unless the
effective org policy forbids the model (then the check waits on the policy check). Pure: no
I/O, no clock.
"""

from __future__ import annotations

import datetime as dt

from bootstrap import catalog, remedies
from bootstrap.checks import BILLING, PASSED, POLICY, PROJECT, SERVICES, CheckStatus, model_check
from bootstrap.cloud.observed import ModelAccess, ObservedModel
from bootstrap.errors import Cause
from bootstrap.manifest.desired import DesiredModel
from bootstrap.plan.draft import Draft, not_run
from bootstrap.plan.model import Action, Change
from bootstrap.plan.policy import denied_models

# Causes that a probe reports as NO_ACCESS but that keep their own cause in the model check.
GUARD_CAUSES = frozenset({Cause.ORG_POLICY_DENIED, Cause.VPC_SC_BLOCKED, Cause.QUOTA_ZERO})


def plan_models_step(d: Draft) -> None:
    for model in d.desired.models:
        needs_enable = [_plan_location(d, model, location) for location in model.locations]
        if any(needs_enable) and model.enable:
            d.changes.append(
                Change(
                    action=Action.ENABLE_MODEL,
                    target=model.publisher_model,
                    reason=f"Project {d.pid}: {model.alias} is not enabled and the manifest says "
                    "enable: true.",
                    project_id=d.pid,
                    publisher_model=model.publisher_model,
                )
            )


def _observed_model(d: Draft, model: DesiredModel, location: str) -> ObservedModel | None:
    for seen in d.observed.models:
        if seen.location == location and model.publisher_model in (
            seen.publisher_model,
            seen.alias,
        ):
            return seen
    return None


def _plan_location(d: Draft, model: DesiredModel, location: str) -> bool:
    """Add the `model:<alias>@<location>` check; True when enableModel is needed there."""
    name = model_check(model.alias, location)
    seen = None if d.creating else _observed_model(d, model, location)
    access = seen.access if seen is not None else ModelAccess.UNKNOWN
    if d.creating and d.probe:
        access = ModelAccess.BLOCKED  # a new project: nothing to probe yet, every step is planned
    if access is ModelAccess.ENABLED:
        d.check(
            name,
            CheckStatus.OK,
            f"Project {d.pid}: {_lifecycle(model, d.as_of)} and enabled in {location}"
            f"{_evidence_note(model, location)}.",
        )
        return False
    if model.publisher_model in denied_models(d):
        not_run(d, name, POLICY)  # the org policy forbids it: no enableModel is ever planned
        return False
    if _judged_unavailable(d, name, model, location, access, seen):
        return False
    if access is ModelAccess.BLOCKED and _left_blocked(d, name, model, location, seen):
        return False
    if not (d.billing_on and d.services_on):
        not_run(d, name, _blocker(d))
        return False
    if access is ModelAccess.BLOCKED or d.creating:
        return _unblocked_by_plan(d, name, model, location)
    return _not_enabled(d, name, model, location)


def _unblocked_by_plan(d: Draft, name: str, model: DesiredModel, location: str) -> bool:
    """The probe could not say (APIs or billing off, or no project yet) and this plan turns
    them on: enable: true plans the enable (apply probes first and sends it only if needed);
    otherwise the check waits on the step that blocks it, never "not enabled"."""
    if not model.enable:
        not_run(d, name, PROJECT if d.creating else _blocker_in_plan(d))
        return False
    d.pending(
        name,
        finding=f"Project {d.pid}: {model.alias} in {location} cannot be probed until the plan's "
        "earlier changes land; apply then enables it if needed (enable: true)"
        f"{_evidence_note(model, location)}.",
        change=f"Project {d.pid}: {model.alias} will be enabled ({location}) if it is not already.",
    )
    return True


def _blocker_in_plan(d: Draft) -> str:
    return BILLING if d.status_of(BILLING) is CheckStatus.PENDING else SERVICES


def _judged_unavailable(
    d: Draft,
    name: str,
    model: DesiredModel,
    location: str,
    access: ModelAccess,
    seen: ObservedModel | None,
) -> bool:
    """Checks for a model that cannot be enabled here, or whose state is unknown; True if added."""
    if access is ModelAccess.NOT_OFFERED and _withdrawn_here(model, location):
        _withdrawn(d, name, model, location)
        return True
    if access in (ModelAccess.NOT_OFFERED, ModelAccess.RETIRED, ModelAccess.NO_ACCESS):
        _unavailable(d, name, model, location, access, seen)
        return True
    if access in (ModelAccess.UNKNOWN, ModelAccess.BLOCKED) and _catalog_refuses(
        d, name, model, location
    ):
        return True
    if access is ModelAccess.UNKNOWN:
        _unknown(d, name, seen)
        return True
    return False


def _left_blocked(
    d: Draft, name: str, model: DesiredModel, location: str, seen: ObservedModel | None
) -> bool:
    """A blocked probe that this plan does not unblock; True if its check was added."""
    if not ((d.billing_on and d.services_on) or d.creating):
        not_run(d, name, _blocker(d))  # that check says what is wrong and how to fix it
        return True
    if d.fixes_blockers or d.creating:
        return False
    # Billing and the APIs read as on, yet the data plane still refuses: the change has not
    # reached it yet (Google: up to minutes), which is neither "enabled" nor "not enabled".
    failure = seen.failure if seen else None
    d.check(
        name,
        CheckStatus.PROPAGATING,
        f"Project {d.pid}: billing and the APIs read as enabled, but {model.alias} in {location} "
        "still answers as if they were not"
        + (f" ({failure.message})" if failure else "")
        + "; the change is still propagating.",
        cause=failure.cause if failure else None,
        remedy="wait a few minutes, or rerun with --wait-ready 10m",
    )
    return True


def _blocker(d: Draft) -> str:
    """The earlier check a model check waits on: billing, else services."""
    return BILLING if d.status_of(BILLING) not in PASSED else SERVICES


def _not_enabled(d: Draft, name: str, model: DesiredModel, location: str) -> bool:
    if model.enable:
        d.pending(
            name,
            finding=f"Project {d.pid}: {model.alias} is not enabled in {location}"
            f"{_evidence_note(model, location)}; apply enables it (enable: true).",
            change=f"Project {d.pid}: {model.alias} will be enabled ({location}).",
        )
        return True
    publisher, _, model_id = model.publisher_model.removeprefix("publishers/").partition("/models/")
    console = catalog.model_garden_console_url(publisher, model_id, d.pid)
    d.check(
        name,
        CheckStatus.ACTION_REQUIRED,
        f"Project {d.pid}: {model.alias} is not enabled in {location} and the manifest says "
        "enable: false, so a person must enable it (this accepts the publisher's terms).",
        cause=Cause.MODEL_NOT_ENABLED,
        remedy=f"{console} or {remedies.enable_model_rest(d.pid, model.publisher_model)}",
    )
    return False


def _withdrawn_here(model: DesiredModel, location: str) -> bool:
    """The service says "not servable in region" (NOT_OFFERED, evidence row 13) where the catalog
    lists the location: the offer was withdrawn, or the catalog's source was wrong. A 404 says
    nothing about the location (unknown model or no access), so it never counts here."""
    entry = catalog.lookup(model.publisher_model)
    return entry is not None and location in entry.locations


def _withdrawn(d: Draft, name: str, model: DesiredModel, location: str) -> None:
    d.check(
        name,
        CheckStatus.FAILED,
        f"Project {d.pid}: Vertex AI answers that {model.alias} is not servable in {location}, "
        f"although the catalog lists it there{_evidence_note(model, location)}; the service's "
        "answer decides, so it is not offered there now.",
        cause=Cause.MODEL_NOT_OFFERED_IN_LOCATION,
        remedy=f"Remove {location} from {model.alias}'s locations in the manifest.",
    )


def _evidence_note(model: DesiredModel, location: str) -> str:
    """Says when the catalog's location rests on unverified evidence (a secondary source)."""
    entry = catalog.lookup(model.publisher_model)
    if entry is None or location not in entry.unverified_locations:
        return ""
    return f" ({location} rests on unverified evidence; the probe's answer decides)"


def _unavailable(
    d: Draft,
    name: str,
    model: DesiredModel,
    location: str,
    access: ModelAccess,
    seen: ObservedModel | None,
) -> None:
    cause = {
        ModelAccess.NOT_OFFERED: Cause.MODEL_NOT_OFFERED_IN_LOCATION,
        ModelAccess.RETIRED: Cause.MODEL_RETIRED,
        ModelAccess.NO_ACCESS: Cause.MODEL_NOT_FOUND_OR_NO_ACCESS,
    }[access]
    failure = seen.failure if seen else None
    if failure is not None and failure.cause in GUARD_CAUSES:
        # A guard (org policy, perimeter, zero quota) answered: its own cause and remedy say
        # who must act; enabling cannot lift it.
        d.check(
            name,
            CheckStatus.ACTION_REQUIRED,
            failure.message,
            cause=failure.cause,
            remedy=failure.remedy,
        )
        return
    words = {
        ModelAccess.NOT_OFFERED: "is not offered in",
        ModelAccess.RETIRED: "is retired in",
        ModelAccess.NO_ACCESS: "was not found or is not accessible in",
    }[access]
    d.check(
        name,
        CheckStatus.FAILED,
        failure.message if failure else f"Project {d.pid}: {model.alias} {words} {location}.",
        cause=cause,
        remedy=failure.remedy if failure and failure.remedy else _model_remedy(model, cause),
    )


def _model_remedy(model: DesiredModel, cause: Cause) -> str:
    entry = catalog.lookup(model.publisher_model)
    if cause is Cause.MODEL_NOT_OFFERED_IN_LOCATION and entry is not None:
        return f"Use one of these locations for {model.alias}: {', '.join(entry.locations)}."
    if cause is Cause.MODEL_RETIRED:
        return f"Remove {model.alias} from the manifest or switch to another model."
    return catalog.model_garden_console_url(*_publisher_and_id(model))


def _publisher_and_id(model: DesiredModel) -> tuple[str, str]:
    publisher, _, model_id = model.publisher_model.removeprefix("publishers/").partition("/models/")
    return publisher, model_id


def _catalog_refuses(d: Draft, name: str, model: DesiredModel, location: str) -> bool:
    """With no observation, the catalog alone rules out retired models and unlisted locations."""
    entry = catalog.lookup(model.publisher_model)
    if entry is None:
        return False
    if entry.lifecycle(d.as_of) is catalog.Lifecycle.RETIRED:
        d.check(
            name,
            CheckStatus.FAILED,
            f"Project {d.pid}: {entry.lifecycle_note(d.as_of)}.",
            cause=Cause.MODEL_RETIRED,
            remedy=_model_remedy(model, Cause.MODEL_RETIRED),
        )
        return True
    if location not in entry.locations:
        d.check(
            name,
            CheckStatus.FAILED,
            f"Project {d.pid}: {model.alias} is not offered in {location} per the catalog.",
            cause=Cause.MODEL_NOT_OFFERED_IN_LOCATION,
            remedy=_model_remedy(model, Cause.MODEL_NOT_OFFERED_IN_LOCATION),
        )
        return True
    return False


def _unknown(d: Draft, name: str, seen: ObservedModel | None) -> None:
    failure = seen.failure if seen else None
    if not d.probe or failure is None:
        why = " (--no-probe)" if not d.probe else ""
        d.check(
            name,
            CheckStatus.UNKNOWN,
            f"Project {d.pid}: not probed{why}, so whether it is enabled is not known; no enable "
            "is planned, and only a passing smoke test can prove it.",
        )
        return
    d.check(
        name,
        CheckStatus.UNKNOWN,
        failure.message,
        cause=failure.cause,
        remedy=failure.remedy or "Rerun the command; the probe is read-only.",
    )


def _lifecycle(model: DesiredModel, as_of: dt.date) -> str:
    entry = catalog.lookup(model.publisher_model)
    return entry.lifecycle_note(as_of) if entry is not None else model.alias

"""The planner as a pure function: a table of desired/observed values -> changes and checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bootstrap.catalog import AIPLATFORM, CONSUMER_PROCUREMENT
from bootstrap.checks import CheckStatus
from bootstrap.cloud.observed import (
    BillingAccountInfo,
    ModelAccess,
    Observed,
    ObservedBilling,
    ObservedModel,
    ObservedProject,
    PermissionReport,
    ProjectState,
    ServiceState,
)
from bootstrap.errors import Cause, Failure
from bootstrap.manifest.desired import DesiredModel, DesiredProject
from bootstrap.plan.model import Action, ProjectPlan
from bootstrap.plan.planner import plan_project
from bootstrap.plan.preflight import apply_preflight, required_permissions

P = "demo-proj"
ACC = "012345-6789AB-CDEF01"
OTHER = "0AAAAA-BBBBBB-CCCCCC"
DAY = dt.date(2026, 1, 15)
M120 = "publishers/openai/models/gpt-oss-120b-maas"
M20 = "publishers/openai/models/gpt-oss-20b-maas"
SERVICES = (AIPLATFORM, CONSUMER_PROCUREMENT)


def model(
    enable: bool = True, locations: tuple[str, ...] = ("global",), pm: str = M120
) -> DesiredModel:
    alias = "gpt-oss-120b" if pm == M120 else "gpt-oss-20b"
    return DesiredModel(
        ref=alias,
        alias=alias,
        publisher_model=pm,
        request_model=pm.replace("publishers/", "").replace("/models", ""),
        locations=locations,
        enable=enable,
    )


def desired(**kw: Any) -> DesiredProject:
    base: dict[str, Any] = {
        "project_id": P,
        "link_billing": True,
        "billing_account": ACC,
        "models": (model(),),
    }
    base.update(kw)
    return DesiredProject(**base)


def seen(access: ModelAccess, location: str = "global", pm: str = M120, **kw: Any) -> ObservedModel:
    alias = "gpt-oss-120b" if pm == M120 else "gpt-oss-20b"
    return ObservedModel(publisher_model=pm, alias=alias, location=location, access=access, **kw)


ON = ObservedBilling(account=ACC, enabled=True)


def observed(
    *,
    state: ProjectState = ProjectState.ACTIVE,
    billing: ObservedBilling | None = ON,
    account_open: bool | None = True,
    services: dict[str, ServiceState] | None = None,
    models: tuple[ObservedModel, ...] = (seen(ModelAccess.ENABLED),),
    **kw: Any,
) -> Observed:
    return Observed(
        project_id=P,
        project=ObservedProject(project_id=P, state=state, number="123"),
        billing=billing,
        billing_account=None
        if account_open is None
        else BillingAccountInfo(account_id=ACC, open=account_open),
        services={s: ServiceState.ENABLED for s in SERVICES} if services is None else services,
        models=models,
        **kw,
    )


NO_BILLING = ObservedBilling(account=None, enabled=False)
OFF = {s: ServiceState.DISABLED for s in SERVICES}
MISSING = observed(state=ProjectState.NOT_FOUND, billing=None, services=None, models=())
BLOCKED = (seen(ModelAccess.BLOCKED),)
NOT_ENABLED = (seen(ModelAccess.NOT_ENABLED),)

# name: (desired, observed, kwargs, expected actions, {check name: (status, cause or None)})
CASES: dict[str, tuple[DesiredProject, Observed, dict[str, Any], list[Action], dict[str, tuple[CheckStatus, Cause | None]]]] = {
    "converged": (desired(), observed(), {}, [], {
        "project": (CheckStatus.OK, None), "billing": (CheckStatus.OK, None),
        "services": (CheckStatus.OK, None), "model:gpt-oss-120b@global": (CheckStatus.OK, None)}),
    "fresh": (desired(), observed(billing=NO_BILLING, services=OFF, models=BLOCKED), {},
              [Action.LINK_BILLING, Action.ENABLE_SERVICES, Action.ENABLE_MODEL], {
        "billing": (CheckStatus.PENDING, None), "services": (CheckStatus.PENDING, None),
        "model:gpt-oss-120b@global": (CheckStatus.PENDING, None)}),
    "closed desired account": (desired(), observed(billing=NO_BILLING, account_open=False, services=OFF, models=BLOCKED), {}, [], {
        "billing": (CheckStatus.FAILED, Cause.BILLING_ACCOUNT_CLOSED),
        "services": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_REQUIRED_TO_ENABLE)}),
    "linked to the desired account, now closed": (desired(), observed(billing=ObservedBilling(account=ACC, enabled=False), account_open=None, services=OFF, models=BLOCKED), {}, [], {
        "billing": (CheckStatus.FAILED, Cause.BILLING_ACCOUNT_CLOSED)}),
    "linked to a closed other account": (desired(), observed(billing=ObservedBilling(account=OTHER, enabled=False), services=OFF, models=BLOCKED), {}, [], {
        "billing": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_LINKED_ELSEWHERE),
        "services": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_REQUIRED_TO_ENABLE)}),
    "linked to a closed other account, relink": (desired(), observed(billing=ObservedBilling(account=OTHER, enabled=False), services=OFF, models=BLOCKED), {"allow_relink": True},
              [Action.LINK_BILLING, Action.ENABLE_SERVICES, Action.ENABLE_MODEL], {"billing": (CheckStatus.PENDING, None)}),
    "linked elsewhere": (desired(), observed(billing=ObservedBilling(account=OTHER, enabled=True)), {}, [], {
        "billing": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_LINKED_ELSEWHERE), "services": (CheckStatus.OK, None)}),
    "linked elsewhere, relink": (desired(), observed(billing=ObservedBilling(account=OTHER, enabled=True)), {"allow_relink": True},
              [Action.LINK_BILLING], {"billing": (CheckStatus.PENDING, None)}),
    "linked elsewhere, relink to an unread account": (desired(), observed(billing=ObservedBilling(account=OTHER, enabled=True), account_open=None), {"allow_relink": True},
              [], {"billing": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_LINKED_ELSEWHERE)}),
    "linked elsewhere but link_billing false": (desired(link_billing=False), observed(billing=ObservedBilling(account=OTHER, enabled=True)), {}, [], {
        "billing": (CheckStatus.OK, None)}),
    "no billing, link_billing false": (desired(link_billing=False), observed(billing=NO_BILLING, services=OFF, models=BLOCKED), {}, [], {
        "billing": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_DISABLED),
        "services": (CheckStatus.ACTION_REQUIRED, Cause.BILLING_REQUIRED_TO_ENABLE),
        "model:gpt-oss-120b@global": (CheckStatus.NOT_RUN, None)}),
    "api disabled": (desired(), observed(services={AIPLATFORM: ServiceState.DISABLED, CONSUMER_PROCUREMENT: ServiceState.ENABLED}, models=BLOCKED), {},
              [Action.ENABLE_SERVICES, Action.ENABLE_MODEL], {"services": (CheckStatus.PENDING, None)}),
    "model not enabled, enable true": (desired(), observed(models=NOT_ENABLED), {}, [Action.ENABLE_MODEL], {
        "model:gpt-oss-120b@global": (CheckStatus.PENDING, None)}),
    "model not enabled, enable false": (desired(models=(model(enable=False),)), observed(models=NOT_ENABLED), {}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.ACTION_REQUIRED, Cause.MODEL_NOT_ENABLED)}),
    "offer withdrawn from a location": (desired(models=(model(locations=("global", "us-central1")),)),
              observed(models=(seen(ModelAccess.ENABLED), seen(ModelAccess.NOT_OFFERED, "us-central1"))), {}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.OK, None),
        "model:gpt-oss-120b@us-central1": (CheckStatus.FAILED, Cause.MODEL_NOT_OFFERED_IN_LOCATION)}),
    # A 404 says nothing about the location (Google's "not offered here" is a 400, row 13).
    "404 in one location while another answers is no access": (desired(models=(model(locations=("global", "us-central1")),)),
              observed(models=(seen(ModelAccess.ENABLED), seen(ModelAccess.NO_ACCESS, "us-central1", failure=Failure(cause=Cause.MODEL_NOT_FOUND_OR_NO_ACCESS, message="Project demo-proj: 404", http_status=404)))), {}, [], {
        "model:gpt-oss-120b@us-central1": (CheckStatus.FAILED, Cause.MODEL_NOT_FOUND_OR_NO_ACCESS)}),
    "404 in the only location stays no access": (desired(), observed(models=(seen(ModelAccess.NO_ACCESS, failure=Failure(cause=Cause.MODEL_NOT_FOUND_OR_NO_ACCESS, message="Project demo-proj: 404", http_status=404)),)), {}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.FAILED, Cause.MODEL_NOT_FOUND_OR_NO_ACCESS)}),
    "retired model (observed)": (desired(models=(model(pm=M20, locations=("us-central1",)),)), observed(models=(seen(ModelAccess.RETIRED, "us-central1", M20),)), {}, [], {
        "model:gpt-oss-20b@us-central1": (CheckStatus.FAILED, Cause.MODEL_RETIRED)}),
    "retired model (catalog, no probe)": (desired(models=(model(pm=M20, locations=("us-central1",)),)), observed(models=()), {"probe": False, "as_of": dt.date(2026, 11, 1)}, [], {
        "model:gpt-oss-20b@us-central1": (CheckStatus.FAILED, Cause.MODEL_RETIRED)}),
    "no access": (desired(), observed(models=(seen(ModelAccess.NO_ACCESS),)), {}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.FAILED, Cause.MODEL_NOT_FOUND_OR_NO_ACCESS)}),
    "delete requested": (desired(), observed(state=ProjectState.DELETE_REQUESTED, billing=NO_BILLING, services=OFF, models=BLOCKED), {}, [], {
        "project": (CheckStatus.FAILED, Cause.PROJECT_DELETE_REQUESTED)}),
    "missing without create": (desired(), MISSING, {}, [], {
        "project": (CheckStatus.FAILED, Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN)}),
    "missing with create": (desired(create=True, parent="folders/42", labels={"team": "ml"}), MISSING, {},
              [Action.CREATE_PROJECT, Action.LINK_BILLING, Action.ENABLE_SERVICES, Action.ENABLE_MODEL], {
        "project": (CheckStatus.PENDING, None), "model:gpt-oss-120b@global": (CheckStatus.PENDING, None)}),
    "missing with create, no probe": (desired(create=True), MISSING, {"probe": False},
              [Action.CREATE_PROJECT, Action.LINK_BILLING, Action.ENABLE_SERVICES], {
        "model:gpt-oss-120b@global": (CheckStatus.UNKNOWN, None)}),
    "probe off": (desired(), observed(models=()), {"probe": False}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.UNKNOWN, None)}),
    "probe failed": (desired(), observed(models=(seen(ModelAccess.UNKNOWN, failure=Failure(cause=Cause.UNAVAILABLE, message="Project demo-proj: 503")),)), {}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.UNKNOWN, Cause.UNAVAILABLE)}),
    "blocked while everything reads on (propagation)": (desired(), observed(models=BLOCKED), {}, [], {
        "model:gpt-oss-120b@global": (CheckStatus.PROPAGATING, None)}),
    "billing unreadable, APIs off: services wait on billing": (desired(), replace(observed(billing=None, services=OFF, models=BLOCKED), failures={"billing": Failure(cause=Cause.UNAVAILABLE, message="Project demo-proj: 503")}), {}, [], {
        "billing": (CheckStatus.UNKNOWN, Cause.UNAVAILABLE), "services": (CheckStatus.NOT_RUN, None),
        "model:gpt-oss-120b@global": (CheckStatus.NOT_RUN, None)}),
    "APIs off, model enable false: waits on services, not a person": (desired(models=(model(enable=False),)), observed(services=OFF, models=BLOCKED), {}, [Action.ENABLE_SERVICES], {
        "services": (CheckStatus.PENDING, None), "model:gpt-oss-120b@global": (CheckStatus.NOT_RUN, None)}),
    "labels differ": (desired(labels={"team": "ml"}, display_name="Demo"), replace(observed(), project=ObservedProject(project_id=P, state=ProjectState.ACTIVE, display_name="Old", labels={"team": "web"})), {}, [], {
        "project": (CheckStatus.WARNING, None)}),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_plan_table(name: str) -> None:
    want, seen_state, kwargs, actions, checks = CASES[name]
    kwargs = {"as_of": DAY, **kwargs}
    plan = plan_project(want, seen_state, **kwargs)
    assert [c.action for c in plan.changes] == actions
    by_name = {c.name: c for c in plan.checks}
    assert len(by_name) == len(plan.checks), "check names are unique"
    for check_name, (status, cause) in checks.items():
        assert by_name[check_name].status is status, (check_name, by_name[check_name])
        assert by_name[check_name].cause is cause, (check_name, by_name[check_name])
    for check in plan.checks:
        if check.status in (CheckStatus.FAILED, CheckStatus.ACTION_REQUIRED):
            assert check.cause is not None and check.remedy, check
            assert P in check.detail, check
        assert "\n" not in check.remedy
    assert plan == plan_project(want, seen_state, **kwargs), "pure: same inputs, same plan"


def test_change_details() -> None:
    plan = plan_project(
        desired(create=True, parent="folders/42", labels={"team": "ml"}, display_name="Demo"),
        MISSING,
        as_of=DAY,
    )
    create, link, enable, model_change = plan.changes
    assert (create.target, create.parent, create.labels, create.display_name) == (
        f"projects/{P}",
        "folders/42",
        {"team": "ml"},
        "Demo",
    )
    assert link.billing_account == ACC and not link.relink
    assert enable.services == SERVICES
    assert model_change.publisher_model == M120
    assert all(P in c.reason for c in plan.changes)


def test_one_enable_model_per_model_across_locations() -> None:
    two = desired(models=(model(locations=("global", "us-central1")),))
    plan = plan_project(
        two,
        observed(
            models=(seen(ModelAccess.NOT_ENABLED), seen(ModelAccess.NOT_ENABLED, "us-central1"))
        ),
        as_of=DAY,
    )
    assert [c.action for c in plan.changes] == [Action.ENABLE_MODEL]


def test_relink_change_is_marked() -> None:
    plan = plan_project(
        desired(),
        observed(billing=ObservedBilling(account=OTHER, enabled=True)),
        as_of=DAY,
        allow_relink=True,
    )
    (link,) = plan.changes
    assert link.relink and link.billing_account == ACC


def test_model_not_enabled_remedy_has_console_and_rest() -> None:
    plan = plan_project(
        desired(models=(model(enable=False),)), observed(models=NOT_ENABLED), as_of=DAY
    )
    check = next(c for c in plan.checks if c.name.startswith("model:"))
    assert (
        "console.cloud.google.com/vertex-ai/publishers/openai/model-garden/gpt-oss-120b-maas"
        in check.remedy
    )
    assert ":enableModel" in check.remedy


# --- permissions ---------------------------------------------------------------------------------


def fresh_plan(**kw: Any) -> ProjectPlan:
    return plan_project(
        desired(**kw), observed(billing=NO_BILLING, services=OFF, models=BLOCKED), as_of=DAY
    )


def test_required_permissions_per_resource() -> None:
    plan = fresh_plan()
    assert required_permissions(plan, desired()) == (
        (f"projects/{P}", (
            "resourcemanager.projects.createBillingAssignment",
            "serviceusage.services.enable",
            "consumerprocurement.consents.grant",
        )),
        (f"billingAccounts/{ACC}", ("billing.resourceAssociations.create",)),
    )  # fmt: skip
    create = plan_project(desired(create=True, parent="organizations/7"), MISSING, as_of=DAY)
    assert required_permissions(create, desired(create=True, parent="organizations/7")) == (
        ("organizations/7", ("resourcemanager.projects.create",)),
        (f"billingAccounts/{ACC}", ("billing.resourceAssociations.create",)),
    )
    assert required_permissions(plan_project(desired(), observed(), as_of=DAY), desired()) == ()


def test_preflight_unverified_enable_model_permission_only_warns() -> None:
    # Evidence row 18: Google does not confirm which permission enableModel checks.
    plan = plan_project(desired(), observed(models=NOT_ENABLED), as_of=DAY)
    report = PermissionReport(
        resource=f"projects/{P}", missing=("consumerprocurement.consents.grant",)
    )
    after = apply_preflight(plan, [report])
    assert [c.action for c in after.changes] == [Action.ENABLE_MODEL]
    check = next(c for c in after.checks if c.name == "permissions")
    assert check.status is CheckStatus.WARNING and check.cause is None
    assert "consumerprocurement.consents.grant" in check.detail and "unverified" in check.detail
    assert "roles/consumerprocurement.entitlementManager" in check.detail
    assert "roles/consumerprocurement.entitlementManager" in check.remedy
    model_check = next(c for c in after.checks if c.name.startswith("model:"))
    assert model_check.status is CheckStatus.PENDING


def test_preflight_missing_one_permission_blocks_only_its_change() -> None:
    plan = fresh_plan()
    report = PermissionReport(
        resource=f"projects/{P}",
        missing=("serviceusage.services.enable", "consumerprocurement.consents.grant"),
    )
    after = apply_preflight(plan, [report])
    assert [c.action for c in after.changes] == [Action.LINK_BILLING]
    check = next(c for c in after.checks if c.name == "permissions")
    assert check.status is CheckStatus.FAILED and check.cause is Cause.PERMISSION_DENIED
    assert "serviceusage.services.enable" in check.detail and "unverified" in check.detail


def test_preflight_billing_account_side_blocks_dependents() -> None:
    plan = fresh_plan()
    after = apply_preflight(plan, [
        PermissionReport(resource=f"projects/{P}"),
        PermissionReport(resource=f"billingAccounts/{ACC}", missing=("billing.resourceAssociations.create",)),
    ])  # fmt: skip
    assert after.changes == ()  # no billing -> no APIs -> no model
    assert "roles/billing.user" in next(c for c in after.checks if c.name == "permissions").detail


def test_preflight_services_only() -> None:
    plan = fresh_plan()
    after = apply_preflight(
        plan,
        [PermissionReport(resource=f"projects/{P}", missing=("serviceusage.services.enable",))],
    )
    assert [c.action for c in after.changes] == [Action.LINK_BILLING]


def test_preflight_empty_grant_is_explained() -> None:
    plan = fresh_plan()
    (project_side, perms), _ = required_permissions(plan, desired())
    after = apply_preflight(plan, [PermissionReport(resource=project_side, missing=perms)])
    detail = next(c for c in after.checks if c.name == "permissions").detail
    assert "granted none" in detail and "missing" in detail


def test_preflight_all_present_changes_nothing() -> None:
    plan = fresh_plan()
    assert apply_preflight(plan, [PermissionReport(resource=f"projects/{P}")]) == plan
    assert apply_preflight(plan, []) == plan


# --- property: only additive actions, never an empty billing account ----------------------------

_billing = st.one_of(
    st.none(),
    st.builds(
        ObservedBilling, account=st.sampled_from([None, ACC, OTHER, ""]), enabled=st.booleans()
    ),
)
_models = st.lists(
    st.builds(
        seen,
        st.sampled_from(list(ModelAccess)),
        st.sampled_from(["global", "us-central1", "europe-west4"]),
        st.sampled_from([M120, M20]),
    ),
    max_size=4,
).map(tuple)
_services = st.one_of(
    st.none(), st.dictionaries(st.sampled_from(SERVICES), st.sampled_from(list(ServiceState)))
)


@settings(max_examples=300, deadline=None)
@given(
    state=st.sampled_from(list(ProjectState)),
    billing=_billing,
    account_open=st.one_of(st.none(), st.booleans()),
    services=_services,
    models=_models,
    create=st.booleans(),
    link=st.booleans(),
    account=st.sampled_from([None, "", ACC]),
    enable=st.booleans(),
    relink=st.booleans(),
    probe=st.booleans(),
    as_of=st.sampled_from([DAY, dt.date(2026, 8, 1), dt.date(2027, 1, 1)]),
)
def test_plans_are_additive(
    state: ProjectState,
    billing: ObservedBilling | None,
    account_open: bool | None,
    services: dict[str, ServiceState] | None,
    models: tuple[ObservedModel, ...],
    create: bool,
    link: bool,
    account: str | None,
    enable: bool,
    relink: bool,
    probe: bool,
    as_of: dt.date,
) -> None:
    want = desired(
        create=create,
        link_billing=link,
        billing_account=account,
        models=(
            model(enable=enable, locations=("global", "us-central1")),
            model(enable=enable, pm=M20, locations=("us-central1",)),
        ),
    )
    seen_state = observed(
        state=state, billing=billing, account_open=account_open, services=services, models=models
    )
    plan = plan_project(want, seen_state, as_of=as_of, allow_relink=relink, probe=probe)
    allowed = {
        Action.CREATE_PROJECT,
        Action.LINK_BILLING,
        Action.ENABLE_SERVICES,
        Action.ENABLE_MODEL,
    }
    for change in plan.changes:
        assert change.action in allowed
        if change.action is Action.LINK_BILLING:
            assert change.billing_account, "never link an empty account"
            assert change.relink is False or relink
        if change.action is Action.ENABLE_SERVICES:
            assert change.services
    actions = [c.action for c in plan.changes]
    assert len(actions) == len(set(actions) - {Action.ENABLE_MODEL}) + actions.count(
        Action.ENABLE_MODEL
    )
    if state is ProjectState.DELETE_REQUESTED:
        assert plan.changes == ()
    if Action.CREATE_PROJECT in actions:
        assert create and state is ProjectState.NOT_FOUND
    models_enabled = [c.publisher_model for c in plan.changes if c.action is Action.ENABLE_MODEL]
    assert len(models_enabled) == len(set(models_enabled))
    if models_enabled:
        assert enable
    if not probe and not any(m.access is not ModelAccess.UNKNOWN for m in models):
        assert not models_enabled  # nothing observed and no probe: never enable blindly

"""The planner's access step with plain values: policy bindings -> one `access:<member>` check each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bootstrap.checks import Check, CheckStatus, access_check
from bootstrap.cloud.observed import (
    IamBinding,
    Observed,
    ObservedBilling,
    ObservedIamPolicy,
    ObservedProject,
    ProjectState,
)
from bootstrap.errors import Cause, Failure
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.access import granting_roles, same_member
from bootstrap.plan.model import Action
from bootstrap.plan.planner import plan_project

P = "demo-proj"
DAY = dt.date(2026, 1, 15)
SA = "serviceAccount:app@demo-proj.iam.gserviceaccount.com"
WIF = "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/*"
USER = "roles/aiplatform.user"


def policy(*bindings: tuple[str, list[str]] | tuple[str, list[str], str]) -> ObservedIamPolicy:
    return ObservedIamPolicy(
        bindings=tuple(
            IamBinding(role=b[0], members=tuple(b[1]), condition=b[2] if len(b) > 2 else "")  # type: ignore[misc]
            for b in bindings
        ),
        etag="BwX=",
        version=3,
    )


def plan_checks(
    principals: tuple[str, ...],
    iam: ObservedIamPolicy | None,
    *,
    role: str = USER,
    state: ProjectState = ProjectState.ACTIVE,
    **kw: Any,
) -> dict[str, Check]:
    desired = DesiredProject(
        project_id=P, create=True, parent="folders/1", principals=principals, principal_role=role
    )
    observed = Observed(
        project_id=P,
        project=ObservedProject(project_id=P, state=state),
        billing=ObservedBilling(account="012345-6789AB-CDEF01", enabled=True),
        services={},
        iam_policy=iam,
        **kw,
    )
    plan = plan_project(desired, observed, as_of=DAY)
    checks = {c.name: c for c in plan.checks if c.name.startswith("access:")}
    # A grant is planned exactly for the members with no binding (pending), never for unknown.
    granted = {
        access_check(c.member or ""): c for c in plan.changes if c.action is Action.GRANT_ROLE
    }
    assert set(granted) == {n for n, c in checks.items() if c.status is CheckStatus.PENDING}
    for name, change in granted.items():
        assert (change.role, change.target) == (role, f"projects/{P}"), name
    return checks


@pytest.mark.parametrize(
    ("bindings", "role", "status"),
    [
        ([(USER, [SA])], USER, CheckStatus.OK),
        ([("roles/editor", ["user:x@example.com", SA])], USER, CheckStatus.OK),
        ([("roles/owner", [SA])], USER, CheckStatus.OK),
        ([("roles/aiplatform.admin", [SA.upper().replace("SERVICEACCOUNT", "serviceAccount")])], USER, CheckStatus.OK),
        ([("projects/demo-proj/roles/caller", [SA])], "projects/demo-proj/roles/caller", CheckStatus.OK),
        ([("projects/demo-proj/roles/caller", [SA])], USER, CheckStatus.PENDING),
        ([("roles/viewer", [SA])], USER, CheckStatus.PENDING),
        ([], USER, CheckStatus.PENDING),
        ([(USER, [SA], "request.time < timestamp('2027-01-01T00:00:00Z')")], USER, CheckStatus.UNKNOWN),
        ([(USER, ["group:ml@example.com"])], USER, CheckStatus.UNKNOWN),
        ([("roles/editor", ["domain:example.com"])], USER, CheckStatus.UNKNOWN),
        ([(USER, [SA], "a.b == 1"), ("roles/editor", [SA])], USER, CheckStatus.OK),
    ],
)  # fmt: skip
def test_bindings_decide_the_check(bindings: list[Any], role: str, status: CheckStatus) -> None:
    check = plan_checks((SA,), policy(*bindings), role=role)[access_check(SA)]
    assert check.status is status, check
    if status is CheckStatus.PENDING:
        assert check.detail == f"Project {P}: will grant {role} to {SA} (added to the policy)."
    if status is CheckStatus.UNKNOWN:
        assert "only a call as the principal can prove it" in check.detail
        assert "add-iam-policy-binding" in check.remedy


def test_condition_and_group_say_why() -> None:
    cond = plan_checks((SA,), policy((USER, [SA], "x == 1")))[access_check(SA)]
    assert "a condition decides" in cond.detail and "'x == 1'" in cond.detail
    group = plan_checks((SA,), policy((USER, ["group:ml@example.com"])))[access_check(SA)]
    assert "group:ml@example.com" in group.detail


def test_a_principal_set_named_directly_is_ok_and_through_another_is_unknown() -> None:
    checks = plan_checks((WIF, SA), policy((USER, [WIF])))
    assert checks[access_check(WIF)].status is CheckStatus.OK
    assert checks[access_check(SA)].status is CheckStatus.UNKNOWN  # a set is not expanded
    only_self = plan_checks((WIF,), policy(("roles/viewer", [WIF])))
    assert only_self[access_check(WIF)].status is CheckStatus.PENDING


def test_unreadable_policy_is_unknown_with_the_reads_cause() -> None:
    failure = Failure(
        cause=Cause.PERMISSION_DENIED,
        message="Project demo-proj: permission resourcemanager.projects.getIamPolicy denied.",
        remedy="grant roles/browser",
    )
    checks = plan_checks((SA,), None, failures={"iam_policy": failure})
    check = checks[access_check(SA)]
    assert (check.status, check.cause, check.remedy) == (
        CheckStatus.UNKNOWN,
        Cause.PERMISSION_DENIED,
        failure.remedy,
    )
    bare = plan_checks((SA,), None)[access_check(SA)]
    assert bare.status is CheckStatus.UNKNOWN and bare.cause is Cause.UNKNOWN


def test_no_principals_no_checks_and_a_created_project_waits() -> None:
    assert plan_checks((), policy((USER, [SA]))) == {}
    waiting = plan_checks((SA,), None, state=ProjectState.NOT_FOUND)[access_check(SA)]
    assert waiting.status is CheckStatus.NOT_RUN and "project" in waiting.detail


def test_one_check_per_principal_in_manifest_order() -> None:
    members = (SA, "user:ana@example.com", WIF)
    assert list(plan_checks(members, policy())) == [access_check(m) for m in members]


def test_helpers() -> None:
    assert granting_roles(USER) == (USER, "roles/aiplatform.admin", "roles/owner", "roles/editor")
    assert granting_roles("organizations/1/roles/r")[0] == "organizations/1/roles/r"
    assert same_member("user:Ana@Example.com", "user:ana@example.com")
    assert not same_member("user:ana@example.com", "group:ana@example.com")
    assert not same_member(WIF, WIF.upper())

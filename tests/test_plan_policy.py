"""The policy step as a pure function: effective org policies (built as values) -> the `policy`
check, and nothing planned that the policy forbids."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.catalog import AIPLATFORM, CONSUMER_PROCUREMENT
from bootstrap.checks import Check, CheckStatus
from bootstrap.cloud.observed import ModelAccess, ProjectState, ServiceState
from bootstrap.cloud.org_policy import (
    ALLOWED_MODELS,
    ORG_POLICY_READ,
    RESTRICT_SERVICE_USAGE,
    EffectivePolicy,
    ObservedOrgPolicy,
    PolicyRule,
)
from bootstrap.errors import Cause, Failure
from bootstrap.exitcodes import Command, ExitCode, check_exit_code
from bootstrap.plan.model import Action, ProjectPlan
from bootstrap.plan.planner import plan_project
from bootstrap.plan.policy import judge, model_values
from bootstrap.report.model import ProjectStatus
from tests.test_plan import DAY, M120, MISSING, NOT_ENABLED, P, desired, observed, seen

VALUE = f"{M120}:predict"
BOTH = (ALLOWED_MODELS, RESTRICT_SERVICE_USAGE)


def policies(models: tuple[PolicyRule, ...] = (), services: tuple[PolicyRule, ...] = ()) -> Any:
    return ObservedOrgPolicy(
        policies=(
            EffectivePolicy(constraint=ALLOWED_MODELS, rules=models),
            EffectivePolicy(constraint=RESTRICT_SERVICE_USAGE, rules=services),
        ),
        wanted=BOTH,
    )


def plan(org_policy: Any, **kw: Any) -> ProjectPlan:
    return plan_project(desired(), observed(org_policy=org_policy, **kw), as_of=DAY)


def check(result: ProjectPlan, name: str) -> Check:
    return next(c for c in result.checks if c.name == name)


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [
        (PolicyRule(allowed_values=(VALUE,)), True),
        (PolicyRule(allowed_values=(f"is:{VALUE}",)), True),
        (PolicyRule(allowed_values=("under:publishers/openai",)), True),
        (PolicyRule(allowed_values=("under:publishers/openai/models/gpt-oss",)), False),
        (PolicyRule(allowed_values=("publishers/google/models/gemini-2.5-flash:predict",)), False),
        (PolicyRule(denied_values=("publishers/google/models/gemini-2.5-flash:predict",)), True),
        (PolicyRule(denied_values=(f"is:{VALUE}",)), False),
        (PolicyRule(allowed_values=(VALUE,), denied_values=("under:publishers/openai",)), False),
        (PolicyRule(allow_all=True), True),
        (PolicyRule(deny_all=True), False),
        (PolicyRule(deny_all=True, conditional=True), True),  # cannot be judged: left out
    ],
)
def test_judge_values_prefixes_and_all(rule: PolicyRule, allowed: bool) -> None:
    policy = EffectivePolicy(constraint=ALLOWED_MODELS, rules=(rule,))
    assert judge(policy, model_values(M120)).allowed is allowed


def test_a_model_left_out_is_org_policy_denied_and_never_enabled() -> None:
    result = plan(
        policies(models=(PolicyRule(allowed_values=("publishers/google/models/x:predict",)),)),
        models=NOT_ENABLED,
    )
    policy = check(result, "policy")
    assert policy.status is CheckStatus.ACTION_REQUIRED
    assert policy.cause is Cause.ORG_POLICY_DENIED
    assert f"add {VALUE} to the allowed values of {ALLOWED_MODELS}" in policy.remedy
    assert "roles/orgpolicy.policyAdmin" in policy.remedy
    assert (
        "https://console.cloud.google.com/iam-admin/orgpolicies/vertexai-allowedModels"
        f"?project={P}" in policy.remedy
    )
    # Each constraint judged is named: the one that forbids, and the one that allows the APIs.
    assert f"{ALLOWED_MODELS} forbids {M120} (not in its allowed values)" in policy.detail
    assert f"{RESTRICT_SERVICE_USAGE} allows {AIPLATFORM}" in policy.detail
    model = check(result, "model:gpt-oss-120b@global")
    assert model.status is CheckStatus.NOT_RUN and "depends on policy" in model.detail
    assert [c.action for c in result.changes] == []
    assert check_exit_code(Command.PLAN, policy.status) is ExitCode.ACTION_REQUIRED


def test_a_denied_value_asks_for_its_removal() -> None:
    result = plan(policies(models=(PolicyRule(denied_values=(f"is:{VALUE}",)),)))
    assert f"remove {VALUE} from the denied values" in check(result, "policy").remedy


def test_an_explicitly_allowed_model_is_ok_and_enabled() -> None:
    result = plan(policies(models=(PolicyRule(allowed_values=(VALUE,)),)), models=NOT_ENABLED)
    policy = check(result, "policy")
    assert policy.status is CheckStatus.OK
    assert ALLOWED_MODELS in policy.detail and RESTRICT_SERVICE_USAGE in policy.detail
    assert [c.action for c in result.changes] == [Action.ENABLE_MODEL]


def test_a_required_api_the_policy_forbids_is_never_enabled() -> None:
    off = {AIPLATFORM: ServiceState.DISABLED, CONSUMER_PROCUREMENT: ServiceState.ENABLED}
    rule = PolicyRule(allowed_values=(f"is:{CONSUMER_PROCUREMENT}",))
    result = plan(policies(services=(rule,)), services=off, models=(seen(ModelAccess.BLOCKED),))
    policy = check(result, "policy")
    assert policy.status is CheckStatus.ACTION_REQUIRED
    assert policy.cause is Cause.ORG_POLICY_DENIED
    assert f"add {AIPLATFORM} to the allowed values of {RESTRICT_SERVICE_USAGE}" in policy.remedy
    services = check(result, "services")
    assert services.status is CheckStatus.NOT_RUN and "depends on policy" in services.detail
    assert result.changes == ()


def test_an_unreadable_policy_is_a_warning_that_keeps_the_project_ok() -> None:
    from bootstrap.jobs.status import project_status

    failure = Failure(
        cause=Cause.PERMISSION_DENIED,
        message="the caller lacks orgpolicy.policy.get on projects/demo-proj.",
    )
    unread = ObservedOrgPolicy(policies=(), wanted=BOTH)
    result = plan(unread, failures={ORG_POLICY_READ: failure})
    policy = check(result, "policy")
    assert policy.status is CheckStatus.WARNING
    assert "roles/orgpolicy.policyViewer" in policy.remedy
    assert "orgpolicy.policy.get" in policy.remedy
    assert ALLOWED_MODELS in policy.detail
    assert project_status(result.checks, ()) is ProjectStatus.OK
    assert check_exit_code(Command.AUDIT, policy.status) is ExitCode.OK


def test_a_read_that_found_a_denial_still_denies_when_another_failed() -> None:
    partial = ObservedOrgPolicy(
        policies=(EffectivePolicy(constraint=ALLOWED_MODELS, rules=(PolicyRule(deny_all=True),)),),
        wanted=BOTH,
    )
    failure = Failure(cause=Cause.SERVICE_DISABLED, message="x", remedy="gcloud services enable")
    result = plan(partial, failures={ORG_POLICY_READ: failure})
    assert check(result, "policy").status is CheckStatus.ACTION_REQUIRED
    assert "replace the denyAll rule" in check(result, "policy").remedy


def test_skipped_not_read_and_new_projects() -> None:
    skipped = check(plan(ObservedOrgPolicy(skipped=True)), "policy")
    assert skipped.status is CheckStatus.SKIPPED
    assert not [c for c in plan(None).checks if c.name == "policy"]
    created = plan_project(desired(create=True, parent="folders/1"), MISSING, as_of=DAY)
    assert check(created, "policy").status is CheckStatus.NOT_RUN
    assert MISSING.project is not None and MISSING.project.state is ProjectState.NOT_FOUND

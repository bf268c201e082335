"""The planner's quota step as a pure function: observed Cloud Quotas limits -> the
`quota:<alias>@<location>` checks (issue 14 item 4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bootstrap.checks import PASSED, Check, CheckStatus
from bootstrap.cloud.observed import (
    ModelAccess,
    Observed,
    ObservedBilling,
    ObservedModel,
    ObservedProject,
    ProjectState,
    ServiceState,
)
from bootstrap.cloud.quota import (
    INPUT_TOKENS,
    QUOTA_READ,
    REQUESTS,
    UNLIMITED,
    ModelQuota,
    ObservedQuotas,
    QuotaLimit,
)
from bootstrap.errors import Cause, Failure
from bootstrap.manifest.desired import DesiredModel, DesiredProject
from bootstrap.plan.planner import plan_project

P = "demo-proj"
M120 = "publishers/openai/models/gpt-oss-120b-maas"
DAY = dt.date(2026, 1, 15)
GLOBAL_REQ = "GlobalOnlinePredictionRequestsPerMinutePerProjectPerBaseModel"
REGION_TOK = "OnlinePredictionInputTokensPerMinutePerRegionPerBaseModel"


def desired(locations: tuple[str, ...] = ("global",), **kw: Any) -> DesiredProject:
    model = DesiredModel(
        ref="gpt-oss-120b",
        alias="gpt-oss-120b",
        publisher_model=M120,
        request_model="openai/gpt-oss-120b-maas",
        locations=locations,
        enable=True,
        **kw,
    )
    return DesiredProject(project_id=P, billing_account="012345-6789AB-CDEF01", models=(model,))


def limit(kind: str, value: int, quota_id: str = GLOBAL_REQ, region: bool = False) -> QuotaLimit:
    prefix = "" if region else "global_"
    stem = (
        "requests_per_base_model" if kind == REQUESTS else "input_tokens_per_minute_per_base_model"
    )
    return QuotaLimit(
        quota_id=quota_id,
        metric=f"aiplatform.googleapis.com/{prefix}online_prediction_{stem}",
        kind=kind,
        value=value,
        base_model="gpt-oss-120b-maas",
    )


def observed(
    quotas: ObservedQuotas | None, failures: dict[str, Failure] | None = None, **kw: Any
) -> Observed:
    services = {s: ServiceState.ENABLED for s in desired().services}
    models = tuple(
        ObservedModel(
            publisher_model=M120, alias="gpt-oss-120b", location=loc, access=ModelAccess.ENABLED
        )
        for loc in ("global", "us-central1")
    )
    return Observed(
        project_id=P,
        project=ObservedProject(project_id=P, state=ProjectState.ACTIVE),
        billing=ObservedBilling(account="012345-6789AB-CDEF01", enabled=True),
        services=services,
        models=models,
        quotas=quotas,
        failures=failures or {},
        **kw,
    )


def quota_checks(want: DesiredProject, seen: Observed) -> list[Check]:
    plan = plan_project(want, seen, as_of=DAY)
    return [c for c in plan.checks if c.name.startswith("quota:")]


def quotas(*limits: QuotaLimit, location: str = "global") -> ObservedQuotas:
    return ObservedQuotas(
        models=(ModelQuota(publisher_model=M120, location=location, limits=limits),)
    )


def test_limits_are_reported_in_metrics() -> None:
    (check,) = quota_checks(
        desired(), observed(quotas(limit(REQUESTS, 650), limit(INPUT_TOKENS, 790_000)))
    )
    assert check.name == "quota:gpt-oss-120b@global"
    assert check.status is CheckStatus.OK
    assert check.metrics == {
        "requests_per_minute": 650,
        "input_tokens_per_minute": 790_000,
        "base_model": "gpt-oss-120b-maas",
    }


def test_zero_is_quota_zero_for_a_person_with_console_and_gcloud() -> None:
    (check,) = quota_checks(desired(), observed(quotas(limit(REQUESTS, 0))))
    assert check.status is CheckStatus.ACTION_REQUIRED
    assert check.cause is Cause.QUOTA_ZERO
    assert f"https://console.cloud.google.com/iam-admin/quotas?project={P}" in check.remedy
    assert (
        f"gcloud quotas preferences create --project={P} --service=aiplatform.googleapis.com "
        f"--quota-id={GLOBAL_REQ} --dimensions=base_model=gpt-oss-120b-maas"
    ) in check.remedy
    assert check.metrics["requests_per_minute"] == 0


def test_a_regional_limit_names_its_region_dimension() -> None:
    zero = limit(INPUT_TOKENS, 0, quota_id=REGION_TOK, region=True)
    seen = observed(quotas(zero, location="us-central1"))
    (check,) = quota_checks(desired(("us-central1",)), seen)
    assert check.cause is Cause.QUOTA_ZERO
    assert "--dimensions=region=us-central1,base_model=gpt-oss-120b-maas" in check.remedy


def test_min_tokens_per_minute_makes_a_lower_limit_a_finding() -> None:
    seen = observed(quotas(limit(REQUESTS, 650), limit(INPUT_TOKENS, 50_000, quota_id="T")))
    (low,) = quota_checks(desired(min_tokens_per_minute=100_000), seen)
    assert low.status is CheckStatus.ACTION_REQUIRED
    assert "50000 input tokens per minute (T)" in low.detail
    assert "--quota-id=T" in low.remedy and "--preferred-value=100000" in low.remedy
    (enough,) = quota_checks(desired(min_tokens_per_minute=50_000), seen)
    assert enough.status is CheckStatus.OK
    unlimited = observed(quotas(limit(INPUT_TOKENS, UNLIMITED)))
    (free,) = quota_checks(desired(min_tokens_per_minute=10**9), unlimited)
    assert free.status is CheckStatus.OK and free.metrics["input_tokens_per_minute"] == "unlimited"


def test_no_listed_limit_is_ok_and_says_the_smoke_test_decides() -> None:
    (check,) = quota_checks(desired(), observed(ObservedQuotas()))
    assert check.status is CheckStatus.OK
    assert "dynamic shared quota" in check.detail


def test_unreadable_quota_is_a_warning_that_names_what_to_fix() -> None:
    denied = Failure(cause=Cause.PERMISSION_DENIED, message=f"Project {P}: denied.")
    (check,) = quota_checks(desired(), observed(None, {QUOTA_READ: denied}))
    assert check.status is CheckStatus.WARNING and check.status in PASSED
    assert "cloudquotas.quotas.get" in check.remedy and "roles/cloudquotas.viewer" in check.remedy
    disabled = Failure(
        cause=Cause.SERVICE_DISABLED,
        message="Cloud Quotas API is disabled.",
        metadata={"consumer": "projects/987654321098", "service": "cloudquotas.googleapis.com"},
    )
    (check,) = quota_checks(desired(), observed(None, {QUOTA_READ: disabled}))
    assert check.status is CheckStatus.WARNING
    assert (
        "gcloud services enable cloudquotas.googleapis.com --project=987654321098" in check.remedy
    )


def test_skipped_reads_and_unread_quotas() -> None:
    (check,) = quota_checks(desired(), observed(ObservedQuotas(skipped=True)))
    assert check.status is CheckStatus.SKIPPED
    assert quota_checks(desired(), observed(None)) == []  # not read (no project yet): no check


def test_one_check_per_model_and_location() -> None:
    both = ObservedQuotas(
        models=(
            ModelQuota(publisher_model=M120, location="global", limits=(limit(REQUESTS, 0),)),
            ModelQuota(publisher_model=M120, location="us-central1", limits=()),
        )
    )
    checks = quota_checks(desired(("global", "us-central1")), observed(both))
    assert [(c.name, c.status) for c in checks] == [
        ("quota:gpt-oss-120b@global", CheckStatus.ACTION_REQUIRED),
        ("quota:gpt-oss-120b@us-central1", CheckStatus.OK),
    ]

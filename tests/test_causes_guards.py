"""The data-plane guards (evidence rows 22-24): an org policy's 400, a VPC-SC perimeter's 403 and
a zero model quota's 429, each in the body shapes seen (plain, array-wrapped, the openai SDK's bare
`error`), classified to ORG_POLICY_DENIED, VPC_SC_BLOCKED and QUOTA_ZERO: a person must act, never
retried, never read as "not enabled"; an ordinary MaaS 429 stays RATE_LIMITED."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.causes.classify import classify_http
from bootstrap.causes.context import CallContext
from bootstrap.cloud.observed import ModelAccess
from bootstrap.errors import Cause, Disposition
from bootstrap.gcp.vertex import probe_access

MODEL = "publishers/openai/models/gpt-oss-120b-maas"
CTX = CallContext(project_id="acme-app", location="global", publisher_model=MODEL)
ORG_POLICY = {
    "code": 400,
    "status": "FAILED_PRECONDITION",
    "message": "Organization Policy constraint constraints/vertexai.allowedModels violated for "
    f"`projects/123456789012` attempting to use a disallowed Gen AI model {MODEL}. Please "
    f"contact your organization administrator to add {MODEL}:predict to the allowed values.",
}
VPC_SC_PRECONDITION = {
    "code": 403,
    "status": "PERMISSION_DENIED",
    "message": "Request is prohibited by organization's policy. "
    "vpcServiceControlsUniqueIdentifier: Ab12Cd34",
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
            "violations": [{"type": "VPC_SERVICE_CONTROLS", "description": "Ab12Cd34"}],
        }
    ],
}
VPC_SC_ERROR_INFO = {
    "code": 403,
    "status": "PERMISSION_DENIED",
    "message": "Request is prohibited by organization's policy. "
    "vpcServiceControlsUniqueIdentifier: Ab12Cd34",
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SECURITY_POLICY_VIOLATED",
            "domain": "googleapis.com",
            "metadata": {"service": "aiplatform.googleapis.com", "uid": "Ab12Cd34"},
        }
    ],
}
MAAS_429 = (
    "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model "
    "with base model: gpt-oss-120b-maas. Please submit a quota increase request."
)
QUOTA_ZERO_TEXT = {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": MAAS_429 + " limit: 0"}
QUOTA_ZERO_FAILURE = {
    "code": 429,
    "status": "RESOURCE_EXHAUSTED",
    "message": MAAS_429,
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"subject": "projects/1", "description": "requests, limit: 0"}],
        }
    ],
}
QUOTA_ZERO_INFO = {
    "code": 429,
    "status": "RESOURCE_EXHAUSTED",
    "message": MAAS_429,
    "details": [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {"quota_limit_value": "0", "quota_metric": "aiplatform/x"},
        }
    ],
}


def _shapes(error: dict[str, Any]) -> list[object]:
    return [{"error": error}, [{"error": error}], error]


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (ORG_POLICY, Cause.ORG_POLICY_DENIED),
        (VPC_SC_PRECONDITION, Cause.VPC_SC_BLOCKED),
        (VPC_SC_ERROR_INFO, Cause.VPC_SC_BLOCKED),
        (QUOTA_ZERO_TEXT, Cause.QUOTA_ZERO),
        (QUOTA_ZERO_FAILURE, Cause.QUOTA_ZERO),
        (QUOTA_ZERO_INFO, Cause.QUOTA_ZERO),
    ],
)
def test_guard_bodies_need_a_person_and_are_never_enable_able(
    error: dict[str, Any], cause: Cause
) -> None:
    for body in _shapes(error):
        failure = classify_http(int(error["code"]), body, CTX)
        assert failure.cause is cause, body
        assert failure.disposition is Disposition.HUMAN_ACTION
        assert not failure.retryable
        assert failure.remedy
        assert probe_access(failure.cause) is ModelAccess.NO_ACCESS


def test_org_policy_remedy_names_the_value_and_the_role() -> None:
    failure = classify_http(400, {"error": ORG_POLICY}, CTX)
    assert f"{MODEL}:predict" in failure.message
    assert f"{MODEL}:predict" in failure.remedy
    assert "Organization Policy Administrator" in failure.remedy
    assert "constraints/vertexai.allowedModels" in failure.remedy


def test_org_policy_value_from_the_message_without_context() -> None:
    failure = classify_http(400, {"error": ORG_POLICY}, CallContext(project_id="acme-app"))
    assert f"{MODEL}:predict" in failure.remedy


def test_vpc_sc_remedy_is_an_ingress_rule_not_a_role() -> None:
    failure = classify_http(403, {"error": VPC_SC_ERROR_INFO}, CTX)
    assert "ingress rule" in failure.remedy
    assert "inside the perimeter" in failure.remedy
    assert "global endpoint" in failure.remedy
    assert "add-iam-policy-binding" not in failure.remedy
    assert "Ab12Cd34" in failure.message


def test_quota_zero_remedy_points_at_the_quota_page_and_quota_preference() -> None:
    failure = classify_http(429, [{"error": QUOTA_ZERO_TEXT}], CTX)
    assert "console.cloud.google.com/iam-admin/quotas?project=acme-app" in failure.remedy
    assert "gpt-oss-120b-maas" in failure.remedy
    assert "QuotaPreference" in failure.remedy


@pytest.mark.parametrize(
    "message", [MAAS_429, MAAS_429 + " limit: 10", "Quota exceeded; limit: 0.5 per second"]
)
def test_an_ordinary_maas_429_is_still_rate_limited(message: str) -> None:
    body = [{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": message}}]
    failure = classify_http(429, body, CTX)
    assert failure.cause is Cause.RATE_LIMITED
    assert failure.retryable


def test_a_plain_permission_denied_403_is_not_vpc_sc() -> None:
    body = {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "Permission denied."}}
    assert classify_http(403, body, CTX).cause is Cause.PERMISSION_DENIED

"""The classifier against the bodies Google really sends, one test per body shape.

Each body is written from a row of /work/shared/reference/fidelity-evidence.md (the row is named
in the test), not from what the emulator answers, so the classifier cannot pass by agreeing with
a wrong emulator.
"""

from __future__ import annotations

import datetime as dt
import json

from bootstrap.causes.classify import classify_http, classify_operation_error
from bootstrap.causes.context import CallContext
from bootstrap.errors import Cause, Disposition
from tests.error_payloads import envelope
from tests.error_payloads import error_info as info

M120 = "publishers/openai/models/gpt-oss-120b-maas"
M20 = "publishers/openai/models/gpt-oss-20b-maas"
CHAT = CallContext(project_id="demo-proj", location="us-central1", publisher_model=M120)


def test_row13_not_servable_in_region_is_not_offered() -> None:
    body = envelope(
        400,
        "FAILED_PRECONDITION",
        f"Publisher Model `projects/123/locations/us-central1/{M120}` is not servable in region "
        "us-central1.",
    )
    failure = classify_http(400, body, CHAT)
    assert failure.cause is Cause.MODEL_NOT_OFFERED_IN_LOCATION
    assert failure.disposition is Disposition.FIX_INPUT
    assert "demo-proj" in failure.message and "us-central1" in failure.message
    assert "global" in failure.remedy  # the catalog's other location
    assert "enableModel" not in failure.remedy


def test_row13_array_wrapped_without_context_reads_region_from_text() -> None:
    body = [envelope(400, "FAILED_PRECONDITION", f"Publisher Model `{M120}` is not servable in "
                     "region europe-west4.")]  # fmt: skip
    failure = classify_http(400, json.dumps(body).encode(), CallContext(project_id="p"))
    assert failure.cause is Cause.MODEL_NOT_OFFERED_IN_LOCATION
    assert "europe-west4" in failure.message


def test_row12_not_allowed_with_project_number_is_not_enabled() -> None:
    body = envelope(
        400,
        "FAILED_PRECONDITION",
        f"Project `123456789012` is not allowed to use Publisher Model "
        f"`projects/demo-proj/locations/global/{M120}`",
        {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "[ORIGINAL ERROR] ..."},
    )
    failure = classify_http(400, body, CallContext(project_id="demo-proj", location="global"))
    assert failure.cause is Cause.MODEL_NOT_ENABLED
    assert "enableModel" in failure.remedy and "demo-proj" in failure.remedy


def test_row14_unknown_model_404_is_not_found_or_no_access() -> None:
    body = envelope(
        404,
        "NOT_FOUND",
        f"Publisher Model `projects/demo-proj/locations/global/{M120}` was not found or your "
        "project does not have access to it. Please ensure you are using a valid model version.",
    )
    failure = classify_http(404, body, CallContext(project_id="demo-proj", location="global"))
    assert failure.cause is Cause.MODEL_NOT_FOUND_OR_NO_ACCESS
    assert failure.disposition is Disposition.HUMAN_ACTION


def test_row14_empty_404_in_an_unlisted_location_is_no_access_not_not_offered() -> None:
    ctx = CallContext(project_id="demo-proj", location="asia-east1", publisher_model=M120)
    assert classify_http(404, b"", ctx).cause is Cause.MODEL_NOT_FOUND_OR_NO_ACCESS


def test_row14_404_for_a_model_the_catalog_retired_is_retired() -> None:
    ctx = CallContext(project_id="p", location="us-central1", publisher_model=M20,
                      as_of=dt.date(2026, 11, 25))  # fmt: skip
    assert classify_http(404, b"", ctx).cause is Cause.MODEL_RETIRED


def test_row2_crm_missing_project_without_prefix_in_metadata() -> None:
    body = envelope(
        403,
        "PERMISSION_DENIED",
        "Permission 'resourcemanager.projects.get' denied on resource "
        "'//cloudresourcemanager.googleapis.com/projects/gone' (or it may not exist).",
        info("IAM_PERMISSION_DENIED", "cloudresourcemanager.googleapis.com",
             permission="resourcemanager.projects.get", resource="projects/gone"),
    )  # fmt: skip
    ctx = CallContext(project_id="gone", api="cloudresourcemanager.googleapis.com")
    assert classify_http(403, body, ctx).cause is Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN


def test_crm_v1_bare_403_is_missing_or_forbidden() -> None:
    body = envelope(403, "PERMISSION_DENIED", "The caller does not have permission")
    ctx = CallContext(project_id="gone", api="cloudresourcemanager.googleapis.com")
    assert classify_http(403, body, ctx).cause is Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN


def test_row5_billing_precondition_with_repeated_services() -> None:
    body = envelope(
        400,
        "FAILED_PRECONDITION",
        "Billing account for project '123' is not found. Billing must be enabled for activation "
        "of service(s) 'aiplatform.googleapis.com,compute.googleapis.com' to proceed.",
        {"@type": "type.googleapis.com/google.rpc.PreconditionFailure", "violations": [{
            "type": "googleapis.com/billing-enabled",
            "subject": "?error_code=390001&project=123&services=aiplatform.googleapis.com"
                       "&services=compute.googleapis.com"}]},
        info("UREQ_PROJECT_BILLING_NOT_FOUND", "serviceusage.googleapis.com/billing-enabled",
             project="123", services="aiplatform.googleapis.com,compute.googleapis.com"),
    )  # fmt: skip
    failure = classify_http(400, body, CallContext(project_id="p"))
    assert failure.cause is Cause.BILLING_REQUIRED_TO_ENABLE


def test_row6_billing_quota_only_with_quota_failure() -> None:
    quota = {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
        {"subject": "billingAccounts/X", "description": "Cloud billing quota exceeded: ..."}]}  # fmt: skip
    with_detail = envelope(400, "FAILED_PRECONDITION", "Precondition check failed.", quota)
    bare = envelope(400, "FAILED_PRECONDITION", "Precondition check failed.")
    ctx = CallContext(project_id="p")
    assert classify_http(400, with_detail, ctx).cause is Cause.BILLING_QUOTA_EXCEEDED
    assert classify_http(400, bare, ctx).cause is Cause.UNAVAILABLE


def test_row7_activation_in_progress_retries() -> None:
    body = envelope(
        400,
        "FAILED_PRECONDITION",
        "Another activation or deactivation is in progress for the following service(s): "
        "aiplatform.googleapis.com and project 123.",
    )
    failure = classify_http(400, body, CallContext(project_id="p"))
    assert failure.cause is Cause.UNAVAILABLE and failure.disposition is Disposition.RETRY


def test_row8_batch_too_large_is_invalid_input() -> None:
    body = envelope(400, "INVALID_ARGUMENT",
                    "Number of services must not exceed the maximum batch size (20).",
                    info("SU_MAX_BATCH_SIZE_EXCEEDED", "serviceusage.googleapis.com"))  # fmt: skip
    assert classify_http(400, body, CallContext(project_id="p")).cause is Cause.INVALID_INPUT


def test_row11_enable_operation_error_code_10() -> None:
    error = {"code": 10, "message": "The enablement process failed for service x."}
    failure = classify_operation_error(error, CallContext(project_id="p"))
    assert failure.cause is Cause.OPERATION_FAILED


def test_row15_service_disabled_with_localized_message() -> None:
    body = envelope(
        403,
        "PERMISSION_DENIED",
        "Vertex AI API has not been used in project demo-proj before or it is disabled.",
        info("SERVICE_DISABLED", service="aiplatform.googleapis.com", consumer="projects/123",
             serviceTitle="Vertex AI API", containerInfo="123",
             activationUrl="https://console.developers.google.com/apis/api/x"),
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
         "message": "Vertex AI API has not been used ..."},
    )  # fmt: skip
    failure = classify_http(403, body, CallContext(project_id="demo-proj"))
    assert failure.cause is Cause.SERVICE_DISABLED and "aiplatform" in failure.remedy


def test_row17_vertex_iam_denial_names_the_permission() -> None:
    body = [envelope(
        403, "PERMISSION_DENIED",
        "Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/"
        "projects/p/locations/global/endpoints/openapi' (or it may not exist).",
        info("IAM_PERMISSION_DENIED", "aiplatform.googleapis.com",
             permission="aiplatform.endpoints.predict",
             resource="projects/p/locations/global/endpoints/openapi"),
    )]  # fmt: skip
    failure = classify_http(403, json.dumps(body), CallContext(project_id="p", location="global"))
    assert failure.cause is Cause.PERMISSION_DENIED
    assert "aiplatform.endpoints.predict" in failure.message


def test_row21_rate_limit_without_retry_info() -> None:
    body = envelope(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of "
        "service 'cloudresourcemanager.googleapis.com' for consumer 'project_number:123'.",
        info("RATE_LIMIT_EXCEEDED", consumer="projects/123", quota_limit="ReadRequestsPerMinute",
             quota_limit_value="300", quota_location="global",
             quota_metric="cloudresourcemanager.googleapis.com/read_requests",
             service="cloudresourcemanager.googleapis.com"),
    )  # fmt: skip
    failure = classify_http(429, body, CallContext(project_id="p"))
    assert failure.cause is Cause.RATE_LIMITED and failure.retry_after_s is None


def test_row25_consumer_invalid_with_container_info() -> None:
    body = envelope(403, "PERMISSION_DENIED", "Permission denied on resource project gone.",
                    info("CONSUMER_INVALID", consumer="projects/gone", containerInfo="gone",
                         service="aiplatform.googleapis.com"))  # fmt: skip
    failure = classify_http(403, body, CallContext(project_id="gone"))
    assert failure.cause is Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN

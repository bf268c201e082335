"""The error classifier over real-shaped bodies (shared/reference: vertex-openai-models.md §4,
gcp-rest-surface.md §3), plus a fuzz proof that it never raises."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from bootstrap.causes.builders import CRM_API
from bootstrap.causes.classify import classify_exception, classify_http, classify_operation_error
from bootstrap.causes.context import CallContext
from bootstrap.causes.retry_after import parse_duration, retry_after_from_headers
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from tests.error_payloads import envelope, retry_info
from tests.error_payloads import error_info as info

P = "demo-proj"
M120 = "publishers/openai/models/gpt-oss-120b-maas"
M20 = "publishers/openai/models/gpt-oss-20b-maas"
DAY = dt.date(2026, 1, 15)


SERVICE_DISABLED = envelope(
    403,
    "PERMISSION_DENIED",
    "Vertex AI API has not been used in project 123 before or it is disabled.",
    info(
        "SERVICE_DISABLED",
        service="aiplatform.googleapis.com",
        consumer="projects/123",
        containerInfo="123",
        activationUrl="https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=123",
    ),
)
BILLING_DISABLED = envelope(
    403,
    "PERMISSION_DENIED",
    "This API method requires billing to be enabled. Please enable billing on project #123 by "
    "visiting https://console.developers.google.com/billing/enable?project=123 then retry.",
    info("BILLING_DISABLED", consumer="projects/123", containerInfo="123"),
)
BILLING_NOT_FOUND = envelope(
    400,
    "FAILED_PRECONDITION",
    "Billing account for project '522837608576' is not found. Billing must be enabled for "
    "activation of service(s) 'compute.googleapis.com' to proceed.",
    {
        "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
        "violations": [
            {
                "type": "googleapis.com/billing-enabled",
                "subject": "?error_code=390001&project=522837608576&services=compute.googleapis.com",
            }
        ],
    },
    info(
        "UREQ_PROJECT_BILLING_NOT_FOUND",
        "serviceusage.googleapis.com/billing-enabled",
        project="522837608576",
        services="compute.googleapis.com",
    ),
)
BILLING_QUOTA = envelope(
    400,
    "FAILED_PRECONDITION",
    "Precondition check failed.",
    {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "subject": "billingAccounts/XXXXXX-XXXXXX-XXXXXX",
                "description": "Cloud billing quota exceeded: https://support.google.com/code/contact/billing_quota_increase",
            }
        ],
    },
)
PREDICT_DENIED = [
    envelope(
        403,
        "PERMISSION_DENIED",
        "Permission 'aiplatform.endpoints.predict' denied on resource "
        "'//aiplatform.googleapis.com/projects/demo-proj/locations/global/endpoints/openapi' (or it may not exist).",
        info(
            "IAM_PERMISSION_DENIED",
            "aiplatform.googleapis.com",
            permission="aiplatform.endpoints.predict",
            resource="projects/demo-proj/locations/global/endpoints/openapi",
        ),
    )
]
CRM_DENIED_V3 = envelope(
    403,
    "PERMISSION_DENIED",
    "Permission 'resourcemanager.projects.get' denied on resource "
    "'//cloudresourcemanager.googleapis.com/projects/123456789' (or it may not exist).",
)
NOT_ALLOWED = envelope(
    400,
    "FAILED_PRECONDITION",
    "Project `demo-proj` is not allowed to use Publisher Model "
    "`projects/demo-proj/locations/global/publishers/openai/models/gpt-oss-120b-maas`",
)
RATE = envelope(
    429,
    "RESOURCE_EXHAUSTED",
    "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'.",
    info(
        "RATE_LIMIT_EXCEEDED",
        quota_metric="cloudresourcemanager.googleapis.com/read_requests",
        quota_limit="ReadRequestsPerMinutePerProject",
        quota_limit_value="1200",
    ),
    retry_info("7s"),
)
DAILY = envelope(
    429,
    "RESOURCE_EXHAUSTED",
    "Quota exceeded for aiplatform.googleapis.com/tokens_per_day_per_base_model.",
    info(
        "RATE_LIMIT_EXCEEDED",
        quota_metric="aiplatform.googleapis.com/tokens_per_day_per_base_model",
        quota_limit="TokensPerDayPerProject",
    ),
)
GEMINI_429 = [
    envelope(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource exhausted. Please try again later. Please refer to "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    )
]
IN_PROGRESS = envelope(
    400, "FAILED_PRECONDITION", "Another activation or deactivation is in progress."
)
PRECONDITION = envelope(400, "FAILED_PRECONDITION", "Precondition check failed.")
UNAUTH = envelope(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials.",
    info("ACCESS_TOKEN_TYPE_UNSUPPORTED"),
)
CONSUMER_INVALID = envelope(
    403,
    "PERMISSION_DENIED",
    "Permission denied on resource project demo-proj.",
    info("CONSUMER_INVALID", consumer="projects/demo-proj", service="serviceusage.googleapis.com"),
)

# (name, status, body, context, cause, disposition, retry_after_s, text the remedy must contain)
TABLE: list[tuple[str, int | None, Any, dict[str, Any], Cause, Disposition, float | None, str]] = [
    ("service disabled", 403, SERVICE_DISABLED, {}, Cause.SERVICE_DISABLED, Disposition.HUMAN_ACTION, None, "gcloud services enable aiplatform.googleapis.com --project=demo-proj"),
    ("billing disabled", 403, BILLING_DISABLED, {}, Cause.BILLING_DISABLED, Disposition.HUMAN_ACTION, None, "gcloud billing projects link demo-proj"),
    ("enable without billing", 400, BILLING_NOT_FOUND, {}, Cause.BILLING_REQUIRED_TO_ENABLE, Disposition.HUMAN_ACTION, None, "gcloud billing projects link"),
    ("billing quota", 400, BILLING_QUOTA, {}, Cause.BILLING_QUOTA_EXCEEDED, Disposition.HUMAN_ACTION, None, "https://support.google.com/code/contact/billing_quota_increase"),
    ("predict denied (array)", 403, PREDICT_DENIED, {}, Cause.PERMISSION_DENIED, Disposition.HUMAN_ACTION, None, "roles/aiplatform.user"),
    ("crm 403 v3", 403, CRM_DENIED_V3, {"api": CRM_API}, Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN, Disposition.HUMAN_ACTION, None, "roles/browser"),
    ("crm 403 bare", 403, envelope(403, "PERMISSION_DENIED", "The caller does not have permission"), {"api": CRM_API}, Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN, Disposition.HUMAN_ACTION, None, "demo-proj"),
    ("consumer invalid", 403, CONSUMER_INVALID, {}, Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN, Disposition.HUMAN_ACTION, None, "roles/browser"),
    ("model not enabled", 400, NOT_ALLOWED, {"location": "global"}, Cause.MODEL_NOT_ENABLED, Disposition.HUMAN_ACTION, None, ":enableModel"),
    ("rate limit", 429, RATE, {}, Cause.RATE_LIMITED, Disposition.RETRY, 7.0, "--rate-limit"),
    ("daily quota", 429, DAILY, {}, Cause.QUOTA_EXHAUSTED, Disposition.HUMAN_ACTION, None, "quotas"),
    ("429 without reason", 429, GEMINI_429, {}, Cause.RATE_LIMITED, Disposition.RETRY, None, ""),
    ("activation in progress", 400, IN_PROGRESS, {}, Cause.UNAVAILABLE, Disposition.RETRY, None, ""),
    ("precondition without reason", 400, PRECONDITION, {}, Cause.UNAVAILABLE, Disposition.RETRY, None, ""),
    ("unauthenticated", 401, UNAUTH, {}, Cause.UNAUTHENTICATED, Disposition.HUMAN_ACTION, None, "gcloud auth application-default login"),
    ("503 empty", 503, b"", {}, Cause.UNAVAILABLE, Disposition.RETRY, None, ""),
    ("502 html", 502, b"<html>Bad Gateway</html>", {}, Cause.UNAVAILABLE, Disposition.RETRY, None, ""),
    ("500 json", 500, envelope(500, "INTERNAL", "Internal error encountered."), {}, Cause.UNAVAILABLE, Disposition.RETRY, None, ""),
    # Google says "not servable in region" (a 400) where a model is not offered; a 404 is no access.
    ("404 in an unlisted location", 404, b"", {"location": "europe-west4", "publisher_model": M120}, Cause.MODEL_NOT_FOUND_OR_NO_ACCESS, Disposition.HUMAN_ACTION, None, "model-garden"),
    ("404 retired", 404, envelope(404, "NOT_FOUND", f"Publisher Model `{M20}` not found."), {"location": "us-central1", "publisher_model": M20, "as_of": dt.date(2026, 11, 1)}, Cause.MODEL_RETIRED, Disposition.FIX_INPUT, None, "gpt-oss-20b"),
    ("404 no access", 404, envelope(404, "NOT_FOUND", "was not found or your project does not have access to it."), {"location": "global", "publisher_model": M120}, Cause.MODEL_NOT_FOUND_OR_NO_ACCESS, Disposition.HUMAN_ACTION, None, "model-garden/gpt-oss-120b-maas"),
    ("404 unknown model", 404, b"", {"location": "global", "publisher_model": "publishers/x/models/y"}, Cause.MODEL_NOT_FOUND_OR_NO_ACCESS, Disposition.HUMAN_ACTION, None, "model-garden"),
    ("409 exists", 409, envelope(409, "ALREADY_EXISTS", "Requested entity already exists"), {}, Cause.PROJECT_ALREADY_EXISTS, Disposition.FIX_INPUT, None, "project id"),
    ("delete requested", 400, envelope(400, "FAILED_PRECONDITION", "Project demo-proj is pending deletion."), {}, Cause.PROJECT_DELETE_REQUESTED, Disposition.HUMAN_ACTION, None, "gcloud projects undelete demo-proj"),
    ("auth permission denied", 403, envelope(403, "PERMISSION_DENIED", "Permission denied to enable service [aiplatform.googleapis.com]", info("AUTH_PERMISSION_DENIED", "serviceusage.googleapis.com", permission="serviceusage.services.enable")), {}, Cause.PERMISSION_DENIED, Disposition.HUMAN_ACTION, None, "roles/serviceusage.serviceUsageAdmin"),
    ("plain text", 418, "I'm a teapot", {}, Cause.UNKNOWN, Disposition.FAIL, None, ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "context", "cause", "disposition", "retry_after", "remedy_part"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_classify_table(
    status: int | None,
    body: Any,
    context: dict[str, Any],
    cause: Cause,
    disposition: Disposition,
    retry_after: float | None,
    remedy_part: str,
) -> None:
    context = {"as_of": DAY, **context}
    for shape in (body, json.dumps(body) if not isinstance(body, bytes | str) else body):
        failure = classify_http(status, shape, CallContext(project_id=P, **context))
        assert failure.cause is cause
        assert failure.disposition is disposition
        assert failure.retry_after_s == retry_after
        assert remedy_part in failure.remedy
        assert P in failure.message
        assert "\n" not in failure.remedy
        assert failure.http_status == status


def test_reason_is_read_first_and_metadata_kept() -> None:
    failure = classify_http(403, SERVICE_DISABLED, CallContext(project_id=P))
    assert failure.reason == "SERVICE_DISABLED"
    assert failure.metadata["service"] == "aiplatform.googleapis.com"
    assert "activationUrl" in failure.metadata
    assert "aiplatform.googleapis.com/overview" in failure.message  # the activation link


def test_service_disabled_in_quota_project_names_it() -> None:
    failure = classify_http(403, SERVICE_DISABLED, CallContext(project_id=P, project_number="999"))
    assert "quota (caller) project" in failure.message
    assert "123" in failure.message and P in failure.message
    assert "--project=123" in failure.remedy
    # same number: the target project itself
    same = classify_http(403, SERVICE_DISABLED, CallContext(project_id=P, project_number="123"))
    assert "quota" not in same.message
    # consumer named by id
    body = json.loads(json.dumps(SERVICE_DISABLED))
    body["error"]["details"][0]["metadata"]["consumer"] = "projects/my-quota-proj"
    other = classify_http(403, body, CallContext(project_id=P))
    assert "my-quota-proj" in other.message and "quota (caller) project" in other.message


def test_sdk_body_without_envelope() -> None:
    # openai keeps body["error"] in e.body
    failure = classify_http(429, RATE["error"], CallContext(project_id=P))
    assert failure.cause is Cause.RATE_LIMITED
    assert failure.retry_after_s == 7.0


def test_operation_errors() -> None:
    generic = classify_operation_error({"code": 13, "message": "boom"}, CallContext(project_id=P))
    assert generic.cause is Cause.OPERATION_FAILED
    billing = classify_operation_error(
        BILLING_NOT_FOUND["error"] | {"code": 9}, CallContext(project_id=P)
    )
    assert billing.cause is Cause.BILLING_REQUIRED_TO_ENABLE
    busy = classify_operation_error(
        {"code": 9, "message": "Another activation or deactivation is in progress."}
    )
    assert busy.disposition is Disposition.RETRY


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7s", 7.0), ("1.5s", 1.5), ("0s", 0.0), ({"seconds": "3", "nanos": 500000000}, 3.5),
     ("-1s", None), ("soon", None), (None, None), (12, None)],
)  # fmt: skip
def test_parse_duration(value: object, expected: float | None) -> None:
    assert parse_duration(value) == expected


def test_retry_after_header() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_from_headers({"Retry-After": "12"}, now=now) == 12.0
    assert (
        retry_after_from_headers({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, now=now) == 30.0
    )
    assert (
        retry_after_from_headers({"Retry-After": "Wed, 31 Dec 2025 12:00:00 GMT"}, now=now) == 0.0
    )
    assert retry_after_from_headers({"Retry-After": "-5"}, now=now) is None
    assert retry_after_from_headers({"Retry-After": "whenever"}, now=now) is None
    assert retry_after_from_headers({"retry-after-ms": "250"}, now=now) == 0.25
    assert retry_after_from_headers(None) is None
    failure = classify_http(429, b"", CallContext(project_id=P), headers={"Retry-After": "3"})
    assert failure.cause is Cause.RATE_LIMITED and failure.retry_after_s == 3.0
    # RetryInfo wins over the header
    assert classify_http(429, RATE, headers={"Retry-After": "99"}).retry_after_s == 7.0


def test_no_project_means_no_project_in_message() -> None:
    failure = classify_http(503, None)
    assert failure.cause is Cause.UNAVAILABLE
    assert failure.message[0].isupper()


def test_secrets_never_reach_message_or_metadata() -> None:
    token = "ya29.a0AfH6SMBsecretsecretsecret"
    body = envelope(
        403,
        "PERMISSION_DENIED",
        f"bad header Authorization: Bearer {token} from /home/me/.config/gcloud/application_default_credentials.json",
        info("IAM_PERMISSION_DENIED", credential_source="/home/me/key.json", permission="x.y.z"),
    )
    failure = classify_http(403, body, CallContext(project_id=P))
    everything = failure.message + failure.remedy + json.dumps(failure.metadata)
    assert token not in everything
    assert "key.json" not in everything
    assert "application_default_credentials" not in everything
    unknown = classify_http(418, f"oops {token}", CallContext(project_id=P))
    assert token not in unknown.message + json.dumps(unknown.metadata)


# --- exceptions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectionError("Connection aborted."),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
        httpx.ConnectError("connect failed"),
        httpx.ReadTimeout("timeout"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError("[Errno 104] Connection reset by peer"),
    ],
)
def test_transport_errors_retry(exc: BaseException) -> None:
    failure = classify_exception(exc, CallContext(project_id=P))
    assert failure.cause is Cause.UNAVAILABLE
    assert failure.disposition is Disposition.RETRY
    assert P in failure.message


def test_wrapped_transport_error_found_in_chain() -> None:
    try:
        try:
            raise ConnectionResetError("reset")
        except ConnectionResetError as inner:
            raise RuntimeError("call failed") from inner
    except RuntimeError as outer:
        assert classify_exception(outer).cause is Cause.UNAVAILABLE


def test_http_error_exceptions_go_through_classify_http() -> None:
    response = httpx.Response(
        429,
        json=RATE,
        headers={"Retry-After": "2"},
        request=httpx.Request("GET", "https://x"),
    )
    exc = httpx.HTTPStatusError("429", request=response.request, response=response)
    failure = classify_exception(exc, CallContext(project_id=P))
    assert failure.cause is Cause.RATE_LIMITED and failure.retry_after_s == 7.0

    class ApiCallError(Exception):  # shaped like google.api_core GoogleAPICallError
        code = 403
        message = "Permission denied"
        details = PREDICT_DENIED[0]["error"]["details"]
        response = None

    assert (
        classify_exception(ApiCallError(), CallContext(project_id=P)).cause
        is Cause.PERMISSION_DENIED
    )

    class RefreshError(Exception):
        pass

    auth = classify_exception(
        RefreshError("invalid_grant: token at /home/me/sa.json"), CallContext(project_id=P)
    )
    assert auth.cause is Cause.UNAUTHENTICATED
    assert "sa.json" not in auth.message


def test_bootstrap_error_passes_through() -> None:
    failure = Failure(cause=Cause.OPERATION_TIMEOUT, message="m")
    assert classify_exception(BootstrapError(failure)) is failure


def test_unknown_exception() -> None:
    failure = classify_exception(ValueError("strange"), CallContext(project_id=P))
    assert failure.cause is Cause.UNKNOWN and P in failure.message


# --- fuzz -------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
_keys = st.sampled_from(["code", "status", "message", "details", "error", "@type", "reason",
                         "metadata", "retryDelay", "violations", "domain"])  # fmt: skip
_google_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=6)),
    max_leaves=30,
)
_bodies = st.one_of(
    _json,
    _google_like,
    st.binary(max_size=200),
    _google_like.map(lambda v: json.dumps(v, default=str)),
    st.text(max_size=200),
)


@settings(max_examples=400, deadline=None)
@given(
    status=st.one_of(st.none(), st.integers(min_value=-5, max_value=700)),
    body=_bodies,
    headers=st.one_of(st.none(), st.dictionaries(st.sampled_from(["Retry-After", "retry-after-ms", "x"]), st.text(max_size=30))),
    project=st.one_of(st.none(), st.just(P)),
    location=st.one_of(st.none(), st.sampled_from(["global", "us-central1", "mars-1"])),
    model=st.one_of(st.none(), st.sampled_from([M120, M20, "publishers/a/models/b", "junk"])),
)  # fmt: skip
def test_fuzz_never_raises(
    status: int | None,
    body: object,
    headers: dict[str, str] | None,
    project: str | None,
    location: str | None,
    model: str | None,
) -> None:
    failure = classify_http(
        status,
        body,
        CallContext(project_id=project, location=location, publisher_model=model, as_of=DAY),
        headers=headers,
    )
    assert isinstance(failure, Failure)
    assert isinstance(failure.cause, Cause)
    assert failure.message
    assert failure.retry_after_s is None or failure.retry_after_s >= 0
    assert "\n" not in failure.remedy

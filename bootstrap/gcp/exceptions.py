"""The boundary where google-shaped exceptions become the tool's own: judged, then classified.

Two jobs, both reading the same exception family (`google.api_core.exceptions.GoogleAPICallError`
from the GAPIC REST transports and from `from_http_response` on our own Vertex calls, plus the
transport errors of `requests`):

- `judge(exc, api=...)` tells the retry loop what to do (retry, refresh once, answer lost, fail),
  with the delay the server asked for and the limit a 429 named;
- `to_failure(exc, context, api=...)` turns the final exception into a classified `Failure`
  through `bootstrap.causes.classify`, which redacts what the exception carries as it reads it
  (GAPIC appends the credential info, including the key file path as `credential_source`, to
  401/403/404 details).
"""

from __future__ import annotations

import dataclasses
import http.client
import json

import requests
import urllib3.exceptions
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.protobuf import json_format

from bootstrap.causes.builders import after_retries
from bootstrap.causes.classify import (
    classify_credentials_error,
    classify_exception,
    classify_http,
)
from bootstrap.causes.context import CallContext
from bootstrap.causes.retry_after import parse_duration, parse_retry_after
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.gcp.retry import Judgement, RetryExhausted, Verdict

_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
_RATE_REASONS = frozenset({"", "RATE_LIMIT_EXCEEDED", "rateLimitExceeded"})
_ACTIVATION_IN_PROGRESS = "another activation or deactivation is in progress"
_PRECONDITION = "precondition check failed"
# The short API names of method names ("serviceusage.services.enable") and their hosts, which
# the classifier reads (a bare 403 from Resource Manager means "missing or forbidden").
_API_HOSTS = {
    "resourcemanager": "cloudresourcemanager.googleapis.com",
    "serviceusage": "serviceusage.googleapis.com",
    "cloudbilling": "cloudbilling.googleapis.com",
    "aiplatform": "aiplatform.googleapis.com",
    "orgpolicy": "orgpolicy.googleapis.com",
    "cloudquotas": "cloudquotas.googleapis.com",
}


def judge(exc: BaseException, *, api: str) -> Judgement:
    """The retry verdict for one failed attempt on `api` (serviceusage, cloudbilling, ...)."""
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        return _judge_api_error(exc, api)
    if isinstance(exc, requests.ConnectTimeout | auth_exceptions.TransportError):
        return Judgement(Verdict.RETRY)  # nothing reached the server
    if isinstance(exc, requests.ConnectionError) and _never_connected(exc):
        return Judgement(Verdict.RETRY)
    if isinstance(exc, _LOST_ANSWER):
        # Reset, read timeout or a truncated body after the request went out: it may have been
        # applied, so a mutation must re-read before sending again.
        return Judgement(Verdict.LOST)
    return Judgement(Verdict.FAIL)


_LOST_ANSWER = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    http.client.HTTPException,
    urllib3.exceptions.ProtocolError,
    ConnectionError,
    json.JSONDecodeError,
    json_format.ParseError,
)


def is_answer(exc: BaseException) -> bool:
    """True when the server answered (an HTTP error): someone is listening at the endpoint."""
    return isinstance(exc, api_exceptions.GoogleAPICallError)


def _never_connected(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _judge_api_error(exc: api_exceptions.GoogleAPICallError, api: str) -> Judgement:
    code = exc.code
    asked = retry_after_s(exc)
    if code == 401:
        return Judgement(Verdict.REFRESH)
    if code == 429:
        limit = limit_per_minute(exc)
        metadata = exc.metadata or {}
        # A limit of 0 is not "busy": no retry will ever pass (QUOTA_ZERO, a person raises it);
        # nor will one within the run against a daily quota (Policy Analyzer's 20 a day).
        zero = str(metadata.get("quota_limit_value", "")).strip() == "0"
        daily = "perday" in str(metadata.get("quota_limit", "")).lower()
        if (exc.reason or "") in _RATE_REASONS and not zero and not daily:
            return Judgement(Verdict.RETRY, asked, rate_limited=True, limit_per_minute=limit)
        return Judgement(Verdict.FAIL, asked, rate_limited=True, limit_per_minute=limit)
    if code in (500, 504):
        # An internal error or a gateway timeout may come after the backend acted: for a
        # mutation, the answer is lost (re-read harder before re-sending).
        return Judgement(Verdict.LOST, asked)
    if code in _RETRYABLE_STATUS:
        return Judgement(Verdict.RETRY, asked)
    if api == "serviceusage" and code in (400, 409, 412) and _service_usage_transient(exc):
        # "Another activation ... in progress" may be our own lost request still running.
        return Judgement(Verdict.LOST, asked)
    return Judgement(Verdict.FAIL, asked)


def _service_usage_transient(exc: api_exceptions.GoogleAPICallError) -> bool:
    """Terraform's rules: a concurrent activation, or a precondition failure not about billing."""
    text = (exc.message or "").lower()
    if _ACTIVATION_IN_PROGRESS in text:
        return True
    if _PRECONDITION not in text:
        return False
    about_billing = "billing" in (exc.reason or "").lower() or "billing" in _details_text(exc)
    return not about_billing


def _details_text(exc: api_exceptions.GoogleAPICallError) -> str:
    try:
        return json.dumps(list(exc.details or ()), default=str).lower()
    except (TypeError, ValueError):
        return ""


def retry_after_s(exc: api_exceptions.GoogleAPICallError) -> float | None:
    """The larger of `RetryInfo.retryDelay` and the `Retry-After` header, in seconds (both read
    by `bootstrap.causes.retry_after`, the one parser the classifier uses too)."""
    found: list[float] = []
    for detail in exc.details or ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("rpc.RetryInfo"):
            delay = parse_duration(detail.get("retryDelay"))
            if delay is not None:
                found.append(delay)
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        header = parse_retry_after(headers.get("Retry-After"))
        if header is not None:
            found.append(header)
    return max(found) if found else None


def limit_per_minute(exc: api_exceptions.GoogleAPICallError) -> float | None:
    """The quota a 429 named (`ErrorInfo.metadata.quota_limit_value`), per minute."""
    metadata = exc.metadata or {}
    raw = metadata.get("quota_limit_value")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    if value is None or value <= 0:
        return None
    unit = str(metadata.get("quota_limit", "")).lower()
    if "persecond" in unit:
        return value * 60.0
    if "perhour" in unit:
        return value / 60.0
    if "perday" in unit:
        return None  # a daily quota is not something pacing can meet
    return value


def to_failure(exc: BaseException, context: CallContext, *, api: str) -> Failure:
    """The classified Failure for the exception that ended a call to `api`, the short name its
    method starts with (serviceusage, ...); the context's `api` is set to that API's host."""
    context = dataclasses.replace(context, api=_API_HOSTS.get(api))
    if isinstance(exc, BootstrapError):
        return exc.failure
    if isinstance(exc, RetryExhausted):
        return _exhausted_failure(exc, context, api)
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        return _classify_api_error(exc, context)
    if isinstance(exc, auth_exceptions.DefaultCredentialsError | auth_exceptions.RefreshError):
        return classify_credentials_error(exc, context)
    if isinstance(exc, (*_LOST_ANSWER, auth_exceptions.TransportError)):
        return Failure(
            cause=Cause.UNAVAILABLE,
            message=f"{_what(api, context)}: no usable answer ({type(exc).__name__})",
            remedy="check the network (proxy, firewall) and rerun",
            disposition=Disposition.RETRY,
        )
    return classify_exception(exc, context)


def _classify_api_error(exc: api_exceptions.GoogleAPICallError, context: CallContext) -> Failure:
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        body: object = response.content
        headers: dict[str, str] | None = dict(response.headers)
    else:  # an operation's error or a hand-made exception: rebuild the Google error shape
        body = {
            "error": {
                "code": exc.code,
                "message": exc.message,
                "status": getattr(exc.grpc_status_code, "name", None),
                "details": [d for d in exc.details or () if isinstance(d, dict)],
            }
        }
        headers = None
    return classify_http(exc.code, body, context, headers=headers)


def _exhausted_failure(exc: RetryExhausted, context: CallContext, api: str) -> Failure:
    failure = to_failure(exc.last, context, api=api)
    if not exc.too_long:
        return after_retries(failure, context, attempts=exc.attempts, elapsed_s=exc.elapsed_s)
    asked = exc.retry_after_s or 0.0
    return dataclasses.replace(
        failure,
        cause=Cause.RATE_LIMITED,
        message=f"{_what(api, context)}: rate limited, retry after {asked:.0f} s",
        remedy=failure.remedy or f"rerun after {asked:.0f} s or lower --concurrency",
        disposition=Disposition.RETRY,
        retry_after_s=asked,
    )


def _what(api: str, context: CallContext) -> str:
    if context.project_id:
        return f"{api or 'Google API'} call for project {context.project_id}"
    return f"{api or 'Google API'} call"

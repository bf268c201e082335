"""The error classifier: any Google API answer or transport error -> one named `Failure`.

`classify_http` reads a Google error body in every shape seen in the wild (`{"error": {...}}`,
a one-item JSON array wrapping it, the bare `error` object the openai SDK keeps in `e.body`, an
LRO `google.rpc.Status`, an empty body, text, garbage) and decides in this order, because the
structured fields are the stable contract and messages are not:

1. `ErrorInfo.reason` (SERVICE_DISABLED, BILLING_DISABLED, IAM_PERMISSION_DENIED, ...) and the
   typed details (QuotaFailure for the billing-account project quota);
2. the status name and HTTP status (401, 403 from Resource Manager, 404 with the catalog, 429,
   5xx);
3. the message (the "not allowed to use Publisher Model" and "not servable in region" texts,
   "Another activation ...").

Decisions (see also the report of the change that introduced this module):
- 429 is RATE_LIMITED (retry) unless the limit is not a rate: a quota counted per day (metric,
  limit or message says "per day"/"PerDay"/"daily") is QUOTA_EXHAUSTED, and a limit of 0
  (ErrorInfo `quota_limit_value` "0", or "limit: 0" in the text) is QUOTA_ZERO, both for a
  person (raise it).
- The guards (evidence rows 23-24) need a person and are never retried: a PreconditionFailure of
  type VPC_SERVICE_CONTROLS or ErrorInfo SECURITY_POLICY_VIOLATED is VPC_SC_BLOCKED (checked
  before the 403's permission reading, which would wrongly ask for a role); a message naming
  `constraints/vertexai.allowedModels` is ORG_POLICY_DENIED (before the model texts, so it never
  reads as "not enabled" and leads to no enableModel).
- Service Usage "Another activation or deactivation is in progress", "Precondition check
  failed." without a billing reason, HTTP 409 ABORTED, and 5xx are UNAVAILABLE with RETRY.
- An LRO error (`{"code": <rpc int>, ...}` and no HTTP status) without a specific reason is
  OPERATION_FAILED.
- 401 is UNAUTHENTICATED with HUMAN_ACTION: the retry loop refreshes credentials once on it,
  then the remedy is `gcloud auth application-default login`.

What the call was about comes as one `bootstrap.causes.context.CallContext`. What the server or an
exception said is redacted once, as it is read (`bootstrap.causes.bodies`); classification never
raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bootstrap import remedies
from bootstrap.causes.bodies import ErrorBody, parse_body, text_body
from bootstrap.causes.builders import (
    MAX_SERVER_TEXT,
    billing_disabled,
    billing_quota,
    delete_requested,
    forbidden,
    make_failure,
    model_not_enabled,
    model_not_servable,
    not_found,
    one_line,
    org_policy_denied,
    permission_denied,
    project_missing,
    project_ref,
    quota_zero,
    server_text,
    service_disabled,
    too_many,
    unauthenticated,
    unknown,
    vpc_sc_blocked,
    with_project,
)
from bootstrap.causes.context import CallContext
from bootstrap.causes.exceptions import (
    AUTH_NAMES,
    TRANSPORT_NAMES,
    TRANSPORT_TEXT,
    exception_chain,
    http_answer,
)
from bootstrap.causes.retry_after import retry_after_from_headers
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure

_RETRYABLE_HTTP = frozenset({500, 502, 503, 504})
_RETRYABLE_STATUS = frozenset({"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"})
_AUTH_REASONS = frozenset(
    {
        "ACCESS_TOKEN_EXPIRED",
        "ACCESS_TOKEN_TYPE_UNSUPPORTED",
        "CREDENTIALS_MISSING",
        "ACCESS_TOKEN_INVALID",
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
    }
)
_PERMISSION_REASONS = frozenset(
    {"IAM_PERMISSION_DENIED", "AUTH_PERMISSION_DENIED", "PERMISSION_DENIED", "USER_PROJECT_DENIED"}
)

_DELETED = re.compile(
    r"(?i)pending deletion|scheduled for deletion|delete[_ ]requested|has been deleted"
)


def classify_http(
    status: int | None,
    body: bytes | str | object | None,
    context: CallContext | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Failure:
    """Classify one HTTP error answer (or an LRO error) into a `Failure`. Never raises.

    `context.api` names the API that answered (e.g. `cloudresourcemanager.googleapis.com`), so a
    bare 403 from Resource Manager reads as "missing or forbidden"; `context.project_number` lets
    the SERVICE_DISABLED check tell the target project from the quota project when the server
    names the project by number. `headers` may carry `Retry-After`.
    """
    ctx = context or CallContext()
    try:
        parsed = parse_body(body)
        if status is not None:
            parsed.http = status
        delay = parsed.retry_delay_s
        if delay is None:
            delay = retry_after_from_headers(headers)
        failure = _decide(parsed, ctx)
        return _finish(failure, parsed, delay)
    except Exception as exc:  # the classifier is the last line of defence: it must not raise
        return Failure(
            cause=Cause.UNKNOWN,
            message=with_project(
                ctx.project_id, f"an error answer could not be read ({type(exc).__name__})."
            ),
            http_status=status,
        )


def known_zero_quota(context: CallContext, *, quota_id: str, base_model: str) -> Failure:
    """A 429 for a model whose quota Cloud Quotas reads as 0 (evidence row 22): QUOTA_ZERO even
    when the answer looks like a busy rate limit (no `limit: 0`, no ErrorInfo), because no retry
    can pass a limit of 0. `quota_id` names the limit, `base_model` the model it is set for."""
    parsed = ErrorBody(
        http=429,
        status="RESOURCE_EXHAUSTED",
        metadata={"quota_limit": quota_id, **({"base_model": base_model} if base_model else {})},
    )
    return _finish(quota_zero(parsed, context), parsed, None)


def classify_operation_error(error: object, context: CallContext | None = None) -> Failure:
    """Classify a failed long-running operation's `error` (a google.rpc.Status)."""
    return classify_http(None, error, context)


# --- deciding ------------------------------------------------------------------------------


def _decide(p: ErrorBody, ctx: CallContext) -> Failure:
    if "VPC_SERVICE_CONTROLS" in " ".join(p.precondition_types).upper():
        return vpc_sc_blocked(p, ctx)
    by_reason = _by_reason(p, ctx)
    if by_reason is not None:
        return by_reason
    if any("billing quota" in v.lower() for v in p.quota_violations):
        return billing_quota(ctx)
    by_text = _by_message(p, ctx)
    if by_text is not None:
        return by_text
    by_status = _by_status(p, ctx)
    if by_status is not None:
        return by_status
    if p.from_operation:
        return make_failure(
            Cause.OPERATION_FAILED, ctx, f"an operation failed: {server_text(p)}", ""
        )
    return unknown(p, ctx)


def _by_reason(p: ErrorBody, ctx: CallContext) -> Failure | None:
    reason = p.reason
    if not reason:
        return None
    if reason == "SERVICE_DISABLED":
        return service_disabled(p, ctx)
    if reason == "BILLING_DISABLED":
        return billing_disabled(p, ctx)
    if reason == "UREQ_PROJECT_BILLING_NOT_FOUND":
        services = p.metadata.get("services", "")
        return make_failure(
            Cause.BILLING_REQUIRED_TO_ENABLE,
            ctx,
            f"APIs ({services or 'the requested services'}) cannot be enabled without a billing account.",
            remedies.link_billing(project_ref(ctx, p), None),
            Disposition.HUMAN_ACTION,
        )
    if reason == "RATE_LIMIT_EXCEEDED":
        return too_many(p, ctx)
    if reason == "SECURITY_POLICY_VIOLATED":
        return vpc_sc_blocked(p, ctx)
    if reason in _AUTH_REASONS:
        return unauthenticated(ctx)
    if reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
        return make_failure(
            Cause.PERMISSION_DENIED,
            ctx,
            "the credentials lack the cloud-platform OAuth scope.",
            remedies.LOGIN,
            Disposition.HUMAN_ACTION,
        )
    if reason in {"CONSUMER_INVALID", "RESOURCE_PROJECT_INVALID"}:
        return project_missing(ctx)
    if reason in _PERMISSION_REASONS:
        return permission_denied(p, ctx)
    return None


def _by_message(p: ErrorBody, ctx: CallContext) -> Failure | None:
    text = p.message
    lowered = text.lower()
    if "constraints/vertexai.allowedmodels" in lowered:
        return org_policy_denied(p, ctx)
    # Both are 400 FAILED_PRECONDITION; only "not allowed to use" may lead to enableModel.
    if "is not servable in region" in lowered:
        return model_not_servable(p, ctx)
    if "is not allowed to use publisher model" in lowered:
        return model_not_enabled(p, ctx)
    if "another activation or deactivation is in progress" in lowered:
        return make_failure(
            Cause.UNAVAILABLE,
            ctx,
            "another service activation is in progress; waiting and retrying.",
            "Wait a minute and rerun; the other activation finishes on its own.",
            Disposition.RETRY,
        )
    if "precondition check failed" in lowered and not p.precondition_types:
        return make_failure(
            Cause.UNAVAILABLE,
            ctx,
            "the server answered 'Precondition check failed.' without a reason; retrying.",
            "Rerun later; if it persists, check the project's billing and API state in the console.",
            Disposition.RETRY,
        )
    if _DELETED.search(text):
        return delete_requested(ctx)
    return None


def _by_status(p: ErrorBody, ctx: CallContext) -> Failure | None:
    http, status = p.http, p.status
    if http == 401 or status == "UNAUTHENTICATED":
        return unauthenticated(ctx)
    if http == 429 or status == "RESOURCE_EXHAUSTED":
        return too_many(p, ctx)
    if (http in _RETRYABLE_HTTP or status in _RETRYABLE_STATUS) and not p.from_operation:
        return make_failure(
            Cause.UNAVAILABLE,
            ctx,
            f"the service is temporarily unavailable (HTTP {http or status}).",
            "Rerun later; the tool retries this on its own.",
            Disposition.RETRY,
        )
    if http == 403 or status == "PERMISSION_DENIED":
        return forbidden(p, ctx)
    if http == 404 or status == "NOT_FOUND":
        return not_found(p, ctx)
    if http == 409 and status == "ALREADY_EXISTS":
        return make_failure(
            Cause.PROJECT_ALREADY_EXISTS,
            ctx,
            "the project id is already in use (by you or someone else).",
            "Choose another project id, or set create: false to manage the existing project.",
            Disposition.FIX_INPUT,
        )
    if status == "INVALID_ARGUMENT":
        return make_failure(
            Cause.INVALID_INPUT,
            ctx,
            f"the request was rejected as invalid: {server_text(p)}",
            "Check the project id, location and model in the manifest.",
            Disposition.FIX_INPUT,
        )
    return None


def _finish(failure: Failure, p: ErrorBody, delay: float | None) -> Failure:
    """Add what the server said (`p` is already redacted) and put message and remedy on one line."""
    metadata = dict(p.metadata)
    if p.domain:
        metadata.setdefault("domain", p.domain)
    if p.message:
        metadata.setdefault("server_message", p.message[:1000])
    return Failure(
        cause=failure.cause,
        message=one_line(failure.message),
        remedy=one_line(failure.remedy),
        disposition=failure.disposition,
        http_status=p.http,
        reason=p.reason or None,
        metadata=metadata,
        retry_after_s=delay,
    )


# --- exceptions ------------------------------------------------------------------------------


def classify_exception(exc: BaseException, context: CallContext | None = None) -> Failure:
    """Classify an exception: an HTTP error carried by an exception (google-api-core, requests,
    httpx, openai) goes through `classify_http`; transport errors are UNAVAILABLE with RETRY;
    credential errors are UNAUTHENTICATED. Never raises."""
    ctx = context or CallContext()
    try:
        if isinstance(exc, BootstrapError):
            return exc.failure
        answer = http_answer(exc)
        if answer is not None:
            status, body, headers = answer
            return classify_http(status, body, ctx, headers=headers)
        return _without_answer(exc, ctx)
    except Exception:
        return Failure(
            cause=Cause.UNKNOWN,
            message=with_project(ctx.project_id, "an error could not be classified."),
        )


def classify_credentials_error(exc: BaseException, context: CallContext | None = None) -> Failure:
    """google-auth could not produce credentials (no ADC, a refresh that failed): UNAUTHENTICATED,
    naming what it said, with the login remedy."""
    return unauthenticated(context or CallContext(), text_body(str(exc)).message)


def _without_answer(exc: BaseException, ctx: CallContext) -> Failure:
    """An exception without an HTTP answer: credentials or transport (anywhere in its chain),
    else UNKNOWN quoting it."""
    for link in exception_chain(exc):
        name = type(link).__name__
        if name in AUTH_NAMES:
            return _finish(unauthenticated(ctx), text_body(str(link)), None)
        if name in TRANSPORT_NAMES or TRANSPORT_TEXT.search(str(link)):
            return _finish(_transport(ctx, link), ErrorBody(), None)
    said = one_line(text_body(str(exc)).message)[:MAX_SERVER_TEXT]
    failure = make_failure(Cause.UNKNOWN, ctx, f"unexpected {type(exc).__name__}: {said}", "")
    return _finish(failure, ErrorBody(), None)


def _transport(ctx: CallContext, exc: BaseException) -> Failure:
    return make_failure(
        Cause.UNAVAILABLE,
        ctx,
        f"the connection failed before an answer arrived ({type(exc).__name__}); retrying.",
        "Check network access to *.googleapis.com; the tool retries this on its own.",
        Disposition.RETRY,
    )

"""The error classifier: any Google API answer or transport error -> one named `Failure`.

`classify_http` reads a Google error body in every shape seen in the wild (`{"error": {...}}`,
a one-item JSON array wrapping it, the bare `error` object the openai SDK keeps in `e.body`, an
LRO `google.rpc.Status`, an empty body, text, garbage) and decides in this order, because the
structured fields are the stable contract and messages are not:

1. `ErrorInfo.reason` (SERVICE_DISABLED, BILLING_DISABLED, IAM_PERMISSION_DENIED, ...) and the
   typed details (QuotaFailure for the billing-account project quota);
2. the status name and HTTP status (401, 403 from Resource Manager, 404 with the catalog, 429,
   5xx);
3. the message (the "not allowed to use Publisher Model" text, "Another activation ...").

Decisions (see also the report of the change that introduced this module):
- 429 is RATE_LIMITED (retry) unless the limit is not a rate: a quota counted per day (metric,
  limit or message says "per day"/"PerDay"/"daily") is QUOTA_EXHAUSTED, for a person (raise it).
- Service Usage "Another activation or deactivation is in progress", "Precondition check
  failed." without a billing reason, HTTP 409 ABORTED, and 5xx are UNAVAILABLE with RETRY.
- An LRO error (`{"code": <rpc int>, ...}` and no HTTP status) without a specific reason is
  OPERATION_FAILED.
- 401 is UNAUTHENTICATED with HUMAN_ACTION: the retry loop refreshes credentials once on it,
  then the remedy is `gcloud auth application-default login`.

Every message and remedy goes through `bootstrap.redact`; classification never raises.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bootstrap import catalog, remedies
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.redact import redact, redact_mapping

CRM_API = "cloudresourcemanager.googleapis.com"
LOGIN = "gcloud auth application-default login"
QUOTA_CONSOLE = "https://console.cloud.google.com/iam-admin/quotas"
_MAX_SERVER_TEXT = 300

# google.rpc.Code number -> HTTP status, for LRO errors that carry only the rpc code.
_RPC_TO_HTTP: dict[int, int] = {
    1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
    9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}  # fmt: skip
_RPC_NAMES: dict[int, str] = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
    6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
    10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
    15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}  # fmt: skip
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
_PERMISSION_IN_TEXT = re.compile(r"[Pp]ermission '?([a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+){2,})'?")
_PUBLISHER_MODEL_IN_TEXT = re.compile(r"publishers/([\w.-]+)/models/([\w.@-]+)")
_DAILY = re.compile(r"(?i)per[ _-]?day|perday|daily")
_DELETED = re.compile(
    r"(?i)pending deletion|scheduled for deletion|delete[_ ]requested|has been deleted"
)


@dataclass(frozen=True, slots=True)
class _Context:
    project_id: str | None
    location: str | None
    publisher_model: str | None
    as_of: dt.date | None
    api: str | None
    project_number: str | None


@dataclass(slots=True)
class _Parsed:
    """The fields of a Google error body that classification reads, all optional."""

    http: int | None = None
    status: str = ""
    message: str = ""
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    retry_delay_s: float | None = None
    quota_violations: list[str] = field(default_factory=list)
    precondition_types: list[str] = field(default_factory=list)
    from_operation: bool = False  # an LRO google.rpc.Status (rpc code, no HTTP status)


def classify_http(
    status: int | None,
    body: bytes | str | object | None,
    *,
    project_id: str | None = None,
    location: str | None = None,
    publisher_model: str | None = None,
    as_of: dt.date | None = None,
    headers: Mapping[str, str] | None = None,
    api: str | None = None,
    project_number: str | None = None,
) -> Failure:
    """Classify one HTTP error answer (or an LRO error) into a `Failure`. Never raises.

    `api` names the API that answered (e.g. `cloudresourcemanager.googleapis.com`), so a bare
    403 from Resource Manager reads as "missing or forbidden"; `project_number` lets the
    SERVICE_DISABLED check tell the target project from the quota project when the server names
    the project by number.
    """
    ctx = _Context(project_id, location, publisher_model, as_of, api, project_number)
    try:
        parsed = _parse(body)
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
            message=_prefix(
                ctx.project_id, f"an error answer could not be read ({type(exc).__name__})."
            ),
            http_status=status,
        )


def classify_operation_error(error: object, **context: Any) -> Failure:
    """Classify a failed long-running operation's `error` (a google.rpc.Status)."""
    return classify_http(None, error, **context)


# --- parsing -------------------------------------------------------------------------------


def _parse(body: bytes | str | object | None) -> _Parsed:
    data = _decode(body)
    if isinstance(data, list) and data:
        data = data[0]  # Vertex prediction routes wrap the envelope in a one-item array
    parsed = _Parsed()
    if isinstance(data, str):
        parsed.message = data.strip()
        return parsed
    if not isinstance(data, Mapping):
        return parsed
    error = data.get("error", data)
    if isinstance(
        error, str
    ):  # OAuth endpoints: {"error": "invalid_grant", "error_description": ...}
        parsed.status = error.upper()
        parsed.message = _text(data.get("error_description")) or error
        return parsed
    if not isinstance(error, Mapping):
        return parsed
    _read_envelope(error, parsed)
    return parsed


def _decode(body: bytes | str | object | None) -> object:
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        text = body.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return body


def _read_envelope(error: Mapping[Any, Any], parsed: _Parsed) -> None:
    code = error.get("code")
    status = error.get("status")
    if isinstance(status, str):
        parsed.status = status.upper()
    if isinstance(code, int) and not isinstance(code, bool):
        if 100 <= code < 600:
            parsed.http = code
        elif code in _RPC_TO_HTTP and not isinstance(status, str):
            parsed.http = _RPC_TO_HTTP[code]
            parsed.status = _RPC_NAMES[code]
            parsed.from_operation = True
    parsed.message = _text(error.get("message"))
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, Mapping):
            _read_detail(detail, parsed)


def _read_detail(detail: Mapping[Any, Any], parsed: _Parsed) -> None:
    kind = _text(detail.get("@type")).rsplit(".", 1)[-1]
    if kind == "ErrorInfo" or (not kind and "reason" in detail):
        if not parsed.reason:  # the first ErrorInfo wins, as in google-api-core
            parsed.reason = _text(detail.get("reason")).upper()
            parsed.domain = _text(detail.get("domain"))
            meta = detail.get("metadata")
            if isinstance(meta, Mapping):
                parsed.metadata = {str(k): _text(v) for k, v in meta.items()}
    elif kind == "RetryInfo" and parsed.retry_delay_s is None:
        parsed.retry_delay_s = parse_duration(detail.get("retryDelay"))
    elif kind == "QuotaFailure":
        parsed.quota_violations.extend(_violation_texts(detail))
    elif kind == "PreconditionFailure":
        parsed.precondition_types.extend(_violation_texts(detail, key="type"))


def _violation_texts(detail: Mapping[Any, Any], key: str = "description") -> list[str]:
    violations = detail.get("violations")
    out: list[str] = []
    for item in violations if isinstance(violations, list) else []:
        if isinstance(item, Mapping):
            out.append(" ".join(_text(item.get(k)) for k in (key, "subject", "quotaId")).strip())
    return out


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, Mapping | list):
        return ""
    return str(value)


def parse_duration(value: object) -> float | None:
    """A protobuf Duration as JSON ("7s", "1.5s") or as {"seconds", "nanos"}; None if unusable."""
    seconds: float | None = None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)s\s*", value)
        seconds = float(match.group(1)) if match else None
    elif isinstance(value, Mapping):
        try:
            seconds = float(value.get("seconds", 0) or 0) + float(value.get("nanos", 0) or 0) / 1e9
        except (TypeError, ValueError):
            seconds = None
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def retry_after_from_headers(
    headers: Mapping[str, str] | None, *, now: dt.datetime | None = None
) -> float | None:
    """`retry-after-ms` or `Retry-After` (seconds or HTTP-date). A past date gives 0; a negative
    or unreadable value gives None."""
    if not headers:
        return None
    try:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    except Exception:
        return None
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


# --- deciding ------------------------------------------------------------------------------


def _decide(p: _Parsed, ctx: _Context) -> Failure:
    by_reason = _by_reason(p, ctx)
    if by_reason is not None:
        return by_reason
    if any("billing quota" in v.lower() for v in p.quota_violations):
        return _billing_quota(ctx)
    by_text = _by_message(p, ctx)
    if by_text is not None:
        return by_text
    by_status = _by_status(p, ctx)
    if by_status is not None:
        return by_status
    if p.from_operation:
        return _failure(Cause.OPERATION_FAILED, ctx, f"an operation failed: {_server(p)}", "")
    return _unknown(p, ctx)


def _by_reason(p: _Parsed, ctx: _Context) -> Failure | None:
    reason = p.reason
    if not reason:
        return None
    if reason == "SERVICE_DISABLED":
        return _service_disabled(p, ctx)
    if reason == "BILLING_DISABLED":
        return _failure(
            Cause.BILLING_DISABLED,
            ctx,
            "billing is disabled, so the API refuses calls.",
            remedies.link_billing(_project_ref(ctx, p), None),
            Disposition.HUMAN_ACTION,
        )
    if reason == "UREQ_PROJECT_BILLING_NOT_FOUND":
        services = p.metadata.get("services", "")
        return _failure(
            Cause.BILLING_REQUIRED_TO_ENABLE,
            ctx,
            f"APIs ({services or 'the requested services'}) cannot be enabled without a billing account.",
            remedies.link_billing(_project_ref(ctx, p), None),
            Disposition.HUMAN_ACTION,
        )
    if reason == "RATE_LIMIT_EXCEEDED":
        return _too_many(p, ctx)
    if reason in _AUTH_REASONS:
        return _unauthenticated(ctx)
    if reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
        return _failure(
            Cause.PERMISSION_DENIED,
            ctx,
            "the credentials lack the cloud-platform OAuth scope.",
            LOGIN,
            Disposition.HUMAN_ACTION,
        )
    if reason in {"CONSUMER_INVALID", "RESOURCE_PROJECT_INVALID"}:
        return _project_missing(ctx)
    if reason in _PERMISSION_REASONS:
        return _permission_denied(p, ctx)
    return None


def _by_message(p: _Parsed, ctx: _Context) -> Failure | None:
    text = p.message
    lowered = text.lower()
    if "is not allowed to use publisher model" in lowered:
        return _model_not_enabled(p, ctx)
    if "another activation or deactivation is in progress" in lowered:
        return _failure(
            Cause.UNAVAILABLE,
            ctx,
            "another service activation is in progress; waiting and retrying.",
            "Wait a minute and rerun; the other activation finishes on its own.",
            Disposition.RETRY,
        )
    if "precondition check failed" in lowered and not p.precondition_types:
        return _failure(
            Cause.UNAVAILABLE,
            ctx,
            "the server answered 'Precondition check failed.' without a reason; retrying.",
            "Rerun later; if it persists, check the project's billing and API state in the console.",
            Disposition.RETRY,
        )
    if _DELETED.search(text):
        return _delete_requested(ctx)
    return None


def _by_status(p: _Parsed, ctx: _Context) -> Failure | None:
    http, status = p.http, p.status
    if http == 401 or status == "UNAUTHENTICATED":
        return _unauthenticated(ctx)
    if http == 429 or status == "RESOURCE_EXHAUSTED":
        return _too_many(p, ctx)
    if (http in _RETRYABLE_HTTP or status in _RETRYABLE_STATUS) and not p.from_operation:
        return _failure(
            Cause.UNAVAILABLE,
            ctx,
            f"the service is temporarily unavailable (HTTP {http or status}).",
            "Rerun later; the tool retries this on its own.",
            Disposition.RETRY,
        )
    if http == 403 or status == "PERMISSION_DENIED":
        return _forbidden(p, ctx)
    if http == 404 or status == "NOT_FOUND":
        return _not_found(p, ctx)
    if http == 409 and status == "ALREADY_EXISTS":
        return _failure(
            Cause.PROJECT_ALREADY_EXISTS,
            ctx,
            "the project id is already in use (by you or someone else).",
            "Choose another project id, or set create: false to manage the existing project.",
            Disposition.FIX_INPUT,
        )
    if status == "INVALID_ARGUMENT":
        return _failure(
            Cause.INVALID_INPUT,
            ctx,
            f"the request was rejected as invalid: {_server(p)}",
            "Check the project id, location and model in the manifest.",
            Disposition.FIX_INPUT,
        )
    return None


# --- one builder per cause ------------------------------------------------------------------


def _service_disabled(p: _Parsed, ctx: _Context) -> Failure:
    service = p.metadata.get("service") or "the API"
    url = p.metadata.get("activationUrl", "")
    consumer = p.metadata.get("consumer", "").removeprefix("projects/")
    target = ctx.project_id or consumer or "PROJECT_ID"
    link = f" Activation link: {url}" if url else ""
    if consumer and _is_other_project(consumer, ctx):
        message = (
            f"{service} is disabled in project {consumer}, the quota (caller) project this "
            f"call was billed to, not in {ctx.project_id} itself.{link}"
        )
        return _failure(
            Cause.SERVICE_DISABLED,
            ctx,
            message,
            remedies.enable_api(consumer, service) + " (or pass another --quota-project)",
            Disposition.HUMAN_ACTION,
        )
    return _failure(
        Cause.SERVICE_DISABLED,
        ctx,
        f"{service} is disabled.{link}",
        remedies.enable_api(target, service),
        Disposition.HUMAN_ACTION,
    )


def _is_other_project(consumer: str, ctx: _Context) -> bool:
    """True only when the consumer is certainly not the target project.

    Servers name the consumer by number; without the target's number a numeric consumer cannot
    be compared with a project id, so it counts as the same project (the common case).
    """
    if ctx.project_id is None or consumer == ctx.project_id:
        return False
    if consumer.isdigit():
        return ctx.project_number is not None and consumer != ctx.project_number
    return True


def _permission_denied(p: _Parsed, ctx: _Context) -> Failure:
    permission = p.metadata.get("permission") or _permission_from_text(p.message)
    if p.reason == "USER_PROJECT_DENIED":
        permission = permission or "serviceusage.services.use"
    if permission == "resourcemanager.projects.get" or (
        ctx.api == CRM_API and permission in {None, "resourcemanager.projects.get"}
    ):
        return _project_missing(ctx)
    resource = _grant_resource(p.metadata.get("resource", ""), ctx)
    if permission:
        role = remedies.role_for(permission)
        what = f"the caller lacks {permission} (granted by {role}) on {resource}."
        remedy = remedies.grant_permission(permission, resource)
    else:
        what = f"permission denied on {resource}: {_server(p)}"
        remedy = f"Ask an owner of {resource} for the role the call needs."
    return _failure(Cause.PERMISSION_DENIED, ctx, what, remedy, Disposition.HUMAN_ACTION)


def _grant_resource(resource: str, ctx: _Context) -> str:
    """The resource to grant on: the project (or folder/org/billing account) a path starts with."""
    resource = resource.removeprefix("//cloudresourcemanager.googleapis.com/")
    match = re.match(r"(projects|folders|organizations|billingAccounts)/([^/\s]+)", resource)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return f"projects/{ctx.project_id}" if ctx.project_id else "projects/PROJECT_ID"


def _permission_from_text(text: str) -> str | None:
    match = _PERMISSION_IN_TEXT.search(text)
    return match.group(1) if match else None


def _forbidden(p: _Parsed, ctx: _Context) -> Failure:
    lowered = p.message.lower()
    if "billing" in lowered and "enable" in lowered:
        return _failure(
            Cause.BILLING_DISABLED,
            ctx,
            "billing is disabled, so the API refuses calls.",
            remedies.link_billing(_project_ref(ctx, p), None),
            Disposition.HUMAN_ACTION,
        )
    if ctx.api == CRM_API or "or it may not exist" in lowered:
        return _project_missing(ctx)
    return _permission_denied(p, ctx)


def _not_found(p: _Parsed, ctx: _Context) -> Failure:
    model = ctx.publisher_model or _model_from_text(p.message)
    if model is not None or ctx.location is not None:
        return _model_not_found(model, ctx)
    if ctx.api == CRM_API:
        return _project_missing(ctx)
    return _unknown(p, ctx)


def _model_not_found(model: str | None, ctx: _Context) -> Failure:
    """A 404 for a model: the catalog tells retired and not-offered-here from no access."""
    entry = catalog.lookup(model) if model else None
    name = model or "the model"
    where = ctx.location or "this location"
    as_of = ctx.as_of or catalog.today_utc()
    if entry is not None and entry.lifecycle(as_of) is catalog.Lifecycle.RETIRED:
        return _failure(
            Cause.MODEL_RETIRED,
            ctx,
            f"{entry.lifecycle_note(as_of)}.",
            f"Remove {entry.alias} from the manifest or switch to another model.",
            Disposition.FIX_INPUT,
        )
    if entry is not None and ctx.location and ctx.location not in entry.locations:
        offered = ", ".join(entry.locations)
        return _failure(
            Cause.MODEL_NOT_OFFERED_IN_LOCATION,
            ctx,
            f"{entry.alias} is not offered in {where} (offered in: {offered}).",
            f"Use one of these locations for {entry.alias}: {offered}.",
            Disposition.FIX_INPUT,
        )
    return _failure(
        Cause.MODEL_NOT_FOUND_OR_NO_ACCESS,
        ctx,
        f"{name} was not found in {where}, or the project has no access to it "
        "(the catalog expects it there: the offer may have been withdrawn, or access is missing).",
        _model_console(model, ctx.project_id),
        Disposition.HUMAN_ACTION,
    )


def _model_not_enabled(p: _Parsed, ctx: _Context) -> Failure:
    model = (
        ctx.publisher_model or _model_from_text(p.message) or "publishers/PUBLISHER/models/MODEL"
    )
    project = ctx.project_id or "PROJECT_ID"
    remedy = (
        f"{_model_console(model, ctx.project_id)} or {remedies.enable_model_rest(project, model)}"
    )
    where = f" in {ctx.location}" if ctx.location else ""
    return _failure(
        Cause.MODEL_NOT_ENABLED,
        ctx,
        f"{model} is not enabled for this project{where} (Model Garden 'Enable' was never done).",
        remedy,
        Disposition.HUMAN_ACTION,
    )


def _model_from_text(text: str) -> str | None:
    match = _PUBLISHER_MODEL_IN_TEXT.search(text)
    return f"publishers/{match.group(1)}/models/{match.group(2)}" if match else None


def _model_console(model: str | None, project_id: str | None) -> str:
    match = _PUBLISHER_MODEL_IN_TEXT.search(model or "")
    if match is None:
        return "https://console.cloud.google.com/vertex-ai/model-garden"
    return catalog.model_garden_console_url(match.group(1), match.group(2), project_id)


def _too_many(p: _Parsed, ctx: _Context) -> Failure:
    quota_text = " ".join(
        [
            p.metadata.get("quota_metric", ""),
            p.metadata.get("quota_limit", ""),
            p.message,
            *p.quota_violations,
        ]
    )
    limit = p.metadata.get("quota_limit") or p.metadata.get("quota_metric") or ""
    named = f" ({limit})" if limit else ""
    if _DAILY.search(quota_text):
        return _failure(
            Cause.QUOTA_EXHAUSTED,
            ctx,
            f"a quota that resets daily is used up{named}; retrying now will not help.",
            f"Request a higher quota at {QUOTA_CONSOLE}"
            + (f"?project={ctx.project_id}" if ctx.project_id else ""),
            Disposition.HUMAN_ACTION,
        )
    return _failure(
        Cause.RATE_LIMITED,
        ctx,
        f"rate limited{named}; the tool slows down and retries.",
        "Lower --concurrency or --rate-limit, or request a higher quota at " + QUOTA_CONSOLE,
        Disposition.RETRY,
    )


def _billing_quota(ctx: _Context) -> Failure:
    return _failure(
        Cause.BILLING_QUOTA_EXCEEDED,
        ctx,
        "the billing account already has as many projects linked as its quota allows.",
        remedies.BILLING_QUOTA_INCREASE,
        Disposition.HUMAN_ACTION,
    )


def _unauthenticated(ctx: _Context) -> Failure:
    return _failure(
        Cause.UNAUTHENTICATED,
        ctx,
        "the credentials were rejected (missing, expired or of the wrong type).",
        LOGIN,
        Disposition.HUMAN_ACTION,
    )


def _project_missing(ctx: _Context) -> Failure:
    project = ctx.project_id or "PROJECT_ID"
    return _failure(
        Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN,
        ctx,
        "the project does not exist, or the caller may not see it (Google answers the same for both).",
        f"Check the project id, or grant roles/browser: {remedies.grant_permission('resourcemanager.projects.get', f'projects/{project}')}",
        Disposition.HUMAN_ACTION,
    )


def _delete_requested(ctx: _Context) -> Failure:
    project = ctx.project_id or "PROJECT_ID"
    return _failure(
        Cause.PROJECT_DELETE_REQUESTED,
        ctx,
        "the project is scheduled for deletion (DELETE_REQUESTED).",
        f"gcloud projects undelete {project}",
        Disposition.HUMAN_ACTION,
    )


def _unknown(p: _Parsed, ctx: _Context) -> Failure:
    what = f"HTTP {p.http}" if p.http else "an error"
    return _failure(
        Cause.UNKNOWN,
        ctx,
        f"the API answered {what}: {_server(p)}",
        "Rerun with --verbose and report the answer if it persists.",
    )


# --- assembly ------------------------------------------------------------------------------


def _failure(
    cause: Cause,
    ctx: _Context,
    what: str,
    remedy: str,
    disposition: Disposition = Disposition.FAIL,
) -> Failure:
    return Failure(
        cause=cause,
        message=_prefix(ctx.project_id, what),
        remedy=remedy,
        disposition=disposition,
    )


def _prefix(project_id: str | None, what: str) -> str:
    if not project_id:
        return what[:1].upper() + what[1:]
    return f"Project {project_id}: {what}"


def _finish(failure: Failure, p: _Parsed, delay: float | None) -> Failure:
    """Add what the server said (redacted) and scrub every user-facing string."""
    metadata: dict[str, str] = {}
    if isinstance(redacted := redact_mapping(p.metadata), dict):
        metadata = {str(k): str(v) for k, v in redacted.items()}
    if p.domain:
        metadata.setdefault("domain", redact(p.domain))
    if p.message:
        metadata.setdefault("server_message", redact(p.message[:1000]))
    return Failure(
        cause=failure.cause,
        message=redact(_one_line(failure.message)),
        remedy=redact(_one_line(failure.remedy)),
        disposition=failure.disposition,
        http_status=p.http,
        reason=redact(p.reason) if p.reason else None,
        metadata=metadata,
        retry_after_s=delay,
    )


def _server(p: _Parsed) -> str:
    text = _one_line(p.message) or p.status or "no details"
    return text if len(text) <= _MAX_SERVER_TEXT else text[: _MAX_SERVER_TEXT - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _project_ref(ctx: _Context, p: _Parsed) -> str:
    return (
        ctx.project_id
        or p.metadata.get("containerInfo")
        or p.metadata.get("project")
        or "PROJECT_ID"
    )


# --- exceptions ------------------------------------------------------------------------------

_TRANSPORT_NAMES = frozenset(
    {
        "ConnectionError",
        "ConnectionResetError",
        "ConnectionAbortedError",
        "ConnectionRefusedError",
        "BrokenPipeError",
        "TimeoutError",
        "ReadTimeout",
        "ConnectTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "Timeout",
        "ReadTimeoutError",
        "ChunkedEncodingError",
        "ProtocolError",
        "RemoteProtocolError",
        "RemoteDisconnected",
        "IncompleteRead",
        "ConnectError",
        "ReadError",
        "WriteError",
        "NetworkError",
        "TransportError",  # httpx and google.auth.exceptions
        "APIConnectionError",  # openai
        "APITimeoutError",  # openai
        "SSLError",
        "SSLEOFError",
    }
)
_TRANSPORT_TEXT = re.compile(
    r"(?i)connection (?:reset|aborted|refused)|remote ?disconnected|timed out|eof occurred|"
    r"broken pipe|incomplete ?read|server disconnected"
)
_AUTH_NAMES = frozenset({"RefreshError", "DefaultCredentialsError", "ReauthFailError"})


def classify_exception(
    exc: BaseException,
    *,
    project_id: str | None = None,
    location: str | None = None,
    publisher_model: str | None = None,
    as_of: dt.date | None = None,
    headers: Mapping[str, str] | None = None,
    api: str | None = None,
    project_number: str | None = None,
) -> Failure:
    """Classify an exception: an HTTP error carried by an exception (google-api-core, requests,
    httpx, openai) goes through `classify_http`; transport errors are UNAVAILABLE with RETRY;
    credential errors are UNAUTHENTICATED. Never raises."""
    context: dict[str, Any] = {
        "project_id": project_id,
        "location": location,
        "publisher_model": publisher_model,
        "as_of": as_of,
        "api": api,
        "project_number": project_number,
    }
    ctx = _Context(project_id, location, publisher_model, as_of, api, project_number)
    try:
        if isinstance(exc, BootstrapError):
            return exc.failure
        answer = _http_answer(exc)
        if answer is not None:
            status, body, answer_headers = answer
            return classify_http(status, body, headers=answer_headers or headers, **context)
        for link in _chain(exc):
            name = type(link).__name__
            if name in _AUTH_NAMES:
                return _finish(_unauthenticated(ctx), _Parsed(message=str(link)), None)
            if name in _TRANSPORT_NAMES or _TRANSPORT_TEXT.search(str(link)):
                return _finish(_transport(ctx, link), _Parsed(), None)
        return _finish(
            _failure(
                Cause.UNKNOWN,
                ctx,
                f"unexpected {type(exc).__name__}: {_one_line(str(exc))[:_MAX_SERVER_TEXT]}",
                "",
            ),
            _Parsed(),
            None,
        )
    except Exception:
        return Failure(
            cause=Cause.UNKNOWN, message=_prefix(project_id, "an error could not be classified.")
        )


def _transport(ctx: _Context, exc: BaseException) -> Failure:
    return _failure(
        Cause.UNAVAILABLE,
        ctx,
        f"the connection failed before an answer arrived ({type(exc).__name__}); retrying.",
        "Check network access to *.googleapis.com; the tool retries this on its own.",
        Disposition.RETRY,
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes/contexts, without cycles."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen) and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _http_answer(exc: BaseException) -> tuple[int | None, object, Mapping[str, str] | None] | None:
    """(status, body, headers) when the exception carries an HTTP answer, by duck typing."""
    response = getattr(exc, "response", None)
    status = _status_of(response) if response is not None else None
    if status is not None:
        headers = getattr(response, "headers", None)
        body = getattr(exc, "body", None)  # openai keeps the parsed error here
        if body is None:
            body = _response_body(response)
        return status, body, headers if isinstance(headers, Mapping) else None
    code = getattr(exc, "code", None)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 600:
        # google.api_core.exceptions.GoogleAPICallError without a response object
        error = {
            "code": code,
            "message": str(getattr(exc, "message", "") or exc),
            "details": list(getattr(exc, "details", None) or []),
        }
        return code, {"error": error}, None
    status_code = getattr(exc, "status_code", None)
    if isinstance(status_code, int) and not isinstance(status_code, bool):
        return status_code, getattr(exc, "body", None), None
    return None


def _status_of(response: object) -> int | None:
    for attr in ("status_code", "status"):
        value = getattr(response, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _response_body(response: object) -> object:
    # httpx raises ResponseNotRead for an unread streaming response: treat it as no body.
    try:
        content = getattr(response, "content", None)
        if isinstance(content, bytes | str):
            return content
        text = getattr(response, "text", None)
    except Exception:
        return None
    return text if isinstance(text, str) else None

"""Google error bodies -> the fields classification reads (`ErrorBody`), in every shape seen.

This module owns reading an error answer: `{"error": {...}}`, a one-item JSON array wrapping it,
the bare `error` object the openai SDK keeps in `e.body`, an LRO `google.rpc.Status` (rpc code
mapped to its HTTP status), OAuth's `{"error": "invalid_grant"}`, an empty body, text or garbage.
From the details it keeps the first `ErrorInfo` (reason, domain, metadata), `RetryInfo`'s delay,
and the `QuotaFailure`/`PreconditionFailure` violations. It is the one place where what a server
or an exception said is redacted (`bootstrap.redact`): once, as it is read (`parse_body`, and
`text_body` for an exception's text), so the builders may cut and quote it freely. It decides
nothing and never raises on odd input; `bootstrap.causes.classify` turns the result into a
`Failure`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bootstrap.causes.retry_after import parse_duration
from bootstrap.redact import redact, redact_mapping

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


@dataclass(slots=True)
class ErrorBody:
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


def parse_body(body: bytes | str | object | None) -> ErrorBody:
    """The fields of an error answer in any shape, redacted."""
    return _redacted(_parse(body))


def text_body(text: str) -> ErrorBody:
    """What an exception said, as the message of an otherwise empty body, redacted."""
    return _redacted(ErrorBody(message=text))


def _redacted(body: ErrorBody) -> ErrorBody:
    # Redact before anything is cut: a token or key path cut in half no longer matches.
    metadata = redact_mapping(body.metadata)
    return replace(
        body,
        status=redact(body.status),
        message=redact(body.message),
        reason=redact(body.reason),
        domain=redact(body.domain),
        metadata={str(k): str(v) for k, v in metadata.items()},
        quota_violations=[redact(v) for v in body.quota_violations],
        precondition_types=[redact(v) for v in body.precondition_types],
    )


def _parse(body: bytes | str | object | None) -> ErrorBody:
    data = _decode(body)
    if isinstance(data, list) and data:
        data = data[0]  # Vertex prediction routes wrap the envelope in a one-item array
    parsed = ErrorBody()
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
        parsed.message = text_of(data.get("error_description")) or error
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


def _read_envelope(error: Mapping[Any, Any], parsed: ErrorBody) -> None:
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
    parsed.message = text_of(error.get("message"))
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, Mapping):
            _read_detail(detail, parsed)


def _read_detail(detail: Mapping[Any, Any], parsed: ErrorBody) -> None:
    kind = text_of(detail.get("@type")).rsplit(".", 1)[-1]
    if kind == "ErrorInfo" or (not kind and "reason" in detail):
        if not parsed.reason:  # the first ErrorInfo wins, as in google-api-core
            parsed.reason = text_of(detail.get("reason")).upper()
            parsed.domain = text_of(detail.get("domain"))
            meta = detail.get("metadata")
            if isinstance(meta, Mapping):
                parsed.metadata = {str(k): text_of(v) for k, v in meta.items()}
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
            out.append(" ".join(text_of(item.get(k)) for k in (key, "subject", "quotaId")).strip())
    return out


def text_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, Mapping | list):
        return ""
    return str(value)

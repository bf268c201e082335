"""What an exception says about a failed call: the HTTP answer it carries, or its kind of failure.

This module owns the duck-typed inspection `bootstrap.causes.classify.classify_exception` relies on: the
exception chain (causes and contexts, without cycles), the (status, body, headers) an HTTP error
carries in google-api-core, requests, httpx or openai exceptions, and the names and texts that mark
a transport failure or a credential failure. It classifies nothing itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TRANSPORT_NAMES = frozenset(
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
TRANSPORT_TEXT = re.compile(
    r"(?i)connection (?:reset|aborted|refused)|remote ?disconnected|timed out|eof occurred|"
    r"broken pipe|incomplete ?read|server disconnected"
)
AUTH_NAMES = frozenset({"RefreshError", "DefaultCredentialsError", "ReauthFailError"})


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes/contexts, without cycles."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen) and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def http_answer(exc: BaseException) -> tuple[int | None, object, Mapping[str, str] | None] | None:
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

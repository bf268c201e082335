"""Google error bodies for tests: the envelope and the details the real APIs send."""

from __future__ import annotations

from typing import Any

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def envelope(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return {"error": error}


def error_info(reason: str, domain: str = "googleapis.com", **metadata: str) -> dict[str, Any]:
    return {"@type": ERROR_INFO, "reason": reason, "domain": domain, "metadata": metadata}


def retry_info(delay: str) -> dict[str, Any]:
    return {"@type": RETRY_INFO, "retryDelay": delay}

"""How long the server asked us to wait: Google's `RetryInfo.retryDelay` and HTTP `Retry-After`.

This module owns the one parser of retry delays used by both the error classifier
(`bootstrap.causes.classify`) and the GCP retry loop (`bootstrap.gcp.exceptions`): a protobuf Duration ("7s",
"1.5s", {"seconds", "nanos"}), a `Retry-After` header value (seconds or an HTTP date; a past
date gives 0), and `retry-after-ms`. Every parser returns seconds as a finite, non-negative float,
or None when the value is missing or unusable; none of them raises.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
from collections.abc import Mapping


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


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """One `Retry-After` value as seconds: a number, or an HTTP date (a past date gives 0)."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


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
    return parse_retry_after(lowered.get("retry-after"), now=now)


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None

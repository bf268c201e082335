"""Scrub tokens, keys and credential file paths from text before it reaches a message or report.

Every user-facing string built from a server answer or an exception goes through `redact`, and
every nested value (error metadata, details) through `redact_mapping`, so a token echoed by a
server, a key file path in a google-auth error or an `Authorization` header in a debug line never
lands in a terminal, a JSON report or a CI log. The patterns follow the token shapes listed in
shared/reference/reliability-notes.md §4.3. Shell substitutions such as
`Bearer $(gcloud auth print-access-token)` are left alone: they are advice, not secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

# Keys whose values are secrets or credential locations, wherever they appear in a mapping.
SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "credential_source",
        "private_key",
        "private_key_id",
        "client_secret",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
        "authorization",
        "password",
        "api_key",
        "apikey",
        "x-goog-api-key",
        "google_application_credentials",
    }
)

_PEM = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL
)
_TOKENS: tuple[re.Pattern[str], ...] = (
    re.compile(r"ya29\.[0-9A-Za-z\-_.]+"),  # OAuth access token
    re.compile(r"1//[0-9A-Za-z\-_]{20,}"),  # OAuth refresh token
    re.compile(r"AIza[0-9A-Za-z\-_]{35}"),  # API key
    re.compile(r"GOCSPX-[0-9A-Za-z\-_]+"),  # OAuth client secret
    re.compile(
        r"eyJ[0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]*"
    ),  # JWT (id tokens, assertions)
)
# `Authorization: Bearer X`, `"authorization": "X"`, `x-goog-api-key=X`; the value is kept when it
# is a shell substitution ($(...), ${...}, $VAR), because that is an instruction, not a secret.
_HEADER = re.compile(
    r"(?i)\b(authorization|proxy-authorization|x-goog-api-key|api-key)"
    r"([\"']?\s*[:=]\s*[\"']?)(?!(?:(?:bearer|basic|token)\s+)?\$)"
    r"((?:bearer|basic|token)\s+)?([^\s\"',;}\]]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\$)([0-9A-Za-z._~+/=\-]{8,})")
# `"refresh_token": "..."`, `client_secret=...` and friends in text (JSON, repr, query strings).
_SECRET_FIELD = re.compile(
    r"(?i)([\"']?(?:private_key_id|private_key|client_secret|refresh_token|access_token|id_token)"
    r"[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
)
# credential_source: a nested object, a quoted string or a bare token.
_CREDENTIAL_SOURCE = re.compile(
    r"(?i)([\"']?credential_source[\"']?\s*[:=]\s*)(\{[^{}]*\}|\"[^\"]*\"|'[^']*'|[^\s,;}]+)"
)
_GAC = re.compile(
    r"(?i)([\"']?GOOGLE_APPLICATION_CREDENTIALS[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;}]+)"
)
# A .json file under a home or config directory (key files, ADC files), on POSIX or Windows.
# Each path-like token is matched once and then searched for `.json` and a home/config marker:
# a pattern such as `[^\s]*\.json` would rescan a long token from every start (quadratic).
_PATH_TOKEN = re.compile(r"[^\s\"'<>=]+")
_JSON_END = re.compile(r"\.json\b")
_CREDENTIAL_DIRS = re.compile(
    r"(?i)(?:^~|^\$HOME|%APPDATA%|/home/|/Users/|^/root/|/var/run/secrets/|/etc/secrets/|"
    r"^[A-Za-z]:\\Users\\|[/\\]\.config[/\\]|[/\\]gcloud[/\\]|[/\\]secrets?[/\\]|"
    r"[/\\]\.?credentials?[/\\]|[/\\]keys?[/\\])"
)
_ADC_TOKEN = re.compile(r"[^\s\"'<>]+")
_ADC_NAME = "application_default_credentials.json"


def redact(text: str) -> str:
    """`text` with every token, key and credential path replaced by `[REDACTED]`."""
    out = _PEM.sub(REDACTED, text)
    out = _CREDENTIAL_SOURCE.sub(lambda m: m.group(1) + REDACTED, out)
    out = _GAC.sub(lambda m: m.group(1) + REDACTED, out)
    out = _SECRET_FIELD.sub(lambda m: m.group(1) + REDACTED, out)
    out = _HEADER.sub(lambda m: m.group(1) + m.group(2) + (m.group(3) or "") + REDACTED, out)
    out = _BEARER.sub(lambda m: m.group(1) + REDACTED, out)
    for pattern in _TOKENS:
        out = pattern.sub(REDACTED, out)
    out = _ADC_TOKEN.sub(_redact_adc_file, out)
    return _PATH_TOKEN.sub(_redact_credential_path, out)


def _redact_adc_file(match: re.Match[str]) -> str:
    """Everything of the token up to its last ADC file name (the file's path) is redacted."""
    token = match.group(0)
    end = token.rfind(_ADC_NAME)
    return token if end < 0 else REDACTED + token[end + len(_ADC_NAME) :]


def _redact_credential_path(match: re.Match[str]) -> str:
    """The token's longest prefix ending in `.json` is redacted when it is a credential path."""
    token = match.group(0)
    ends = [m.end() for m in _JSON_END.finditer(token)]
    if not ends or not _CREDENTIAL_DIRS.search(token[: ends[-1]]):
        return token
    return REDACTED + token[ends[-1] :]


def redact_mapping(obj: Any) -> Any:
    """A copy of a nested dict/list/tuple value with secret keys masked and strings redacted.

    Values under `credential_source`, `private_key`, tokens and similar keys become
    `[REDACTED]` whatever their type; other strings go through `redact`; other scalars are kept.
    """
    if isinstance(obj, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and key.lower() in SENSITIVE_KEYS
            else redact_mapping(value)
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [redact_mapping(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(redact_mapping(item) for item in obj)
    if isinstance(obj, str):
        return redact(obj)
    return obj

"""IAM Credentials v1 `generateAccessToken`: short-lived tokens that act as a service account.

The caller needs `iam.serviceAccounts.getAccessToken` on the account (a binding of
roles/iam.serviceAccountTokenCreator on the account, its project, folder or organization, or a
direct grant). A token lives for the requested lifetime (default 3600 s) capped by the world
account's `token_lifetime_s`; after that every API answers 401 ACCESS_TOKEN_EXPIRED.

`expireTime` is given on the wall clock (`Z`, whole seconds, as google-auth parses it): the
real moment the virtual expiry arrives at the emulator's time scale, so a client's own "refresh
before expiry" logic sees the lifetime the emulator enforces.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, Reply, Route
from bootstrap.emulator.state import Store

API = "iamcredentials"
GET_ACCESS_TOKEN = "iam.serviceAccounts.getAccessToken"
DEFAULT_LIFETIME_S = 3600


def generate_access_token(store: Store, call: Call) -> Reply:
    email = call.params["sa"]
    account = store.service_accounts.get(email.lower())
    resource = f"projects/{account.project}/serviceAccounts/{email}" if account else ""
    if account is None or not store.allowed(call.principal, GET_ACCESS_TOKEN, resource):
        raise google_errors.token_creation_denied()
    if not call.field("scope"):
        raise google_errors.invalid_argument("Scope required.")
    requested = _seconds(str(call.field("lifetime") or f"{DEFAULT_LIFETIME_S}s"))
    lifetime = min(requested, account.token_lifetime_s)
    token, expiry = store.mint_token(account, lifetime)
    real_left = (expiry - store.clock.elapsed()) / store.clock.time_scale
    expire = datetime.now(UTC) + timedelta(seconds=real_left)
    return Reply(body={"accessToken": token, "expireTime": expire.strftime("%Y-%m-%dT%H:%M:%SZ")})


def _seconds(text: str) -> float:
    """A google.protobuf.Duration in JSON (`3600s`, `1.5s`)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise google_errors.invalid_argument(f"Invalid value at 'lifetime' ({text!r}).")
    return float(match.group(1))


ROUTES = [
    Route(
        "POST",
        r"/v1/projects/-/serviceAccounts/(?P<sa>[^/:]+):generateAccessToken",
        generate_access_token,
        API,
    ),
]

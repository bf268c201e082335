"""Credentials: Application Default Credentials, impersonation, quota project, or the emulator token.

One credentials object is shared by every client and session of a run, so one refresh (after a
401) serves them all. `CredentialsTokenSource` is the `TokenSource` the smoke test uses for the
openai SDK's api_key. A missing or unusable ADC becomes BootstrapError(UNAUTHENTICATED) with the
remedy `gcloud auth application-default login`: no traceback, and never a token or key path in
the message.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import google.auth
import google.auth.transport.requests
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_exceptions
from google.auth import impersonated_credentials
from google.oauth2 import credentials as oauth2_credentials

from bootstrap.causes.builders import unauthenticated
from bootstrap.causes.classify import classify_http
from bootstrap.causes.context import CallContext
from bootstrap.errors import BootstrapError, Failure

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
IAM_CREDENTIALS_API = "iamcredentials.googleapis.com"


class EmulatorCredentials(oauth2_credentials.Credentials):
    """A fixed bearer token for the emulator; "refreshing" puts the same token back.

    Plain `google.oauth2.credentials.Credentials(token)` cannot refresh (no refresh token), and the
    retry loop refreshes once on a 401, which the emulator's fault rules exercise.
    """

    def __init__(self, token: str) -> None:
        super().__init__(token)  # type: ignore[no-untyped-call]
        self._fixed_token = token

    def refresh(self, request: Any) -> None:
        self.token = self._fixed_token
        self.expiry = None


def emulator_credentials(token: str) -> auth_credentials.Credentials:
    return EmulatorCredentials(token)


def impersonated(
    source: auth_credentials.Credentials, account: str, *, iam_root: str | None = None
) -> auth_credentials.Credentials:
    """Credentials that act as `account`, minted from `source` through IAM Credentials
    generateAccessToken (`iam_root`: the emulator's root instead of iamcredentials.googleapis.com)."""
    override = (
        f"{iam_root}/v1/projects/-/serviceAccounts/{account}:generateAccessToken"
        if iam_root
        else None
    )
    return impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
        source_credentials=source,
        target_principal=account,
        target_scopes=[CLOUD_PLATFORM_SCOPE],
        iam_endpoint_override=override,
    )


def default_credentials(
    *, impersonate_service_account: str | None, quota_project: str | None
) -> auth_credentials.Credentials:
    """ADC with the cloud-platform scope, optionally impersonating a service account."""
    try:
        creds, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    except auth_exceptions.DefaultCredentialsError as exc:
        failure = unauthenticated(CallContext(), "no Application Default Credentials found")
        raise BootstrapError(failure) from exc
    if impersonate_service_account:
        creds = impersonated(creds, impersonate_service_account)
    if quota_project and isinstance(creds, auth_credentials.CredentialsWithQuotaProject):
        creds = creds.with_quota_project(quota_project)  # type: ignore[no-untyped-call]
    return creds


class CredentialsTokenSource:
    """A `bootstrap.cloud.protocol.TokenSource` over google-auth credentials; thread-safe.

    `account`: the service account the credentials impersonate, when they do; a refused mint
    is then classified from IAM Credentials' answer (IMPERSONATION_DENIED, ...), not a login.
    """

    def __init__(
        self, credentials: auth_credentials.Credentials, *, account: str | None = None
    ) -> None:
        self._credentials = credentials
        self._account = account
        self._request = google.auth.transport.requests.Request()
        self._lock = threading.Lock()

    @property
    def credentials(self) -> auth_credentials.Credentials:
        return self._credentials

    def token(self) -> str:
        with self._lock:
            if not self._credentials.valid:
                self._refresh_locked()
            return str(self._credentials.token)

    def refresh(self) -> str:
        with self._lock:
            self._refresh_locked()
            return str(self._credentials.token)

    def _refresh_locked(self) -> None:
        try:
            self._credentials.refresh(self._request)  # type: ignore[no-untyped-call]
        except auth_exceptions.RefreshError as exc:
            raise BootstrapError(self._refused(exc)) from exc

    def _refused(self, exc: auth_exceptions.RefreshError) -> Failure:
        answer = exc.args[1] if len(exc.args) > 1 else None
        if self._account is None or not isinstance(answer, str | bytes):
            return unauthenticated(CallContext(), "the credentials could not be refreshed")
        context = CallContext(api=IAM_CREDENTIALS_API, principal=f"serviceAccount:{self._account}")
        status = _status_of(answer)
        if status == 401:
            return unauthenticated(CallContext(), "the caller's own credentials were rejected")
        return classify_http(status, answer, context)


def _status_of(answer: str | bytes) -> int | None:
    """The HTTP status of an error answer google-auth kept as text (`{"error": {"code": N}}`)."""
    try:
        code = json.loads(answer)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, int) else None

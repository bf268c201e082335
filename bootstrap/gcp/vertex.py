"""Vertex AI over REST: publisher models, enableModel and the model probe.

There is no GAPIC client here (google-cloud-aiplatform is a heavy dependency for three calls):
the calls go through google-auth's `AuthorizedSession`, and every error answer is turned into the
same exception family as the GAPIC clients' with `google.api_core.exceptions.from_http_response`.

Enablement of a MaaS model has no read API, so it is observed with the smallest data-plane call:
a non-streaming chat completion with `max_tokens: 1`, classified as follows (the classifier reads
ErrorInfo.reason, then the status, then the message, and the catalog for 404s):

| answer                                             | ModelAccess |
|----------------------------------------------------|-------------|
| 200                                                | ENABLED     |
| MODEL_NOT_ENABLED (FAILED_PRECONDITION "not allowed to use Publisher Model") | NOT_ENABLED |
| SERVICE_DISABLED / BILLING_DISABLED                | BLOCKED     |
| MODEL_NOT_OFFERED_IN_LOCATION (400 "not servable in region L") | NOT_OFFERED |
| MODEL_RETIRED (a 404 for a model the catalog dates as retired) | RETIRED |
| permission denied, or any other 404 for the model  | NO_ACCESS   |
| ORG_POLICY_DENIED / VPC_SC_BLOCKED / QUOTA_ZERO (guards a person must lift) | NO_ACCESS, never NOT_ENABLED |
| anything else (after retries)                      | UNKNOWN, with the failure |

The host is the global one only for `global`, `{location}-aiplatform.googleapis.com` otherwise;
model-garden paths carry no location and use the global host. In emulator mode all go to its root.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import requests
from google.api_core import exceptions as api_exceptions
from google.auth.transport.requests import AuthorizedSession

from bootstrap import catalog
from bootstrap.causes.builders import model_enablement_failed
from bootstrap.causes.context import CallContext
from bootstrap.cloud.observed import ModelAccess, PublisherModelInfo
from bootstrap.cloud.protocol import ProbeResult
from bootstrap.errors import ANSWER_LOST, BootstrapError, Cause, Disposition, Failure
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.exceptions import to_failure

PROBE_PROMPT = "ping"
ENABLEMENT_FAILED = "ENABLEMENT_STATE_FAILED"
_ACCESS_BY_CAUSE: dict[Cause, ModelAccess] = {
    Cause.MODEL_NOT_ENABLED: ModelAccess.NOT_ENABLED,
    Cause.SERVICE_DISABLED: ModelAccess.BLOCKED,
    Cause.BILLING_DISABLED: ModelAccess.BLOCKED,
    Cause.BILLING_REQUIRED_TO_ENABLE: ModelAccess.BLOCKED,
    Cause.MODEL_NOT_OFFERED_IN_LOCATION: ModelAccess.NOT_OFFERED,
    Cause.MODEL_RETIRED: ModelAccess.RETIRED,
    Cause.MODEL_NOT_FOUND_OR_NO_ACCESS: ModelAccess.NO_ACCESS,
    Cause.PERMISSION_DENIED: ModelAccess.NO_ACCESS,
    Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN: ModelAccess.NO_ACCESS,
    # Guards that enabling cannot lift (evidence rows 22-24): never NOT_ENABLED or BLOCKED, so
    # no enableModel is planned or sent for them.
    Cause.ORG_POLICY_DENIED: ModelAccess.NO_ACCESS,
    Cause.VPC_SC_BLOCKED: ModelAccess.NO_ACCESS,
    Cause.QUOTA_ZERO: ModelAccess.NO_ACCESS,
}


# Answers that no wait changes (a person must act): the probe stops at the first one, even when
# it is a 429 that the retry loop would otherwise treat as a passing rate limit.
_FINAL_GUARDS = frozenset({Cause.ORG_POLICY_DENIED, Cause.VPC_SC_BLOCKED, Cause.QUOTA_ZERO})


def probe_access(cause: Cause) -> ModelAccess:
    return _ACCESS_BY_CAUSE.get(cause, ModelAccess.UNKNOWN)


def publisher_model_for(request_model: str) -> str:
    """`openai/gpt-oss-120b-maas` -> `publishers/openai/models/gpt-oss-120b-maas`."""
    known = catalog.lookup(request_model)
    if known is not None:
        return known.publisher_model
    publisher, _, model = request_model.partition("/")
    return f"publishers/{publisher}/models/{model}"


class Vertex:
    def __init__(
        self,
        *,
        session: AuthorizedSession,
        caller: Caller,
        root_for: Callable[[str], str],
        as_of: dt.date,
    ) -> None:
        self._session = session
        self._caller = caller
        self._root_for = root_for
        self._as_of = as_of

    def _send(self, method: str, url: str, body: Any, timeout: float) -> requests.Response:
        response: requests.Response = self._session.request(  # type: ignore[no-untyped-call]
            method, url, json=body, timeout=timeout
        )
        if response.status_code >= 400:
            raise api_exceptions.from_http_response(response)  # type: ignore[no-untyped-call]
        return response

    def _json(self, method: str, url: str, body: Any, timeout: float) -> dict[str, Any]:
        data = self._send(method, url, body, timeout).json()
        return data if isinstance(data, dict) else {}

    def get_publisher_model(self, publisher_model: str) -> PublisherModelInfo | None:
        """publishers.models.get (v1beta1); None on 404."""
        url = f"{self._root_for('global')}/v1beta1/{publisher_model}"
        try:
            data = self._caller.call(
                "aiplatform.publishers.models.get",
                lambda t: self._json("GET", url, None, t),
                bucket="aiplatform.read",
                context=CallContext(publisher_model=publisher_model),
            )
        except BootstrapError as err:
            if err.failure.http_status == 404:
                return None
            raise
        return PublisherModelInfo(
            name=str(data.get("name") or publisher_model),
            launch_stage=str(data.get("launchStage") or ""),
            version_id=str(data.get("versionId") or ""),
        )

    def enable_model(self, project_id: str, publisher_model: str) -> str:
        """enableModel (v1beta1); returns the enablementState. A 200 answering
        ENABLEMENT_STATE_FAILED raises MODEL_ENABLEMENT_FAILED.

        A lost answer is not re-sent here: it fails with UNAVAILABLE ("answer lost") so the
        reconciler re-reads (probes) before deciding to send it again.
        """

        def answer_lost(_attempts: int) -> dict[str, Any]:
            raise BootstrapError(
                Failure(
                    cause=Cause.UNAVAILABLE,
                    message=f"Project {project_id}: the answer to enableModel for "
                    f"{publisher_model} was lost; it may or may not have been applied.",
                    remedy="rerun; the model is probed before enabling again",
                    disposition=Disposition.RETRY,
                    reason=ANSWER_LOST,
                )
            )

        url = f"{self._root_for('global')}/v1beta1/projects/{project_id}/{publisher_model}:enableModel"
        context = CallContext(project_id=project_id, publisher_model=publisher_model)
        data = self._caller.call(
            "aiplatform.publishers.models.enableModel",
            lambda t: self._json("POST", url, {}, t),
            bucket="aiplatform.write",
            context=context,
            recover=answer_lost,
        )
        state = str(data.get("enablementState") or "ENABLEMENT_STATE_UNSPECIFIED")
        if state == ENABLEMENT_FAILED:  # a 200 that refuses (evidence row 18): never "enabled"
            raise BootstrapError(model_enablement_failed(context))
        return state

    def _probe_send(self, url: str, body: Any, timeout: float, context: CallContext) -> bytes:
        """One probe attempt; a guard's answer ends the call at once (never retried)."""
        try:
            return self._send("POST", url, body, timeout).content
        except api_exceptions.GoogleAPICallError as exc:
            failure = to_failure(exc, context, api="aiplatform")
            if failure.cause in _FINAL_GUARDS:
                raise BootstrapError(failure) from exc
            raise

    def probe(self, project_id: str, location: str, request_model: str) -> ProbeResult:
        """The smallest chat completion, classified into a ModelAccess (table in the module doc)."""
        url = (
            f"{self._root_for(location)}/v1/projects/{project_id}/locations/{location}"
            "/endpoints/openapi/chat/completions"
        )
        body = {
            "model": request_model,
            "messages": [{"role": "user", "content": PROBE_PROMPT}],
            "max_tokens": 1,
        }
        context = CallContext(
            project_id=project_id,
            location=location,
            publisher_model=publisher_model_for(request_model),
            as_of=self._as_of,
        )
        try:
            self._caller.call(
                "aiplatform.chat.completions",
                lambda t: self._probe_send(url, body, t, context),
                bucket="aiplatform.predict",
                context=context,
            )
        except BootstrapError as err:
            return ProbeResult(access=probe_access(err.failure.cause), failure=err.failure)
        return ProbeResult(access=ModelAccess.ENABLED)

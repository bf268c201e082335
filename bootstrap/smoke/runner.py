"""The streaming smoke test: one real chat completion per project x model x location.

Configured is not the same as working, so each case streams one chat completion through the
official openai SDK against the Vertex OpenAI-compatible endpoint and judges the raw SSE lines
(`bootstrap.smoke.verdict`: a pass, `STREAM_INCOMPLETE`, `STREAM_INTERRUPTED`, `EMPTY_COMPLETION`
or `TIMEOUT`, where `timeout_s` bounds the whole call, first byte to last, even a stream that
trickles). Errors before the first byte are classified by `bootstrap.causes.classify.classify_http`. The
optional `tools` and `json` checks live in `bootstrap.smoke.checks`; this module runs the cases.

We read raw lines (`with_streaming_response`) because the SDK's chunk iterator ends quietly at
`[DONE]` *and* at a clean close, so it cannot tell a finished answer from a cut one. The SDK's
own retries are off (`max_retries=0`): we retry 429/5xx ourselves so that Retry-After is honoured
only while it fits the remaining deadline, and a 401 gets exactly one token refresh.

The whole-call deadline (httpx timeouts are per read, so a trickle never trips them) is
`bootstrap.smoke.deadline`: one thread per run shuts an overdue stream's socket down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import httpx
import openai

from bootstrap.catalog import openai_base_url
from bootstrap.causes.classify import classify_exception, classify_http
from bootstrap.causes.context import CallContext
from bootstrap.checks import Check, smoke_check
from bootstrap.cloud.protocol import TokenSource
from bootstrap.errors import Cause, Failure
from bootstrap.manifest.desired import SmokeSettings
from bootstrap.smoke.case import SmokeCase
from bootstrap.smoke.checks import (
    chat_body,
    json_check,
    tools_check,
)
from bootstrap.smoke.deadline import DeadlineExceeded, Deadlines, lines_until
from bootstrap.smoke.sse import SSEParser
from bootstrap.smoke.verdict import (
    Leg,
    StreamTally,
    failed_check,
    judge,
    leg_check,
)

MAX_RETRIES = 2  # after the first attempt, for 429 / 5xx / connection errors before the stream
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# ---------------------------------------------------------------------------------------------
# One streaming call, with the retries the SDK is not allowed to make


@dataclass
class _Runner:
    settings: SmokeSettings
    tokens: TokenSource
    vertex_root: Callable[[str], str]
    http: httpx.Client
    as_of: date | None
    deadlines: Deadlines
    sleep: Callable[[float], None] = time.sleep
    _clients: dict[str, openai.OpenAI] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, case: SmokeCase) -> openai.OpenAI:
        """One SDK client per base URL, all on the shared HTTP client."""
        base_url = openai_base_url(
            case.project_id, case.location, api_root=self.vertex_root(case.location)
        )
        with self._lock:
            client = self._clients.get(base_url)
            if client is None:
                client = openai.OpenAI(
                    base_url=base_url,
                    api_key="set-per-request",  # replaced by a fresh access token on every call
                    http_client=cast(Any, self.http),
                    max_retries=0,
                    timeout=self.settings.timeout_s,
                )
                self._clients[base_url] = client
            return client

    def stream(self, case: SmokeCase, body: dict[str, Any], want: str = "content") -> Leg:
        """Send one streaming chat completion and judge it, within `timeout_s` overall.

        Retries happen only before the first byte: once a stream has started, a break is the
        result (the answer cannot be resumed, and a second one would cost tokens again)."""
        deadline = time.monotonic() + self.settings.timeout_s
        token = self.tokens.token()
        refreshed = False
        retries = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timed_out()
            client = self.client(case).with_options(api_key=token, timeout=remaining)
            started = time.monotonic()
            try:
                with client.chat.completions.with_streaming_response.create(**body) as response:
                    return self._read(response, started, deadline, want)
            except openai.APIStatusError as exc:
                if exc.status_code == 401 and not refreshed:
                    # The token expired between token() and the call: refresh once, retry once.
                    token = self.tokens.refresh()
                    refreshed = True
                    continue
                outcome = self._after_status(case, exc, retries, deadline)
            except openai.APITimeoutError:
                return self._timed_out()
            except openai.APIConnectionError as exc:
                outcome = self._after_connection_error(case, exc, retries, deadline)
            if isinstance(outcome, Leg):
                return outcome
            self.sleep(outcome)
            retries += 1

    def _after_status(
        self, case: SmokeCase, exc: openai.APIStatusError, retries: int, deadline: float
    ) -> Leg | float:
        """The failed leg for an HTTP error, or the seconds to wait before trying again."""
        failure = self._classify_status(case, exc)
        delay = self._retry_delay(exc.status_code, failure, retries)
        if delay is None:
            return Leg(failure=failure, ended_at=time.monotonic())
        left = deadline - time.monotonic()
        if delay > left:
            return Leg(failure=_too_long_to_wait(failure, delay, left), ended_at=time.monotonic())
        return delay

    def _after_connection_error(
        self, case: SmokeCase, exc: openai.APIConnectionError, retries: int, deadline: float
    ) -> Leg | float:
        """Connection refused or reset before any answer: retry briefly, then classify."""
        delay = _backoff(retries)
        if retries >= MAX_RETRIES or delay > deadline - time.monotonic():
            failure = classify_exception(exc, self.context(case))
            return Leg(failure=failure, ended_at=time.monotonic())
        return delay

    def _read(self, response: Any, started: float, deadline: float, want: str) -> Leg:
        """Read every SSE line until the body ends, the deadline passes or the stream breaks."""
        raw = response.http_response
        tally = StreamTally(started)
        parser = SSEParser()
        watchdog = self.deadlines.watch(raw, deadline)
        cut_by: str | None = None
        try:
            for line in lines_until(response.iter_lines(), deadline):
                if tally.done:
                    continue  # drain to the end so the connection can be reused
                event = parser.feed(line)
                if event is not None:
                    tally.feed(event)
                    if tally.error is not None:
                        break
            if not tally.done and tally.error is None:
                tail = parser.finish()
                if tail is not None:
                    tally.feed(tail)
        except DeadlineExceeded:
            pass
        except (httpx.HTTPError, OSError) as exc:
            cut_by = type(exc).__name__
        finally:
            watchdog.cancel()
        ended = tally.done_at or time.monotonic()  # total_ms ends at [DONE], not after draining
        timed_out = not tally.done and (watchdog.fired or ended >= deadline)
        verdict = judge(
            tally,
            cut_by=cut_by,
            timed_out=timed_out,
            timeout_s=self.settings.timeout_s,
            want=want,
        )
        return Leg(tally=tally, verdict=verdict, ended_at=ended)

    def _timed_out(self) -> Leg:
        """No answer headers before the deadline."""
        verdict = judge(StreamTally(0.0), timed_out=True, timeout_s=self.settings.timeout_s)
        return Leg(verdict=verdict, ended_at=time.monotonic())

    def context(self, case: SmokeCase) -> CallContext:
        return CallContext(
            project_id=case.project_id,
            location=case.location,
            publisher_model=case.publisher_model,
            as_of=self.as_of,
        )

    def _classify_status(self, case: SmokeCase, exc: openai.APIStatusError) -> Failure:
        response = exc.response
        try:
            body: Any = response.text
        except Exception:  # a streamed error body that could not be read
            body = exc.body
        return classify_http(
            exc.status_code, body, self.context(case), headers=dict(response.headers)
        )

    def _retry_delay(self, status: int, failure: Failure, retries: int) -> float | None:
        """Seconds to wait before retrying, or None when this failure is not worth a retry."""
        retryable = failure.retryable or (
            failure.cause is Cause.UNKNOWN and status in RETRY_STATUSES
        )
        if not retryable or retries >= MAX_RETRIES:
            return None
        if failure.retry_after_s is not None and failure.retry_after_s > 0:
            return failure.retry_after_s
        return _backoff(retries)


def _backoff(retries: int) -> float:
    return min(0.5 * 2.0**retries, 4.0)


def _too_long_to_wait(failure: Failure, delay: float, left: float) -> Failure:
    """A 429 asking for more time than the deadline leaves fails now instead of hanging."""
    return Failure(
        cause=Cause.RATE_LIMITED if failure.cause is Cause.UNKNOWN else failure.cause,
        message=(
            f"{failure.message} The server asks to retry after {delay:g} s, "
            f"more than the {max(left, 0.0):.1f} s left of the smoke timeout."
        ),
        remedy=failure.remedy or "retry later, or request a higher quota",
        disposition=failure.disposition,
        http_status=failure.http_status,
        reason=failure.reason,
        metadata=failure.metadata,
        retry_after_s=delay,
    )


# ---------------------------------------------------------------------------------------------
# Cases into checks


def _smoke(runner: _Runner, case: SmokeCase) -> Check:
    started = time.monotonic()
    messages = [{"role": "user", "content": runner.settings.prompt}]
    leg = runner.stream(case, chat_body(case, runner.settings, messages))
    return leg_check(smoke_check(case.key), leg, started)


_KINDS: dict[str, Callable[[_Runner, SmokeCase], Check]] = {
    "smoke": _smoke,
    "tools": tools_check,
    "json": json_check,
}


def _safe(runner: _Runner, kind: str, case: SmokeCase) -> Check:
    """Run one check; whatever goes wrong becomes a failed check, never a traceback.

    classify_exception still names what it recognises (a credential error is UNAUTHENTICATED);
    anything else is UNKNOWN with a redacted message."""
    started = time.monotonic()
    try:
        return _KINDS[kind](runner, case)
    except Exception as exc:
        name = smoke_check(case.key, kind)
        failure = classify_exception(exc, runner.context(case))
        remedy = failure.remedy or "report this as a bug, with the message"
        return failed_check(name, failure.cause, failure.message, remedy, started)


def run_smoke(
    cases: Sequence[SmokeCase],
    *,
    settings: SmokeSettings,
    tokens: TokenSource,
    vertex_root: Callable[[str], str],
    checks: frozenset[str] = frozenset(),
    concurrency: int = 8,
    http_client: httpx.Client | None = None,
    as_of: date | None = None,
    sleep: Callable[[float], None] = time.sleep,
    pool: Callable[[int], Executor] | None = None,
) -> list[Check]:
    """One streaming smoke check per case (plus `tools` / `json` checks when asked), in order.

    Cases run concurrently on one shared HTTP client; a failing case never stops the others.
    `sleep` waits between retries (a command passes its clock's, so tests fast-forward it and
    Ctrl-C ends it). `pool(workers)` makes the thread pool (a command passes its clock's
    `worker_pool`, so a fast-forward clock counts the streams as its workers).
    """
    unknown = set(checks) - {"tools", "json"}
    if unknown:
        raise ValueError(f"unknown smoke checks: {', '.join(sorted(unknown))} (tools, json)")
    kinds = ["smoke", *(kind for kind in ("tools", "json") if kind in checks)]
    tasks = [(kind, case) for case in cases for kind in kinds]
    if not tasks:
        return []
    workers = max(1, min(concurrency, len(tasks)))
    http = http_client or _http_client(workers, settings.timeout_s)
    _warm_up_sdk(cases[0], settings)
    deadlines = Deadlines()
    runner = _Runner(
        settings=settings,
        tokens=tokens,
        vertex_root=vertex_root,
        http=http,
        as_of=as_of,
        deadlines=deadlines,
        sleep=sleep,
    )
    try:
        executor = (
            pool(workers) if pool else ThreadPoolExecutor(workers, thread_name_prefix="smoke")
        )
        with executor:
            return list(executor.map(lambda task: _safe(runner, *task), tasks))
    finally:
        deadlines.close()
        if http_client is None:
            http.close()


_WARM_UP_STREAM = (
    b'data: {"id":"w","object":"chat.completion.chunk","created":0,"model":"w",'
    b'"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


def _warm_up_sdk(case: SmokeCase, settings: SmokeSettings) -> None:
    """Run the SDK's streaming path once against a canned in-memory answer (no network).

    The openai SDK imports modules and resolves type hints lazily on its first request. Every
    stream starts at once, so otherwise each of them would wait on that one-time work inside its
    measured time to first token.
    """

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=_WARM_UP_STREAM
        )

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        client = openai.OpenAI(
            base_url="http://warm-up.invalid/v1",
            api_key="warm-up",
            http_client=cast(Any, http),
            max_retries=0,
        )
        messages = [{"role": "user", "content": settings.prompt}]
        with suppress(Exception):  # a warm-up that fails changes nothing that matters
            body = chat_body(case, settings, messages)
            with client.chat.completions.with_streaming_response.create(**body) as response:
                for _ in response.iter_lines():
                    pass


def _http_client(connections: int, timeout_s: float) -> httpx.Client:
    """The shared client: a pool as large as the concurrency, and never the SDK's 600 s."""
    return httpx.Client(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
    )

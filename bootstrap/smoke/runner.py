"""The streaming smoke test: one real chat completion per project x model x location.

Configured is not the same as working, so each case streams one chat completion (the request
built by the official openai SDK, sent on the run's HTTP client: `bootstrap.smoke.clients`)
against the Vertex OpenAI-compatible endpoint and judges the raw SSE lines
(`bootstrap.smoke.verdict`: a pass, `STREAM_INCOMPLETE`, `STREAM_INTERRUPTED`, `EMPTY_COMPLETION`
or `TIMEOUT`, where `timeout_s` bounds the whole call, first byte to last, even a stream that
trickles). Errors before the first byte are classified by `bootstrap.causes.classify.classify_http`. The
optional `tools` and `json` checks live in `bootstrap.smoke.checks`; this module runs the cases.

We read the raw lines of the response because the SDK's chunk iterator ends quietly at `[DONE]`
*and* at a clean close, so it cannot tell a finished answer from a cut one. The SDK's own
retries are off (`max_retries=0`): we retry 429/5xx ourselves so that Retry-After is honoured
only while it fits the remaining deadline, and a 401 gets exactly one token refresh.

The whole-call deadline (httpx timeouts are per read, so a trickle never trips them) is
`bootstrap.smoke.deadline`: one thread per run shuts an overdue stream's socket down.

Everything a stream can share is built once per run, before the first stream starts
(`bootstrap.smoke.clients`: one HTTP client, one SDK client that builds each distinct request
once, the token in each request's own header), because at fleet concurrency every stream's
set-up lands inside the others' measured times (issue 20, docs/benchmarks.md); for the same
reason the collector's full passes are kept out of the burst (`_no_full_collections`).
`total_ms` is the call as the tool made it; `ttft_ms` and `first_content_ms` count from the
moment the request was written, and `concurrency` says how many of the run's streams were open
beside it (on every check of a run that streams more than one at a time).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import openai

from bootstrap.catalog import openai_base_url
from bootstrap.causes.classify import classify_exception, classify_http
from bootstrap.causes.context import CallContext
from bootstrap.checks import Check, smoke_check
from bootstrap.cloud.protocol import TokenSource
from bootstrap.errors import Cause, Failure
from bootstrap.manifest.desired import SmokeSettings
from bootstrap.smoke import clients
from bootstrap.smoke.case import SmokeCase
from bootstrap.smoke.checks import (
    chat_body,
    json_check,
    tools_check,
)
from bootstrap.smoke.clients import ChatStreams, InFlight, sent_at
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
    chats: ChatStreams
    vertex_root: Callable[[str], str]
    as_of: date | None
    deadlines: Deadlines
    sleep: Callable[[float], None] = time.sleep
    in_flight: InFlight = field(default_factory=InFlight)
    record_concurrency: bool = False  # set when the run streams more than one case at a time
    tokens_as: Callable[[str], TokenSource] | None = None  # tokens minted for a service account

    def tokens_for(self, case: SmokeCase) -> TokenSource:
        """Whose token a case's requests carry: the member's it runs as (minted for that
        service account), else the run's (each request sets its own Authorization header)."""
        if case.run_as is None or self.tokens_as is None:
            return self.tokens
        return self.tokens_as(case.run_as.removeprefix("serviceAccount:"))

    def stream(self, case: SmokeCase, body: dict[str, Any], want: str = "content") -> Leg:
        """Send one streaming chat completion and judge it, within `timeout_s` overall.

        Retries happen only before the first byte: once a stream has started, a break is the
        result (the answer cannot be resumed, and a second one would cost tokens again)."""
        deadline = time.monotonic() + self.settings.timeout_s
        tokens = self.tokens_for(case)
        token = tokens.token()
        url = self.chat_url(case)
        refreshed = False
        retries = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timed_out()
            started = time.monotonic()
            try:
                response = self.chats.open(url, body, token, remaining)
                try:
                    return self._read(response, started, deadline, want)
                finally:
                    response.close()
            except openai.APIStatusError as exc:
                if exc.status_code == 401 and not refreshed:
                    # The token expired between token() and the call: refresh once, retry once.
                    token = tokens.refresh()
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

    def chat_url(self, case: SmokeCase) -> str:
        root = self.vertex_root(case.location)
        base = openai_base_url(case.project_id, case.location, api_root=root)
        return f"{base}/chat/completions"

    def _read(self, response: httpx.Response, started: float, deadline: float, want: str) -> Leg:
        """Read every SSE line until the body ends, the deadline passes or the stream breaks."""
        tally = StreamTally(started)
        # TTFT counts from the request on the wire, not from the tool's own queueing before it.
        tally.sent_at = sent_at(response)
        parser = SSEParser()
        watchdog = self.deadlines.watch(response, deadline)
        flight = self.in_flight.enter()
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
            self.in_flight.leave(flight)
        if self.record_concurrency:
            tally.concurrency = flight.peak
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
            principal=case.run_as,
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


def _smoke_body(settings: SmokeSettings, case: SmokeCase) -> dict[str, Any]:
    return chat_body(case, settings, [{"role": "user", "content": settings.prompt}])


def _smoke(runner: _Runner, case: SmokeCase) -> Check:
    started = time.monotonic()
    leg = runner.stream(case, _smoke_body(runner.settings, case))
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
        return failed_check(name, failure.cause, _about(case, failure.message), remedy, started)


def _about(case: SmokeCase, message: str) -> str:
    """A failure raised away from the project (e.g. minting a token) still names it."""
    prefix = f"Project {case.project_id}:"
    return message if message.startswith(prefix) else f"{prefix} {message[:1].lower()}{message[1:]}"


def _tasks(cases: Sequence[SmokeCase], checks: frozenset[str]) -> list[tuple[str, SmokeCase]]:
    """(kind, case) for every check to run: the stream, then `tools` / `json` when asked."""
    unknown = set(checks) - {"tools", "json"}
    if unknown:
        raise ValueError(f"unknown smoke checks: {', '.join(sorted(unknown))} (tools, json)")
    kinds = ["smoke", *(kind for kind in ("tools", "json") if kind in checks)]
    return [(kind, case) for case in cases for kind in kinds]


def _chat_streams(
    cases: Sequence[SmokeCase],
    settings: SmokeSettings,
    http: httpx.Client,
    vertex_root: Callable[[str], str],
) -> ChatStreams:
    """The run's one SDK client, its smoke requests built here rather than in the burst."""
    _warm_up_sdk(cases[0], settings)
    first = cases[0]
    base_url = openai_base_url(
        first.project_id, first.location, api_root=vertex_root(first.location)
    )
    chats = ChatStreams(http, settings.timeout_s, base_url)
    chats.prepare(_smoke_body(settings, case) for case in cases)
    return chats


def run_smoke(
    cases: Sequence[SmokeCase],
    *,
    settings: SmokeSettings,
    tokens: TokenSource,
    vertex_root: Callable[[str], str],
    tokens_as: Callable[[str], TokenSource] | None = None,
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
    tasks = _tasks(cases, checks)
    if not tasks:
        return []
    workers = max(1, min(concurrency, len(tasks)))
    http = http_client or clients.http_client(workers, settings.timeout_s)
    chats = _chat_streams(cases, settings, http, vertex_root)
    runner = _Runner(
        settings=settings,
        tokens=tokens,
        tokens_as=tokens_as,
        chats=chats,
        vertex_root=vertex_root,
        as_of=as_of,
        deadlines=Deadlines(),
        sleep=sleep,
        record_concurrency=workers > 1,
    )
    # The caller's own HTTP client is the caller's to close; one made here is closed at the end.
    return _run_tasks(runner, tasks, workers, pool, owned=http if http_client is None else None)


def _run_tasks(
    runner: _Runner,
    tasks: Sequence[tuple[str, SmokeCase]],
    workers: int,
    pool: Callable[[int], Executor] | None,
    *,
    owned: httpx.Client | None,
) -> list[Check]:
    """Every task on a pool of `workers` threads, results in task order; then, whatever happened,
    the run's deadline thread is stopped and `owned` (an HTTP client the run made itself) closed."""
    try:
        executor = (
            pool(workers) if pool else ThreadPoolExecutor(workers, thread_name_prefix="smoke")
        )
        with executor, _no_full_collections():
            return list(executor.map(lambda task: _safe(runner, *task), tasks))
    finally:
        runner.deadlines.close()
        if owned is not None:
            owned.close()


@contextmanager
def _no_full_collections() -> Iterator[None]:
    """Keep the garbage collector's full passes over the process's old objects out of the burst.

    By the first stream the CLI holds ~140,000 tracked objects (google, openai, pydantic); a full
    collection walks them all and stops every thread for 50-200 ms, which lands inside every open
    stream's times when it falls in the burst (issue 20). Frozen, they are skipped until the run
    ends; the young generations are still collected, and nothing is leaked: unfreeze hands them
    back to the collector."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
        chats = ChatStreams(http, 5.0, "http://warm-up.invalid/v1")
        messages = [{"role": "user", "content": settings.prompt}]
        with suppress(Exception):  # a warm-up that fails changes nothing that matters
            body = chat_body(case, settings, messages)
            response = chats.open("http://warm-up.invalid/v1/chat/completions", body, "w", 5.0)
            try:
                for _ in response.iter_lines():
                    pass
            finally:
                response.close()

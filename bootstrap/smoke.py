"""The streaming smoke test: one real chat completion per project x model x location.

Configured is not the same as working, so each case streams one chat completion through the
official openai SDK against the Vertex OpenAI-compatible endpoint and judges the raw SSE lines:

- pass: at least one content delta, a `finish_reason`, and `data: [DONE]` at the end;
- `STREAM_INCOMPLETE`: the stream closed cleanly without `[DONE]` (or without a finish_reason);
- `STREAM_INTERRUPTED`: a connection drop or a `data: {"error": ...}` event cut it; the partial
  answer is kept in the check's detail;
- `EMPTY_COMPLETION`: no content (typically `finish_reason: length` after reasoning used the budget);
- `TIMEOUT`: `timeout_s` bounds the whole call, first byte to last, even a stream that trickles;
- errors before the first byte are classified by `bootstrap.causes.classify_http`.

We read raw lines (`with_streaming_response`) because the SDK's chunk iterator ends quietly at
`[DONE]` *and* at a clean close, so it cannot tell a finished answer from a cut one. The SDK's
own retries are off (`max_retries=0`): we retry 429/5xx ourselves so that Retry-After is honoured
only while it fits the remaining deadline, and a 401 gets exactly one token refresh.

Why the deadline needs a watchdog: httpx timeouts apply per socket read, so a server sending one
token every few seconds never trips them. A timer shuts the socket down at the deadline, which
wakes the blocked read at once (closing the file descriptor would not, on Linux).
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import httpx
import openai

from bootstrap.catalog import openai_base_url
from bootstrap.causes import classify_exception, classify_http
from bootstrap.cloud import TokenSource
from bootstrap.desired import SmokeSettings
from bootstrap.errors import Cause, Failure
from bootstrap.plan import Check, CheckStatus
from bootstrap.redact import redact
from bootstrap.sse import DONE, Event, SSEParser

EXCERPT_CHARS = 80
MAX_RETRIES = 2  # after the first attempt, for 429 / 5xx / connection errors before the stream
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RAISE_MAX_TOKENS = "raise max_tokens (smoke_test.max_tokens in the manifest)"
RAISE_TIMEOUT = "retry later, or raise smoke_test.timeout_s in the manifest"
USAGE_WARNING = "warning: no usage chunk (include_usage not honoured); output_tokens counts deltas"

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SmokeCase:
    """One model in one location of one project."""

    project_id: str
    alias: str
    request_model: str  # openai/gpt-oss-120b-maas
    publisher_model: str  # publishers/openai/models/gpt-oss-120b-maas
    location: str

    @property
    def key(self) -> str:
        return f"{self.alias}@{self.location}"


# ---------------------------------------------------------------------------------------------
# The stream, judged from its events (pure; tests feed it byte strings)


class StreamTally:
    """Everything the smoke test learns from one stream's events, and when it learnt it.

    Plain dict access on `json.loads` output, no pydantic models: at 100 concurrent streams this
    runs once per token and must stay far below a millisecond.
    """

    __slots__ = (
        "_clock",
        "content",
        "deltas",
        "done",
        "done_at",
        "error",
        "finish_reason",
        "first_content_at",
        "first_token_at",
        "reasoning_chars",
        "started_at",
        "tool_calls",
        "usage",
    )

    def __init__(self, started_at: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started_at = started_at
        self.content: list[str] = []
        self.reasoning_chars = 0
        self.deltas = 0  # non-empty reasoning or content deltas
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.done = False
        self.done_at: float | None = None
        self.error: str | None = None  # the server's message when an error event cut the stream
        self.first_token_at: float | None = None
        self.first_content_at: float | None = None
        self.tool_calls: dict[int, dict[str, str]] = {}  # index -> {id, name, arguments}

    @property
    def text(self) -> str:
        return "".join(self.content)

    def feed(self, event: Event) -> None:
        data = event.data
        if data.startswith(DONE):
            self.done = True
            self.done_at = self._clock()
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            self.error = f"unparseable event data: {data[:60]!r}"
            return
        if event.event == "error" or (isinstance(chunk, dict) and chunk.get("error")):
            self.error = _error_message(chunk)
            return
        if not isinstance(chunk, dict):
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        try:
            for choice in chunk.get("choices") or ():
                self._take_choice(choice)
        except (AttributeError, TypeError, ValueError):
            # A chunk of the wrong shape is the server's protocol error, judged like an error
            # event, not a crash of the smoke test.
            self.error = f"malformed chunk: {data[:60]!r}"

    def _take_choice(self, choice: dict[str, Any]) -> None:
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if not isinstance(reasoning or "", str) or not isinstance(delta.get("content") or "", str):
            raise TypeError("delta text is not a string")
        if reasoning:
            self._token()
            self.reasoning_chars += len(reasoning)
        content = delta.get("content")
        if content:
            self._token()
            if self.first_content_at is None:
                self.first_content_at = self._clock()
            self.content.append(content)
        calls = delta.get("tool_calls")
        if calls:
            self._token()
            for call in calls:
                self._take_tool_call(call)
        reason = choice.get("finish_reason")
        if reason:
            self.finish_reason = str(reason)

    def _token(self) -> None:
        self.deltas += 1
        if self.first_token_at is None:
            self.first_token_at = self._clock()

    def _take_tool_call(self, call: dict[str, Any]) -> None:
        slot = self.tool_calls.setdefault(
            int(call.get("index") or 0), {"id": "", "name": "", "arguments": ""}
        )
        if call.get("id"):
            slot["id"] = call["id"]
        function = call.get("function") or {}
        if function.get("name"):
            slot["name"] += function["name"]
        if function.get("arguments"):
            slot["arguments"] += function["arguments"]

    def output_tokens(self) -> int:
        tokens = (self.usage or {}).get("completion_tokens")
        return tokens if isinstance(tokens, int) else self.deltas

    def metrics(self, ended_at: float) -> dict[str, float | int | str]:
        """ttft_ms, first_content_ms, total_ms, output_tokens, tokens_per_s (what is known)."""
        total_ms = (ended_at - self.started_at) * 1000.0
        out: dict[str, float | int | str] = {"total_ms": round(total_ms, 1)}
        if self.first_token_at is not None:
            ttft_ms = (self.first_token_at - self.started_at) * 1000.0
            out["ttft_ms"] = round(ttft_ms, 1)
            tokens = self.output_tokens()
            out["output_tokens"] = tokens
            generating_s = (total_ms - ttft_ms) / 1000.0
            out["tokens_per_s"] = round(tokens / generating_s, 1) if generating_s > 0 else 0.0
        if self.first_content_at is not None:
            out["first_content_ms"] = round((self.first_content_at - self.started_at) * 1000.0, 1)
        return out


def _error_message(chunk: object) -> str:
    """The message of an SSE error payload: `{"error": {"message": ...}}` or a bare string."""
    error = chunk.get("error", chunk) if isinstance(chunk, dict) else chunk
    if isinstance(error, dict):
        message = error.get("message") or error.get("status") or json.dumps(error)[:200]
        code = error.get("code")
        return f"{message} (code {code})" if code is not None else str(message)
    return str(error)[:200]


def tally_lines(
    lines: Iterable[str], *, clock: Callable[[], float] = time.monotonic
) -> StreamTally:
    """Feed decoded SSE lines through the parser into a tally (for tests and replays)."""
    tally = StreamTally(clock(), clock)
    parser = SSEParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            tally.feed(event)
    tail = parser.finish()
    if tail is not None:
        tally.feed(tail)
    return tally


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """How a finished (or cut) stream ends: a pass, or a cause with a message and a remedy."""

    cause: Cause | None
    message: str
    remedy: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.cause is None


def judge(
    tally: StreamTally,
    *,
    cut_by: str | None = None,
    timed_out: bool = False,
    timeout_s: float = 0.0,
    want: str = "content",
) -> Verdict:
    """Classify a stream. `cut_by` names a transport error that ended it before its end;
    `want` is `content` (a normal answer) or `tool_calls` (the first leg of the tools check)."""
    if timed_out:
        return Verdict(
            cause=Cause.TIMEOUT,
            message=f"no complete answer within {timeout_s:g} s",
            remedy=RAISE_TIMEOUT,
        )
    if tally.error is not None:
        return Verdict(
            cause=Cause.STREAM_INTERRUPTED,
            message=f"the stream was cut by an error event: {tally.error}",
            remedy="retry; if it persists, check the Vertex AI status page",
        )
    if cut_by is not None and not tally.done:
        return Verdict(
            cause=Cause.STREAM_INTERRUPTED,
            message=f"the connection dropped mid-stream ({cut_by})",
            remedy="retry; if it persists, check the network path to Vertex AI",
        )
    if not tally.done:
        return Verdict(
            cause=Cause.STREAM_INCOMPLETE,
            message="the stream ended without data: [DONE]",
            remedy="retry; a proxy or the server closed the stream early",
        )
    got = bool(tally.tool_calls) if want == "tool_calls" else bool(tally.content)
    if not got:
        return _empty_verdict(tally, want)
    if tally.finish_reason is None:
        return Verdict(
            cause=Cause.STREAM_INCOMPLETE,
            message="the stream ended with [DONE] but no finish_reason",
            remedy="retry; the server ended the answer without saying why",
        )
    warnings: list[str] = []
    if tally.finish_reason == "length":
        warnings.append("warning: the answer was cut at max_tokens")
    if tally.usage is None:
        warnings.append(USAGE_WARNING)
    return Verdict(cause=None, message="ok", warnings=tuple(warnings))


def _empty_verdict(tally: StreamTally, want: str) -> Verdict:
    if want == "tool_calls":
        return Verdict(
            cause=Cause.UNKNOWN,
            message=f"the model answered without calling the tool (finish_reason {tally.finish_reason})",
            remedy="function calling did not work for this model here; try again or report it",
        )
    if tally.finish_reason == "length":
        spent = (
            f" after {tally.reasoning_chars} characters of reasoning"
            if tally.reasoning_chars
            else ""
        )
        return Verdict(
            cause=Cause.EMPTY_COMPLETION,
            message=f"no content before finish_reason length{spent}",
            remedy=RAISE_MAX_TOKENS,
        )
    return Verdict(
        cause=Cause.EMPTY_COMPLETION,
        message=f"the stream carried no content (finish_reason {tally.finish_reason})",
        remedy=f"check the smoke_test.prompt, or {RAISE_MAX_TOKENS}",
    )


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The answer collapsed to one line of at most `limit` characters."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# The deadline


class _Watch:
    """One stream's deadline: ended by the run's deadline thread if still open when it passes."""

    def __init__(self, response: Any) -> None:
        self.fired = False
        self.cancelled = False
        self._response = response

    def fire(self) -> None:
        # A closed response may already have handed its connection back to the pool for
        # another case: never touch it then.
        if self.cancelled or self._response.is_closed:
            return
        self.fired = True
        sock = _socket_of(self._response)
        if sock is not None:
            # shutdown wakes a read blocked on this socket in another thread; close would not.
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        else:
            with suppress(Exception):
                self._response.close()

    def cancel(self) -> None:
        self.cancelled = True


class _Deadlines:
    """One thread that ends every stream still open at its deadline, for a whole run.

    A timer thread per stream cost milliseconds to start when 100 streams began at once, and that
    start-up landed inside each stream's measured time.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="smoke-deadlines", daemon=True)
        self._thread.start()

    def watch(self, response: Any, deadline: float) -> _Watch:
        watch = _Watch(response)
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            self._wake.notify()
        return watch

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while not self._closed:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, _, watch = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._heap)
                watch.fire()


def _socket_of(response: Any) -> socket.socket | None:
    stream = getattr(response, "extensions", {}).get("network_stream")
    if stream is None:
        return None
    with suppress(Exception):
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            return sock
    return None


class _DeadlineExceeded(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# One streaming call, with the retries the SDK is not allowed to make


@dataclass(slots=True)
class Leg:
    """One streaming request: its tally and verdict, or the failure that came before any byte."""

    tally: StreamTally | None = None
    verdict: Verdict | None = None
    failure: Failure | None = None
    ended_at: float = 0.0


@dataclass
class _Runner:
    settings: SmokeSettings
    tokens: TokenSource
    vertex_root: Callable[[str], str]
    http: httpx.Client
    as_of: date | None
    deadlines: _Deadlines
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
            failure = classify_exception(exc, **self.context(case))
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
            for line in _lines_until(response.iter_lines(), deadline):
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
        except _DeadlineExceeded:
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

    def context(self, case: SmokeCase) -> dict[str, Any]:
        return {
            "project_id": case.project_id,
            "location": case.location,
            "publisher_model": case.publisher_model,
            "as_of": self.as_of,
        }

    def _classify_status(self, case: SmokeCase, exc: openai.APIStatusError) -> Failure:
        response = exc.response
        try:
            body: Any = response.text
        except Exception:  # a streamed error body that could not be read
            body = exc.body
        return classify_http(
            exc.status_code, body, headers=dict(response.headers), **self.context(case)
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


def _lines_until(lines: Iterator[str], deadline: float) -> Iterator[str]:
    """The lines, checking the deadline after each: a cheap second guard beside the watchdog."""
    clock = time.monotonic
    for line in lines:
        if clock() > deadline:
            raise _DeadlineExceeded
        yield line


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
# Requests: the plain smoke case, the tools round trip and the structured-output check

GET_TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current local time in an IANA time zone.",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string", "description": "e.g. Asia/Tokyo"}},
            "required": ["timezone"],
        },
    },
}
TOOLS_PROMPT = "What time is it in Tokyo right now? Use the get_time tool."
TOOL_RESULT_TIME = "2025-01-01T12:00:00+09:00"

CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}
JSON_PROMPT = "What is the capital of France? Answer as JSON with the keys city and country."


def chat_body(
    case: SmokeCase, settings: SmokeSettings, messages: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """The keyword arguments of one streaming `chat.completions.create` call."""
    return {
        "model": case.request_model,
        "messages": messages,
        "max_tokens": settings.max_tokens,
        "reasoning_effort": settings.reasoning_effort,
        "stream": True,
        "stream_options": {"include_usage": True},
        **extra,
    }


def validate(instance: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The ways `instance` breaks `schema`, for the small JSON Schema subset this module sends
    (type, properties, required, additionalProperties: false, items). jsonschema is only a dev
    dependency, so the runtime check stays this small; tests compare it with jsonschema."""
    kind = schema.get("type")
    if kind is not None and not _is_type(instance, kind):
        return [f"{path}: expected {kind}, got {type(instance).__name__}"]
    errors: list[str] = []
    if isinstance(instance, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        errors += [
            f"{path}: missing {key!r}" for key in schema.get("required", ()) if key not in instance
        ]
        for key, value in instance.items():
            if key in properties:
                errors += validate(value, properties[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {key!r}")
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            errors += validate(item, schema["items"], f"{path}[{index}]")
    return errors


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    return isinstance(value, expected.get(kind, object))


# ---------------------------------------------------------------------------------------------
# Cases into checks


def _failed(
    name: str, cause: Cause, message: str, remedy: str, started: float, **extra: Any
) -> Check:
    return Check(
        name=name,
        status=CheckStatus.FAILED,
        cause=cause,
        remedy=redact(remedy),
        detail=redact(message),
        duration_ms=round((time.monotonic() - started) * 1000.0, 1),
        **extra,
    )


def leg_check(name: str, leg: Leg, started: float) -> Check:
    """The check for a finished leg: a pass with its excerpt, or its failure with the partial."""
    if leg.failure is not None:
        failure = leg.failure
        return _failed(name, failure.cause, failure.message, failure.remedy, started)
    tally = leg.tally or StreamTally(leg.ended_at)
    verdict = leg.verdict or judge(tally)
    metrics = tally.metrics(leg.ended_at) if leg.tally is not None else {}
    partial = excerpt(tally.text)
    if not verdict.passed:
        assert verdict.cause is not None
        message = f'{verdict.message}; partial output: "{partial}"' if partial else verdict.message
        return _failed(name, verdict.cause, message, verdict.remedy, started, metrics=metrics)
    detail = "; ".join((f'"{partial}"', *verdict.warnings))
    return Check(
        name=name,
        status=CheckStatus.OK,
        detail=redact(detail),
        duration_ms=round((time.monotonic() - started) * 1000.0, 1),
        metrics=metrics,
    )


def _smoke(runner: _Runner, case: SmokeCase) -> Check:
    started = time.monotonic()
    messages = [{"role": "user", "content": runner.settings.prompt}]
    leg = runner.stream(case, chat_body(case, runner.settings, messages))
    return leg_check(f"smoke:{case.key}", leg, started)


def _tools(runner: _Runner, case: SmokeCase) -> Check:
    """The model asks for get_time, gets its result back, and must then answer in content."""
    name = f"smoke-tools:{case.key}"
    started = time.monotonic()
    messages: list[dict[str, Any]] = [{"role": "user", "content": TOOLS_PROMPT}]
    body = chat_body(case, runner.settings, messages, tools=[GET_TIME_TOOL])
    first = runner.stream(case, body, want="tool_calls")
    if first.failure is not None or first.verdict is None or not first.verdict.passed:
        return leg_check(name, first, started)
    assert first.tally is not None
    call = first.tally.tool_calls[min(first.tally.tool_calls)]
    problem = _bad_tool_call(call)
    if problem:
        return _failed(name, Cause.UNKNOWN, problem, "function calling misbehaved; retry", started)
    call_id = call["id"] or "call_0"
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": call_id,
            "content": json.dumps({"timezone": "Asia/Tokyo", "time": TOOL_RESULT_TIME}),
        },
    ]
    second = runner.stream(case, chat_body(case, runner.settings, messages, tools=[GET_TIME_TOOL]))
    return leg_check(name, second, started)


def _bad_tool_call(call: dict[str, str]) -> str:
    """Why a streamed tool call is not a valid get_time call ('' when it is)."""
    if call["name"] != "get_time":
        return f"the model called {call['name']!r} instead of 'get_time'"
    try:
        arguments = json.loads(call["arguments"] or "{}")
    except ValueError:
        return f"the tool arguments are not JSON: {excerpt(call['arguments'])!r}"
    errors = validate(arguments, GET_TIME_TOOL["function"]["parameters"])
    return f"the tool arguments do not match the schema: {'; '.join(errors)}" if errors else ""


def _json(runner: _Runner, case: SmokeCase) -> Check:
    """Structured output: the content must parse and match the schema we asked for."""
    name = f"smoke-json:{case.key}"
    started = time.monotonic()
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "capital", "schema": CITY_SCHEMA, "strict": True},
    }
    messages = [{"role": "user", "content": JSON_PROMPT}]
    body = chat_body(case, runner.settings, messages, response_format=response_format)
    leg = runner.stream(case, body)
    check = leg_check(name, leg, started)
    if check.status is not CheckStatus.OK or leg.tally is None:
        return check
    try:
        errors = validate(json.loads(leg.tally.text), CITY_SCHEMA)
    except ValueError:
        errors = ["the content is not JSON"]
    if errors:
        message = f'structured output does not match the schema: {"; ".join(errors)}; output: "{excerpt(leg.tally.text)}"'
        remedy = "structured output (response_format json_schema) did not hold; retry or report it"
        return _failed(name, Cause.UNKNOWN, message, remedy, started, metrics=check.metrics)
    return check


_KINDS: dict[str, Callable[[_Runner, SmokeCase], Check]] = {
    "smoke": _smoke,
    "tools": _tools,
    "json": _json,
}


def _safe(runner: _Runner, kind: str, case: SmokeCase) -> Check:
    """Run one check; whatever goes wrong becomes a failed check, never a traceback.

    classify_exception still names what it recognises (a credential error is UNAUTHENTICATED);
    anything else is UNKNOWN with a redacted message."""
    started = time.monotonic()
    try:
        return _KINDS[kind](runner, case)
    except Exception as exc:
        name = f"{'smoke' if kind == 'smoke' else 'smoke-' + kind}:{case.key}"
        failure = classify_exception(exc, **runner.context(case))
        remedy = failure.remedy or "report this as a bug, with the message"
        return _failed(name, failure.cause, failure.message, remedy, started)


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
) -> list[Check]:
    """One streaming smoke check per case (plus `tools` / `json` checks when asked), in order.

    Cases run concurrently on one shared HTTP client; a failing case never stops the others.
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
    deadlines = _Deadlines()
    runner = _Runner(
        settings=settings,
        tokens=tokens,
        vertex_root=vertex_root,
        http=http,
        as_of=as_of,
        deadlines=deadlines,
    )
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smoke") as pool:
            return list(pool.map(lambda task: _safe(runner, *task), tasks))
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

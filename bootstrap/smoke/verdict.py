"""The smoke stream judged: its events tallied, a verdict on how it ended, and its check.

`StreamTally` takes one stream's SSE events (content, reasoning and tool-call deltas, the finish
reason, usage, `[DONE]`, error events) with the time it learnt each; `judge` turns a tally into a
`Verdict` (a pass, or `STREAM_INCOMPLETE`, `STREAM_INTERRUPTED`, `EMPTY_COMPLETION`, `TIMEOUT`
with a message and a remedy); `leg_check` turns one streaming request (`Leg`) into the `Check`
the report shows. Pure apart from the clock: no network, and tests feed it byte strings.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bootstrap.checks import Check, CheckStatus
from bootstrap.errors import Cause, Failure
from bootstrap.redact import redact
from bootstrap.smoke.sse import DONE, Event, SSEParser

EXCERPT_CHARS = 80
RAISE_MAX_TOKENS = "raise max_tokens (smoke_test.max_tokens in the manifest)"
RAISE_TIMEOUT = "retry later, or raise smoke_test.timeout_s in the manifest"
USAGE_WARNING = "warning: no usage chunk (include_usage not honoured); output_tokens counts deltas"

_WHITESPACE = re.compile(r"\s+")


class StreamTally:
    """Everything the smoke test learns from one stream's events, and when it learnt it.

    Plain dict access on `json.loads` output, no pydantic models: at 100 concurrent streams this
    runs once per token and must stay far below a millisecond.
    """

    __slots__ = (
        "_clock",
        "concurrency",
        "content",
        "deltas",
        "done",
        "done_at",
        "error",
        "finish_reason",
        "first_content_at",
        "first_token_at",
        "reasoning_chars",
        "reasoning_deltas",
        "sent_at",
        "started_at",
        "tool_calls",
        "usage",
    )

    def __init__(self, started_at: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started_at = started_at  # the call began (total_ms counts from here)
        # The request was on the wire (TTFT counts from here); unknown: the call's start.
        self.sent_at: float | None = None
        self.concurrency: int | None = None  # most of the run's streams open at once beside it
        self.content: list[str] = []
        self.reasoning_chars = 0
        self.reasoning_deltas = 0
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
            self.reasoning_deltas += 1
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

    def reasoning_tokens(self) -> int:
        """The usage's `completion_tokens_details.reasoning_tokens`, else the reasoning deltas
        seen (from `reasoning` or `reasoning_content`, whichever the server sends: row 19)."""
        details = (self.usage or {}).get("completion_tokens_details")
        tokens = details.get("reasoning_tokens") if isinstance(details, dict) else None
        return tokens if isinstance(tokens, int) else self.reasoning_deltas

    def metrics(self, ended_at: float) -> dict[str, float | int | str]:
        """ttft_ms, first_content_ms, total_ms, output_tokens, reasoning_tokens, tokens_per_s,
        concurrency (what is known).

        total_ms is the whole call as the tool made it, from `started_at`; ttft_ms and
        first_content_ms count from `sent_at`, the request on the wire, so the tool's own
        queueing (its threads, its SDK, a busy GIL) is not reported as the model's latency;
        tokens_per_s is the output tokens over first token to `ended_at` (`[DONE]`)."""
        total_ms = (ended_at - self.started_at) * 1000.0
        origin = self.started_at if self.sent_at is None else self.sent_at
        out: dict[str, float | int | str] = {"total_ms": round(total_ms, 1)}
        if self.first_token_at is not None:
            out["ttft_ms"] = round((self.first_token_at - origin) * 1000.0, 1)
            tokens = self.output_tokens()
            out["output_tokens"] = tokens
            out["reasoning_tokens"] = self.reasoning_tokens()
            generating_s = ended_at - self.first_token_at
            out["tokens_per_s"] = round(tokens / generating_s, 1) if generating_s > 0 else 0.0
        if self.first_content_at is not None:
            out["first_content_ms"] = round((self.first_content_at - origin) * 1000.0, 1)
        if self.concurrency is not None:
            out["concurrency"] = self.concurrency
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
    ended_early = _ended_early(tally, cut_by)
    if ended_early is not None:
        return ended_early
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


def _ended_early(tally: StreamTally, cut_by: str | None) -> Verdict | None:
    """The verdict on a stream that never reached `data: [DONE]` (or was cut by an error event)."""
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
    return None


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


@dataclass(slots=True)
class Leg:
    """One streaming request: its tally and verdict, or the failure that came before any byte."""

    tally: StreamTally | None = None
    verdict: Verdict | None = None
    failure: Failure | None = None
    ended_at: float = 0.0


def failed_check(
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
        return failed_check(name, failure.cause, failure.message, failure.remedy, started)
    tally = leg.tally or StreamTally(leg.ended_at)
    verdict = leg.verdict or judge(tally)
    metrics = tally.metrics(leg.ended_at) if leg.tally is not None else {}
    partial = excerpt(tally.text)
    if not verdict.passed:
        assert verdict.cause is not None
        message = f'{verdict.message}; partial output: "{partial}"' if partial else verdict.message
        return failed_check(name, verdict.cause, message, verdict.remedy, started, metrics=metrics)
    detail = "; ".join((f'"{partial}"', *verdict.warnings))
    return Check(
        name=name,
        status=CheckStatus.OK,
        detail=redact(detail),
        duration_ms=round((time.monotonic() - started) * 1000.0, 1),
        metrics=metrics,
    )

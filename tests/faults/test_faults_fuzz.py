"""Fuzzing (issue 6 item 7): random Google error bodies through the cause classifier, random SSE
byte streams through the smoke test's parser and judge.

tests/test_causes.py already fuzzes classify_http with flat JSON values; these strategies build
Google-shaped envelopes with nested, missing and wrongly typed fields, arrays and raw bytes.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bootstrap.causes.classify import classify_http
from bootstrap.causes.context import CallContext
from bootstrap.errors import Cause, Failure
from bootstrap.smoke.sse import SSEParser
from bootstrap.smoke.verdict import judge, tally_lines

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
TYPES = st.sampled_from(
    [
        "type.googleapis.com/google.rpc.ErrorInfo",
        "type.googleapis.com/google.rpc.RetryInfo",
        "type.googleapis.com/google.rpc.QuotaFailure",
        "type.googleapis.com/google.rpc.PreconditionFailure",
        "type.googleapis.com/google.rpc.Help",
        "type.googleapis.com/google.rpc.BadRequest",
        "nonsense",
    ]
)
REASONS = st.sampled_from(
    [
        "SERVICE_DISABLED",
        "BILLING_DISABLED",
        "RATE_LIMIT_EXCEEDED",
        "IAM_PERMISSION_DENIED",
        "UREQ_PROJECT_BILLING_NOT_FOUND",
        "CONSUMER_INVALID",
        "",
    ]
)
DETAIL = st.fixed_dictionaries(
    {"@type": TYPES},
    optional={
        "reason": REASONS | JSONISH,
        "domain": JSONISH,
        "metadata": st.dictionaries(st.text(max_size=15), JSONISH, max_size=4) | JSONISH,
        "retryDelay": st.sampled_from(["7s", "0.5s", "-3s", "s", ""]) | JSONISH,
        "violations": st.lists(JSONISH, max_size=3) | JSONISH,
        "links": JSONISH,
    },
)
ERROR = st.fixed_dictionaries(
    {},
    optional={
        "code": st.integers(-5, 700) | JSONISH,
        "message": st.text(max_size=80) | JSONISH,
        "status": st.sampled_from(["PERMISSION_DENIED", "NOT_FOUND", "UNAVAILABLE"]) | JSONISH,
        "details": st.lists(DETAIL | JSONISH, max_size=4) | JSONISH,
        "errors": JSONISH,
    },
)
BODIES = (
    st.builds(lambda e: {"error": e}, ERROR)
    | st.builds(lambda e: [{"error": e}], ERROR)
    | ERROR
    | JSONISH
    | st.binary(max_size=200)
    | st.builds(lambda e: json.dumps({"error": e})[: len(json.dumps(e)) // 2], ERROR)
)
HEADERS = st.none() | st.dictionaries(
    st.sampled_from(["Retry-After", "retry-after", "Content-Type", "X-Other"]),
    st.text(max_size=40),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(status=st.integers(0, 999), body=BODIES, headers=HEADERS)
def test_random_google_error_bodies_always_classify(
    status: int, body: Any, headers: dict[str, str] | None
) -> None:
    failure = classify_http(status, body, CallContext(project_id="p"), headers=headers)
    assert isinstance(failure, Failure)
    assert isinstance(failure.cause, Cause)
    assert isinstance(failure.message, str) and failure.message


DELTA = st.dictionaries(
    st.sampled_from(["content", "reasoning_content", "reasoning", "tool_calls", "role"]),
    JSONISH | st.lists(st.dictionaries(st.sampled_from(["index", "id", "function"]), JSONISH)),
)
SSE_LINE = st.one_of(
    st.just(""),
    st.just("data: [DONE]"),
    st.builds(lambda d: "data: " + json.dumps(d), JSONISH),
    st.builds(
        lambda c, r: "data: " + json.dumps({"choices": [{"delta": c, "finish_reason": r}]}),
        DELTA | JSONISH,
        JSONISH,
    ),
    st.builds(lambda d: "data: " + json.dumps({"choices": d, "usage": d}), JSONISH),
    st.builds(lambda e: "event: " + e, st.text(max_size=10)),
    st.builds(lambda t: ": " + t, st.text(max_size=10)),
    st.text(max_size=40),
)


def _judge_lines(lines: list[str]) -> None:
    tally = tally_lines(lines)
    assert isinstance(tally.text, str)  # what the report's excerpt is made of
    tally.metrics(tally.started_at + 1.0)
    verdict = judge(tally)
    assert verdict.cause is None or isinstance(verdict.cause, Cause)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(SSE_LINE, max_size=30))
def test_random_sse_streams_are_judged_without_raising(lines: list[str]) -> None:
    _judge_lines(lines)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=400))
def test_random_sse_bytes_never_hang_or_raise(raw: bytes) -> None:
    lines = raw.decode("utf-8", errors="replace").splitlines()
    done = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _judge_lines(lines)
            parser = SSEParser()
            for line in lines:
                parser.feed(line)
            parser.finish()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            done.set()

    threading.Thread(target=work, daemon=True).start()
    assert done.wait(5.0), "the SSE path hung"
    assert errors == []

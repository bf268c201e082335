"""Pure tests: SSE lines in, a verdict out. No network; streams are byte strings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from bootstrap.errors import Cause
from bootstrap.smoke.checks import CITY_SCHEMA, GET_TIME_TOOL, validate
from bootstrap.smoke.sse import Event, SSEParser, parse_lines
from bootstrap.smoke.verdict import (
    RAISE_MAX_TOKENS,
    USAGE_WARNING,
    StreamTally,
    excerpt,
    judge,
    tally_lines,
)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    payload = {"object": "chat.completion.chunk", "choices": [choice]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


USAGE = b'data: {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 7}}\n\n'
DONE = b"data: [DONE]\n\n"
ROLE = chunk({"role": "assistant", "content": ""})
REASONING = chunk({"reasoning_content": "The user wants ok."})
CONTENT = chunk({"content": "ok"}) + chunk({"content": " then"})
STOP = chunk({}, "stop")


def lines(raw: bytes) -> list[str]:
    """Split the way httpx's iter_lines does (no line endings kept)."""
    return raw.decode().splitlines()


def tally(raw: bytes) -> StreamTally:
    return tally_lines(lines(raw))


# --- SSE parsing --------------------------------------------------------------------------------


def test_parser_dispatches_on_blank_lines_and_skips_comments() -> None:
    raw = b": keep-alive\n\ndata: one\n\nid: 7\nretry: 10\ndata:two\n\n"
    assert parse_lines(lines(raw)) == [Event("one"), Event("two")]


def test_parser_joins_multiline_data_and_names_events() -> None:
    raw = b'event: error\ndata: {"a":\ndata: 1}\n\n'
    assert parse_lines(lines(raw)) == [Event('{"a":\n1}', "error")]


def test_parser_keeps_a_final_event_without_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed("data: [DONE]") is None
    assert parser.finish() == Event("[DONE]")
    assert parser.finish() is None


def test_parser_handles_crlf_streams() -> None:
    raw = b"data: a\r\n\r\ndata: b\r\n\r\n"
    assert parse_lines(lines(raw)) == [Event("a"), Event("b")]


# --- Verdicts -----------------------------------------------------------------------------------


def test_full_stream_passes_with_content_usage_and_done() -> None:
    t = tally(ROLE + REASONING + CONTENT + STOP + USAGE + DONE)
    verdict = judge(t)
    assert verdict.passed and verdict.warnings == ()
    assert t.text == "ok then" and t.finish_reason == "stop" and t.done
    assert t.output_tokens() == 7  # from usage, not the 3 deltas
    assert t.deltas == 3


def test_missing_usage_is_a_pass_with_a_warning_and_counted_deltas() -> None:
    t = tally(ROLE + REASONING + CONTENT + STOP + DONE)
    verdict = judge(t)
    assert verdict.passed and verdict.warnings == (USAGE_WARNING,)
    assert t.output_tokens() == 3


def test_no_done_is_incomplete() -> None:
    verdict = judge(tally(ROLE + CONTENT + STOP + USAGE))
    assert verdict.cause is Cause.STREAM_INCOMPLETE


def test_done_without_finish_reason_is_incomplete() -> None:
    verdict = judge(tally(ROLE + CONTENT + USAGE + DONE))
    assert verdict.cause is Cause.STREAM_INCOMPLETE
    assert "finish_reason" in verdict.message


@pytest.mark.parametrize(
    "error_event",
    [
        b'data: {"error": {"code": 500, "message": "Internal error encountered."}}\n\n',
        b'event: error\ndata: {"message": "Internal error encountered."}\n\n',
    ],
)
def test_error_event_interrupts_and_keeps_partial(error_event: bytes) -> None:
    t = tally(ROLE + CONTENT + error_event)
    verdict = judge(t)
    assert verdict.cause is Cause.STREAM_INTERRUPTED
    assert "Internal error encountered." in verdict.message
    assert t.text == "ok then"


def test_connection_drop_interrupts() -> None:
    verdict = judge(tally(ROLE + CONTENT), cut_by="RemoteProtocolError")
    assert verdict.cause is Cause.STREAM_INTERRUPTED
    assert "RemoteProtocolError" in verdict.message


def test_a_drop_after_done_is_still_a_pass() -> None:
    assert judge(tally(ROLE + CONTENT + STOP + USAGE + DONE), cut_by="ReadError").passed


def test_unparseable_data_interrupts() -> None:
    verdict = judge(tally(ROLE + CONTENT + b"data: {not json\n\n" + STOP + DONE))
    assert verdict.cause is Cause.STREAM_INTERRUPTED


def test_length_without_content_is_empty_completion_with_remedy() -> None:
    verdict = judge(tally(ROLE + REASONING + chunk({}, "length") + USAGE + DONE))
    assert verdict.cause is Cause.EMPTY_COMPLETION
    assert verdict.remedy == RAISE_MAX_TOKENS
    assert "reasoning" in verdict.message


def test_stop_without_content_is_empty_completion() -> None:
    verdict = judge(tally(ROLE + REASONING + STOP + USAGE + DONE))
    assert verdict.cause is Cause.EMPTY_COMPLETION


def test_length_with_content_passes_with_a_warning() -> None:
    verdict = judge(tally(ROLE + CONTENT + chunk({}, "length") + USAGE + DONE))
    assert verdict.passed
    assert any("max_tokens" in w for w in verdict.warnings)


def test_timeout_wins_over_everything() -> None:
    verdict = judge(tally(ROLE + CONTENT), timed_out=True, timeout_s=2)
    assert verdict.cause is Cause.TIMEOUT and "2 s" in verdict.message


def test_tool_calls_are_assembled_from_fragments() -> None:
    head = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_time"}}
    raw = (
        ROLE
        + chunk({"tool_calls": [head]})
        + chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"timezone": '}}]})
        + chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Asia/Tokyo"}'}}]})
        + chunk({}, "tool_calls")
        + DONE
    )
    t = tally(raw)
    assert t.tool_calls == {
        0: {"id": "call_1", "name": "get_time", "arguments": '{"timezone": "Asia/Tokyo"}'}
    }
    assert judge(t, want="tool_calls").passed
    assert not judge(tally(ROLE + CONTENT + STOP + DONE), want="tool_calls").passed


# --- Metrics and excerpt ------------------------------------------------------------------------


def fake_clock(*times: float) -> Any:
    ticks: Iterator[float] = iter(times)
    return lambda: next(ticks)


def test_metrics_measure_from_the_start_of_the_attempt() -> None:
    # start 0.0, first token (reasoning) at 0.5, first content at 0.75; [DONE] at 2.5
    t = tally_lines(
        lines(ROLE + REASONING + CONTENT + STOP + USAGE + DONE),
        clock=fake_clock(0.0, 0.5, 0.75, 2.5),
    )
    assert t.done_at == 2.5
    assert t.metrics(t.done_at) == {
        "total_ms": 2500.0,
        "ttft_ms": 500.0,
        "first_content_ms": 750.0,
        "output_tokens": 7,
        "reasoning_tokens": 1,  # one reasoning delta; the usage has no details
        "tokens_per_s": 3.5,  # 7 tokens over 2.0 s after the first token
    }


def test_reasoning_tokens_from_usage_details_or_either_delta_field() -> None:
    renamed = chunk({"reasoning": "Think."}) + chunk({"reasoning": " More."})
    assert tally(ROLE + renamed + CONTENT + STOP + DONE).reasoning_tokens() == 2
    assert tally(ROLE + REASONING + CONTENT + STOP + DONE).reasoning_tokens() == 1
    detailed = (
        b'data: {"choices": [], "usage": {"completion_tokens": 9, '
        b'"completion_tokens_details": {"reasoning_tokens": 5}}}\n\n'
    )
    assert tally(ROLE + renamed + CONTENT + STOP + detailed + DONE).reasoning_tokens() == 5


def test_excerpt_collapses_whitespace_and_truncates() -> None:
    assert excerpt("  ok\n\n then\t ") == "ok then"
    long = excerpt("word " * 40)
    assert len(long) == 80 and long.endswith("…")


# --- The tiny validator agrees with jsonschema on the schemas we send ----------------------------


@pytest.mark.parametrize(
    "instance",
    [
        {"city": "Paris", "country": "France"},
        {"city": "Paris"},
        {"city": "Paris", "country": "France", "extra": 1},
        {"city": 1, "country": "France"},
        ["Paris"],
        "Paris",
        None,
    ],
)
def test_validator_agrees_with_jsonschema(instance: Any) -> None:
    ours = validate(instance, CITY_SCHEMA) == []
    theirs = jsonschema.Draft202012Validator(CITY_SCHEMA).is_valid(instance)
    assert ours == theirs


@pytest.mark.parametrize("instance", [{"timezone": "Asia/Tokyo"}, {}, {"timezone": 9}])
def test_validator_agrees_on_the_tool_schema(instance: Any) -> None:
    schema = GET_TIME_TOOL["function"]["parameters"]
    assert (validate(instance, schema) == []) == jsonschema.Draft202012Validator(schema).is_valid(
        instance
    )

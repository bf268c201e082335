"""The optional smoke checks: a tools round trip and structured output, and the request body.

`tools_check` streams a request offering `get_time`, expects a valid call to it, sends the tool's
result back and then wants a content answer; `json_check` asks for `response_format` json_schema
and wants content that parses and matches `CITY_SCHEMA`. Both check what they get with
`validate`, a small JSON Schema subset kept here because jsonschema is only a dev dependency.
`chat_body` builds the keyword arguments of every streaming call, the plain smoke case's too.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from bootstrap.checks import Check, CheckStatus, smoke_check
from bootstrap.errors import Cause
from bootstrap.manifest.desired import SmokeSettings
from bootstrap.smoke.case import SmokeCase
from bootstrap.smoke.verdict import Leg, excerpt, failed_check, leg_check


class Streamer(Protocol):
    """What a check needs of the runner: its settings and one judged streaming request."""

    settings: SmokeSettings

    def stream(self, case: SmokeCase, body: dict[str, Any], want: str = "content") -> Leg: ...


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


def tools_check(runner: Streamer, case: SmokeCase) -> Check:
    """The model asks for get_time, gets its result back, and must then answer in content."""
    name = smoke_check(case.key, "tools")
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
        return failed_check(
            name, Cause.UNKNOWN, problem, "function calling misbehaved; retry", started
        )
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


def json_check(runner: Streamer, case: SmokeCase) -> Check:
    """Structured output: the content must parse and match the schema we asked for."""
    name = smoke_check(case.key, "json")
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
        return failed_check(name, Cause.UNKNOWN, message, remedy, started, metrics=check.metrics)
    return check

"""Vertex over authorised HTTP (publisher model, enableModel, EULA) and the chat route through
the openai SDK: streaming, reasoning, usage, tools, structured output, errors and pacing."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from typing import Any

import jsonschema
import openai
import pytest
from openai.types.chat import (
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)

from bootstrap.emulator.inprocess import Emulator

MODEL = "openai/gpt-oss-120b-maas"
OK_PROMPT: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Reply with the single word: ok"}
]


def client(
    emulator: Emulator, project: str = "demo-ready", location: str = "global", **kw: Any
) -> openai.OpenAI:
    base = f"{emulator.base_url}/v1/projects/{project}/locations/{location}/endpoints/openapi"
    return openai.OpenAI(
        base_url=base, api_key=kw.pop("token", "emulator-owner"), max_retries=0, **kw
    )


def test_publisher_model_get(session: Any, emulator: Emulator) -> None:
    url = f"{emulator.base_url}/v1beta1/publishers/openai/models/gpt-oss-120b-maas?view=2"
    body = session.get(url).json()
    assert (
        body["name"] == "publishers/openai/models/gpt-oss-120b-maas" and body["launchStage"] == "GA"
    )
    missing = session.get(f"{emulator.base_url}/v1beta1/publishers/openai/models/nope")
    assert missing.status_code == 404 and "Publisher Model" in missing.json()["error"]["message"]


def test_enable_model_preconditions_and_idempotence(session: Any, emulator: Emulator) -> None:
    def enable(project: str) -> Any:
        url = f"{emulator.base_url}/v1beta1/projects/{project}/publishers/openai/models/gpt-oss-120b-maas:enableModel"
        return session.post(url, json={})

    disabled = enable("demo-api-disabled")
    assert disabled.status_code == 403
    assert disabled.json()["error"]["details"][0]["reason"] == "SERVICE_DISABLED"
    for _ in range(2):
        done = enable("demo-model-off")
        assert done.status_code == 200
        assert done.json() == {
            "enablementState": "ENABLEMENT_STATE_SUCCEEDED",
            "publisherEndpoint": "projects/demo-model-off/locations/global/publishers/openai/models/gpt-oss-120b-maas",
        }
    retired = session.post(
        f"{emulator.base_url}/v1beta1/projects/demo-ready/publishers/openai/models/gpt-oss-20b-maas:enableModel",
        json={},
    )
    assert retired.status_code == 404
    assert [e["mutating"] for e in emulator.journal()] == [True, True, True, True]


def test_eula_check_and_accept(session: Any, emulator: Emulator) -> None:
    base = f"{emulator.base_url}/v1beta1/projects/demo-ready/modelGardenEula"
    body = {"publisherModel": "publishers/openai/models/gpt-oss-120b-maas"}
    assert session.post(f"{base}:check", json=body).json()["publisherModelEulaAcked"] is False
    accepted = session.post(f"{base}:accept", json=body).json()
    assert accepted == {"projectNumber": "100000000001", **body, "publisherModelEulaAcked": True}


def test_chat_non_streaming(emulator: Emulator) -> None:
    completion = client(emulator).chat.completions.create(
        model=MODEL, messages=OK_PROMPT, max_tokens=512
    )
    choice = completion.choices[0]
    assert choice.message.content == "ok" and choice.finish_reason == "stop"
    # Row 19: vLLM now sends `reasoning` (and no longer `reasoning_content`).
    assert getattr(choice.message, "reasoning", None)
    assert getattr(choice.message, "reasoning_content", None) is None
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_chat_streaming_reasoning_then_content_usage_done(emulator: Emulator) -> None:
    stream = client(emulator).chat.completions.create(
        model=MODEL, messages=OK_PROMPT, max_tokens=512, stream=True, stream_options={"include_usage": True},
        extra_body={"reasoning_effort": "low"},
    )  # fmt: skip
    kinds: list[str] = []
    content = ""
    usage = None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if getattr(choice.delta, "reasoning", None):
                kinds.append("reasoning")
            if choice.delta.content:
                kinds.append("content")
                content += choice.delta.content
    assert content == "ok"
    assert (
        kinds[0] == "reasoning"
        and kinds[-1] == "content"
        and kinds.index("content") > kinds.count("reasoning") - 1
    )
    assert usage is not None and usage.completion_tokens == len(kinds)


def test_chunk_gaps_match_token_interval(emulator: Emulator) -> None:
    world = emulator.get_world()
    world["timing"].update({"ttft_ms": 10, "token_interval_ms": 40})
    emulator.put_world(world)
    stream = client(emulator).chat.completions.create(model=MODEL, messages=OK_PROMPT, stream=True)
    arrivals = [time.perf_counter() for _ in stream]
    # Between token chunks only: skip the ttft gap and the finish / [DONE] tail.
    gaps = [b - a for a, b in itertools.pairwise(arrivals[1:-1])]
    # Paced, not burst: most gaps near 40 ms and the median on it. A loaded machine may delay
    # one chunk (a long gap, then a short one), so single outliers are allowed.
    assert gaps and sum(0.025 < g < 0.1 for g in gaps) >= 0.8 * len(gaps), gaps
    assert 0.03 < statistics.median(gaps) < 0.06, gaps


def test_length_with_empty_content_when_budget_is_reasoning(emulator: Emulator) -> None:
    completion = client(emulator).chat.completions.create(
        model=MODEL, messages=OK_PROMPT, max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == ""


def test_tool_call_then_tool_result(emulator: Emulator) -> None:
    tools: list[ChatCompletionFunctionToolParam] = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["city"],
            },
        },
    }]  # fmt: skip
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client(emulator).chat.completions.create(model=MODEL, messages=messages, tools=tools)
    tool_calls = first.choices[0].message.tool_calls
    assert tool_calls is not None
    call = tool_calls[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "Paris"
    }
    stream = client(emulator).chat.completions.create(
        model=MODEL, messages=messages, tools=tools, stream=True
    )
    pieces = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in stream
        if c.choices and c.choices[0].delta.tool_calls and c.choices[0].delta.tool_calls[0].function
    )
    assert json.loads(pieces) == {"city": "Paris"}
    messages += [
        {"role": "assistant", "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    second = client(emulator).chat.completions.create(model=MODEL, messages=messages, tools=tools)
    assert "sunny, 21C" in (second.choices[0].message.content or "")


def test_structured_output_validates(emulator: Emulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["answer", "score"],
        "additionalProperties": False,
    }
    completion = client(emulator).chat.completions.create(
        model=MODEL,
        messages=OK_PROMPT,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    jsonschema.validate(json.loads(completion.choices[0].message.content or ""), schema)


@pytest.mark.parametrize(
    ("project", "location", "model", "token", "error", "status", "needle"),
    [
        ("demo-ready", "global", MODEL, "bad", openai.AuthenticationError, 401, "UNAUTHENTICATED"),
        (
            "missing-proj",
            "global",
            MODEL,
            "emulator-owner",
            openai.PermissionDeniedError,
            403,
            "CONSUMER_INVALID",
        ),
        (
            "demo-deleting",
            "global",
            MODEL,
            "emulator-owner",
            openai.PermissionDeniedError,
            403,
            "CONSUMER_INVALID",
        ),
        (
            "demo-api-disabled",
            "global",
            MODEL,
            "emulator-owner",
            openai.PermissionDeniedError,
            403,
            "SERVICE_DISABLED",
        ),
        (
            "demo-closed-billing",
            "global",
            MODEL,
            "emulator-owner",
            openai.PermissionDeniedError,
            403,
            "SERVICE_DISABLED",
        ),
        (
            "demo-ready",
            "europe-west4",
            MODEL,
            "emulator-owner",
            openai.BadRequestError,
            400,
            "is not servable in region europe-west4.",
        ),
        (
            "demo-ready",
            "us-central1",
            MODEL,
            "emulator-owner",
            openai.BadRequestError,
            400,
            "is not servable in region us-central1.",
        ),
        (
            "demo-ready",
            "us-central1",
            "openai/gpt-oss-20b-maas",
            "emulator-owner",
            openai.NotFoundError,
            404,
            "was not found or your project does not have access to it.",
        ),
        (
            "demo-model-off",
            "global",
            MODEL,
            "emulator-owner",
            openai.BadRequestError,
            400,
            "Project `100000000004` is not allowed to use Publisher Model "
            "`projects/demo-model-off/locations/global/publishers/openai/models/gpt-oss-120b-maas`",
        ),
        (
            "demo-ready",
            "global",
            "publishers/openai/models/gpt-oss-120b-maas",
            "emulator-owner",
            openai.BadRequestError,
            400,
            "expected",
        ),
    ],
)
def test_chat_precondition_errors(
    emulator: Emulator,
    project: str,
    location: str,
    model: str,
    token: str,
    error: type[Exception],
    status: int,
    needle: str,
) -> None:
    with pytest.raises(error) as caught:
        client(emulator, project, location, token=token).chat.completions.create(
            model=model, messages=OK_PROMPT
        )
    assert caught.value.status_code == status  # type: ignore[attr-defined]
    assert needle in caught.value.response.text  # type: ignore[attr-defined]


def test_iam_denied_names_permission(emulator: Emulator) -> None:
    world = emulator.get_world()
    world["principals"][1]["grants"] = {"*": ["resourcemanager.projects.get"]}
    emulator.put_world(world)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(emulator, token="emulator-viewer").chat.completions.create(
            model=MODEL, messages=OK_PROMPT
        )
    detail = caught.value.body["details"][0]  # type: ignore[index]
    assert detail["reason"] == "IAM_PERMISSION_DENIED"
    assert detail["metadata"]["permission"] == "aiplatform.endpoints.predict"


def test_billing_disabled_and_propagation_lag(emulator: Emulator) -> None:
    world = emulator.get_world()
    closed = next(p for p in world["projects"] if p["project_id"] == "demo-closed-billing")
    closed["services"] = ["aiplatform.googleapis.com"]
    emulator.put_world(world)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(emulator, "demo-closed-billing").chat.completions.create(
            model=MODEL, messages=OK_PROMPT
        )
    assert "BILLING_DISABLED" in caught.value.response.text

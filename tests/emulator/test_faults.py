"""Every fault action and field, exercised with real clients; each test asserts its rules were
consumed (the storage-testbench habit)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
import requests
from google.api_core import exceptions
from google.cloud import billing_v1, resourcemanager_v3
from openai.types.chat import ChatCompletionMessageParam

from bootstrap.emulator.inprocess import Emulator

Make = Callable[..., Any]
MODEL = "openai/gpt-oss-120b-maas"
OK_PROMPT: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Reply with the single word: ok"}
]
CHAT = r"/chat/completions$"


def chat_client(emulator: Emulator, **kw: Any) -> openai.OpenAI:
    base = f"{emulator.base_url}/v1/projects/demo-ready/locations/global/endpoints/openapi"
    return openai.OpenAI(base_url=base, api_key="emulator-owner", max_retries=0, **kw)


def consumed(emulator: Emulator) -> list[int]:
    return [r["remaining"] for r in emulator.faults()["rules"]]


def test_respond_google_error_then_normal(gapic: Make, emulator: Emulator) -> None:
    body = {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    emulator.add_faults(
        {
            "rules": [
                {
                    "match": {"method": "GET", "path": "/v3/projects/demo-ready"},
                    "action": "respond",
                    "status": 429,
                    "body": body,
                }
            ]
        }
    )
    client = gapic(resourcemanager_v3.ProjectsClient)
    with pytest.raises(exceptions.TooManyRequests, match="slow down"):
        client.get_project(name="projects/demo-ready")
    assert client.get_project(name="projects/demo-ready").project_id == "demo-ready"
    assert consumed(emulator) == [0]


def test_respond_list_body_headers_and_raw_string(emulator: Emulator) -> None:
    wrapped = [{"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}]
    emulator.add_faults({"rules": [
        {"match": {"path": CHAT}, "action": "respond", "status": 403, "body": wrapped, "headers": {"x-should-retry": "false"}},
        {"match": {"path": CHAT}, "action": "respond", "status": 502, "body": "upstream broke"},
        {"match": {"path": CHAT}, "action": "respond", "status": 500},
    ]})  # fmt: skip
    client = chat_client(emulator)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model=MODEL, messages=OK_PROMPT)
    assert (
        caught.value.body == wrapped and caught.value.response.headers["x-should-retry"] == "false"
    )
    with pytest.raises(openai.InternalServerError) as raw:
        client.chat.completions.create(model=MODEL, messages=OK_PROMPT)
    assert raw.value.response.text == "upstream broke"
    with pytest.raises(openai.InternalServerError) as empty:
        client.chat.completions.create(model=MODEL, messages=OK_PROMPT)
    assert empty.value.response.content == b""
    assert consumed(emulator) == [0, 0, 0]


def test_delay_after_times_always_and_body_contains(gapic: Make, emulator: Emulator) -> None:
    emulator.add_faults({"rules": [
        {"match": {"path": "billingInfo", "body_contains": "0FEDCB"}, "action": "respond", "status": 400,
         "body": {"error": {"code": 400, "message": "no closed", "status": "FAILED_PRECONDITION"}}, "times": -1},
        {"match": {"path": "billingInfo"}, "after": 1, "action": "delay", "delay_ms": 300},
    ]})  # fmt: skip
    client = gapic(billing_v1.CloudBillingClient)
    for _ in range(2):
        with pytest.raises(exceptions.BadRequest):
            client.update_project_billing_info(
                name="projects/demo-no-billing",
                project_billing_info=billing_v1.ProjectBillingInfo(
                    billing_account_name="billingAccounts/0FEDCB-A98765-432101"
                ),
            )
    started = time.perf_counter()
    client.get_project_billing_info(name="projects/demo-ready")  # matched #1: skipped by `after`
    fast = time.perf_counter() - started
    started = time.perf_counter()
    client.get_project_billing_info(name="projects/demo-ready")
    assert time.perf_counter() - started > 0.3 > fast
    rules = emulator.faults()["rules"]
    assert rules[0]["remaining"] == -1 and rules[0]["fired"] == 2 and rules[1]["remaining"] == 0


def test_phase_after_applies_change_and_loses_answer(gapic: Make, emulator: Emulator) -> None:
    emulator.add_faults(
        {
            "rules": [
                {
                    "match": {"method": "PUT", "path": "billingInfo"},
                    "phase": "after",
                    "action": "respond",
                    "status": 500,
                    "body": {"error": {"code": 500, "message": "lost", "status": "INTERNAL"}},
                }
            ]
        }
    )
    client = gapic(billing_v1.CloudBillingClient)
    with pytest.raises(exceptions.InternalServerError):
        client.update_project_billing_info(
            name="projects/demo-no-billing",
            project_billing_info=billing_v1.ProjectBillingInfo(
                billing_account_name="billingAccounts/012345-6789AB-CDEF01"
            ),
        )
    project = next(
        p for p in emulator.get_world()["projects"] if p["project_id"] == "demo-no-billing"
    )
    assert project["billing_account"] == "012345-6789AB-CDEF01"
    assert emulator.journal()[-1]["mutating"] and emulator.journal()[-1]["status"] == 500
    assert consumed(emulator) == [0]


def test_reset_reaches_gapic_and_openai_as_connection_errors(
    gapic: Make, emulator: Emulator
) -> None:
    emulator.add_faults({"rules": [
        {"match": {"path": "/v3/projects/"}, "action": "reset"},
        {"match": {"path": CHAT}, "action": "reset"},
    ]})  # fmt: skip
    with pytest.raises(requests.exceptions.ConnectionError):
        gapic(resourcemanager_v3.ProjectsClient).get_project(name="projects/demo-ready", retry=None)
    with pytest.raises(openai.APIConnectionError):
        chat_client(emulator).chat.completions.create(model=MODEL, messages=OK_PROMPT)
    assert consumed(emulator) == [0, 0]
    assert emulator.journal()[0]["status"] == 0


def test_stall_times_out_clients(gapic: Make, emulator: Emulator) -> None:
    emulator.add_faults({"rules": [
        {"match": {"path": CHAT}, "action": "stall"},
        {"match": {"path": "/v3/projects/"}, "action": "stall", "delay_ms": 3000},
    ]})  # fmt: skip
    with pytest.raises(openai.APITimeoutError):
        chat_client(emulator, timeout=0.5).chat.completions.create(model=MODEL, messages=OK_PROMPT)
    with pytest.raises(requests.exceptions.ReadTimeout):
        gapic(resourcemanager_v3.ProjectsClient).get_project(
            name="projects/demo-ready", timeout=0.5, retry=None
        )
    assert consumed(emulator) == [0, 0]


def test_sse_break_after(emulator: Emulator) -> None:
    emulator.add_faults(
        {"rules": [{"match": {"path": CHAT}, "action": "sse_break_after", "events": 3}]}
    )
    stream = chat_client(emulator).chat.completions.create(
        model=MODEL, messages=OK_PROMPT, stream=True
    )
    received = []
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, openai.APIConnectionError)):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 3 and consumed(emulator) == [0]


def test_sse_error_after(emulator: Emulator) -> None:
    error = {
        "error": {
            "code": 429,
            "message": "Resource exhausted, please try again later.",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    emulator.add_faults(
        {
            "rules": [
                {"match": {"path": CHAT}, "action": "sse_error_after", "events": 2, "body": error}
            ]
        }
    )
    stream = chat_client(emulator).chat.completions.create(
        model=MODEL, messages=OK_PROMPT, stream=True
    )
    received = []
    with pytest.raises(openai.APIError, match="Resource exhausted"):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2 and consumed(emulator) == [0]


def test_sse_no_done(emulator: Emulator) -> None:
    emulator.add_faults(
        {"rules": [{"match": {"path": CHAT}, "action": "sse_no_done", "events": 4}]}
    )
    response = httpx.post(
        f"{emulator.base_url}/v1/projects/demo-ready/locations/global/endpoints/openapi/chat/completions",
        json={"model": MODEL, "messages": OK_PROMPT, "stream": True},
        headers={"Authorization": "Bearer emulator-owner"},
    )
    events = [line for line in response.text.splitlines() if line.startswith("data:")]
    assert len(events) == 4 and "[DONE]" not in response.text
    emulator.add_faults(
        {"rules": [{"match": {"path": CHAT}, "action": "sse_no_done", "events": 1000}]}
    )
    stream = chat_client(emulator).chat.completions.create(
        model=MODEL, messages=OK_PROMPT, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ok"
    assert consumed(emulator) == [0, 0]


def test_probability_is_seeded(emulator: Emulator) -> None:
    emulator.add_faults(
        {
            "rules": [
                {
                    "match": {"path": "/v3/projects/"},
                    "action": "respond",
                    "status": 404,
                    "times": -1,
                    "probability": 0.5,
                }
            ]
        }
    )
    headers = {"Authorization": "Bearer emulator-owner"}
    codes = [
        requests.get(
            f"{emulator.base_url}/v3/projects/demo-ready", headers=headers, timeout=5
        ).status_code
        for _ in range(40)
    ]
    assert 5 < codes.count(404) < 35
    rule = emulator.faults()["rules"][0]
    assert rule["matched"] == 40 and rule["fired"] == codes.count(404)


def test_stop_is_prompt_with_stalled_stream() -> None:
    with Emulator(faults={"rules": [{"match": {"path": CHAT}, "action": "stall"}]}) as emulator:

        def call() -> None:
            with contextlib.suppress(openai.APIError):
                chat_client(emulator, timeout=30).chat.completions.create(
                    model=MODEL, messages=OK_PROMPT
                )

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        time.sleep(0.3)
        started = time.perf_counter()
    assert time.perf_counter() - started < 3

"""The whole path with official clients on a fresh project of the default world:
link billing -> enable the APIs (LRO) -> enable the model -> stream a chat completion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from google.cloud import billing_v1, service_usage_v1
from openai.types.chat import ChatCompletionMessageParam

from bootstrap.emulator.inprocess import Emulator


def test_link_enable_enable_model_stream(
    gapic: Callable[..., Any], session: Any, emulator: Emulator
) -> None:
    billing = gapic(billing_v1.CloudBillingClient)
    billing.update_project_billing_info(
        name="projects/demo-no-billing",
        project_billing_info=billing_v1.ProjectBillingInfo(
            billing_account_name="billingAccounts/012345-6789AB-CDEF01"
        ),
    )
    usage = gapic(service_usage_v1.ServiceUsageClient)
    operation = usage.batch_enable_services(
        request={
            "parent": "projects/demo-no-billing",
            "service_ids": [
                "aiplatform.googleapis.com",
                "cloudcommerceconsumerprocurement.googleapis.com",
            ],
        }
    )
    assert len(operation.result(timeout=30).services) == 2
    url = f"{emulator.base_url}/v1beta1/projects/demo-no-billing/publishers/openai/models/gpt-oss-120b-maas:enableModel"
    assert session.post(url, json={}).json()["enablementState"] == "ENABLEMENT_STATE_SUCCEEDED"
    client = openai.OpenAI(
        base_url=f"{emulator.base_url}/v1/projects/demo-no-billing/locations/global/endpoints/openapi",
        api_key="emulator-owner",
        max_retries=0,
    )
    model = "openai/gpt-oss-120b-maas"
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Reply with the single word: ok"}
    ]
    try:
        client.chat.completions.create(model=model, messages=messages)
        raise AssertionError("the aiplatform propagation lag should still be running")
    except openai.PermissionDeniedError as exc:
        assert "SERVICE_DISABLED" in exc.response.text
    emulator.advance(2.5)
    stream = client.chat.completions.create(
        model=model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ok"
    mutating = [e["path"] for e in emulator.journal() if e["mutating"]]
    assert mutating == [
        "/v1/projects/demo-no-billing/billingInfo",
        "/v1/projects/demo-no-billing/services:batchEnable",
        "/v1beta1/projects/demo-no-billing/publishers/openai/models/gpt-oss-120b-maas:enableModel",
    ]

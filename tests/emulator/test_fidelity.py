"""Evidence rows (shared/reference/fidelity-evidence.md) through two independent real clients
each: google-api-python-client built from the discovery documents in shared/reference/discovery,
and the GAPIC REST client or the openai SDK. Each test names its row."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from google.api_core import exceptions
from google.cloud import service_usage_v1
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from bootstrap.emulator.inprocess import Emulator

DISCOVERY = Path("/work/shared/reference/discovery")
MODEL = "openai/gpt-oss-120b-maas"
OK: Any = [{"role": "user", "content": "Reply with the single word ok."}]
Make = Callable[..., Any]

pytestmark = pytest.mark.skipif(not DISCOVERY.is_dir(), reason="no discovery documents")


def built(emulator: Emulator, name: str) -> Any:
    """A discovery-built client whose rootUrl is the emulator."""
    doc = json.loads((DISCOVERY / f"{name}.json").read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    return discovery.build_from_document(doc, credentials=Credentials(token="emulator-owner"))


def chat(emulator: Emulator, project: str, location: str) -> openai.OpenAI:
    base = f"{emulator.base_url}/v1/projects/{project}/locations/{location}/endpoints/openapi"
    return openai.OpenAI(base_url=base, api_key="emulator-owner", max_retries=0)


def _error(caught: HttpError) -> dict[str, Any]:
    body = json.loads(caught.content)
    return dict(body[0]["error"] if isinstance(body, list) else body["error"])


def test_row1_disable_disabled_is_noop(gapic: Make, emulator: Emulator) -> None:
    name = "projects/demo-api-disabled/services/compute.googleapis.com"
    op = built(emulator, "serviceusage.v1").services().disable(name=name, body={}).execute()
    assert op["name"] == "operations/noop.DONE_OPERATION" and op["done"]
    again = gapic(service_usage_v1.ServiceUsageClient).disable_service(request={"name": name})
    assert again.operation.name == "operations/noop.DONE_OPERATION"
    with pytest.raises(HttpError) as caught:  # reported: the noop operation cannot be read
        built(emulator, "serviceusage.v1").operations().get(name=op["name"]).execute()
    assert caught.value.resp.status == 404


def test_row2_crm_missing_project_metadata_has_no_prefix(emulator: Emulator) -> None:
    with pytest.raises(HttpError) as caught:
        built(emulator, "cloudresourcemanager.v3").projects().get(name="projects/nope").execute()
    error = _error(caught.value)
    assert "'//cloudresourcemanager.googleapis.com/projects/nope'" in error["message"]
    assert error["details"][0]["metadata"]["resource"] == "projects/nope"
    with pytest.raises(HttpError) as v1:
        built(emulator, "cloudresourcemanager.v1").projects().get(projectId="nope").execute()
    assert _error(v1.value) == {
        "code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"
    }  # fmt: skip


def test_row5_billing_subject_repeats_services(gapic: Make, emulator: Emulator) -> None:
    ids = ["aiplatform.googleapis.com", "compute.googleapis.com"]
    with pytest.raises(HttpError) as caught:
        built(emulator, "serviceusage.v1").services().batchEnable(
            parent="projects/demo-no-billing", body={"serviceIds": ids}
        ).execute()
    subject = _error(caught.value)["details"][0]["violations"][0]["subject"]
    assert subject == (
        "?error_code=390001&project=100000000002"
        "&services=aiplatform.googleapis.com&services=compute.googleapis.com"
    )
    with pytest.raises(exceptions.BadRequest) as gap:
        gapic(service_usage_v1.ServiceUsageClient).batch_enable_services(
            request={"parent": "projects/demo-no-billing", "service_ids": ids}
        )
    assert gap.value.reason == "UREQ_PROJECT_BILLING_NOT_FOUND"


def test_row10_batch_enable_metadata_and_done_response(emulator: Emulator) -> None:
    su = built(emulator, "serviceusage.v1")
    ids = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]
    op = su.services().batchEnable(parent="projects/demo-api-disabled", body={"serviceIds": ids})
    first = op.execute()
    assert first["metadata"] == {
        "@type": "type.googleapis.com/google.api.serviceusage.v1.OperationMetadata"
    }
    done = su.operations().get(name=first["name"]).execute()
    assert done["done"] and all(set(s) == {"name", "parent", "state"}
                                for s in done["response"]["services"])  # fmt: skip


def test_row12_and_13_chat_errors_through_two_clients(emulator: Emulator) -> None:
    with pytest.raises(openai.BadRequestError) as off:
        chat(emulator, "demo-model-off", "global").chat.completions.create(model=MODEL, messages=OK)
    assert "Project `100000000004` is not allowed to use" in off.value.response.text
    with pytest.raises(openai.BadRequestError) as region:
        chat(emulator, "demo-ready", "us-central1").chat.completions.create(
            model=MODEL, messages=OK
        )
    assert "is not servable in region us-central1." in region.value.response.text
    assert "FAILED_PRECONDITION" in region.value.response.text
    with pytest.raises(HttpError) as raw:
        built(emulator, "aiplatform.v1beta1").projects().locations().endpoints().chat().completions(
            endpoint="projects/demo-ready/locations/us-central1/endpoints/openapi",
            body={"model": MODEL, "messages": OK},
        ).execute()
    assert raw.value.resp.status == 400 and "not servable" in _error(raw.value)["message"]


def test_row16_array_wrapped_chat_errors(emulator: Emulator) -> None:
    world = emulator.get_world()
    world["chat"]["array_errors"] = True
    emulator.put_world(world)
    with pytest.raises(openai.BadRequestError) as caught:
        chat(emulator, "demo-model-off", "global").chat.completions.create(model=MODEL, messages=OK)
    assert isinstance(json.loads(caught.value.response.text), list)


def test_row18_enable_model_failed_and_permission_knob(emulator: Emulator) -> None:
    world = emulator.get_world()
    world["behaviour"]["enable_model_fails"] = ["demo-model-off"]
    emulator.put_world(world)
    import requests

    url = f"{emulator.base_url}/v1beta1/projects/demo-model-off/publishers/openai/models/gpt-oss-120b-maas:enableModel"
    answer = requests.post(
        url, json={}, headers={"Authorization": "Bearer emulator-owner"}, timeout=10
    )
    assert (
        answer.status_code == 200 and answer.json()["enablementState"] == "ENABLEMENT_STATE_FAILED"
    )
    models = {p["project_id"]: p["models"] for p in emulator.get_world()["projects"]}
    assert models["demo-model-off"] == []  # a failed enablement enables nothing
    world["behaviour"].update(
        {"enable_model_fails": [], "enable_model_permission": "aiplatform.endpoints.predict"}
    )
    emulator.put_world(world)
    viewer = requests.post(
        url, json={}, headers={"Authorization": "Bearer emulator-viewer"}, timeout=10
    )
    assert viewer.status_code == 200  # the viewer holds predict, the permission the world names


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content", "both"])
def test_row19_reasoning_field_knob(emulator: Emulator, field: str) -> None:
    world = emulator.get_world()
    world["chat"]["reasoning_field"] = field
    emulator.put_world(world)
    stream: Any = chat(emulator, "demo-ready", "global").chat.completions.create(
        model=MODEL, messages=OK, stream=True
    )
    seen: set[str] = set()
    for chunk in stream:
        for choice in chunk.choices:
            seen |= {
                k for k in ("reasoning", "reasoning_content") if getattr(choice.delta, k, None)
            }
    assert seen == ({"reasoning", "reasoning_content"} if field == "both" else {field})


def test_row20_world_may_add_us_central1(emulator: Emulator) -> None:
    world = emulator.get_world()
    world["models"][0]["locations"] = ["global", "us-central1"]
    emulator.put_world(world)
    done = chat(emulator, "demo-ready", "us-central1").chat.completions.create(
        model=MODEL, messages=OK, max_tokens=512
    )
    assert done.choices[0].message.content and done.choices[0].finish_reason == "stop"


def test_row25_billing_accounts_list_has_empty_token(emulator: Emulator) -> None:
    answer = built(emulator, "cloudbilling.v1").billingAccounts().list().execute()
    assert answer["nextPageToken"] == "" and answer["billingAccounts"]

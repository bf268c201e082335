"""Cloud Quotas v1 `quotaInfos` list and get against the emulator, through the official GAPIC
REST client (google-cloud-quotas) and, for the raw JSON, the same client's REST types: there is no
Cloud Quotas discovery document in shared/reference/discovery, so google-api-python-client is not
used. Also the per-base-model limits the chat route enforces (world `model_quotas`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from google.api_core import exceptions
from google.cloud import cloudquotas_v1
from google.protobuf import json_format

from bootstrap.cloud.quota import ObservedQuotas, QuotaRow, model_quotas
from bootstrap.emulator.inprocess import Emulator
from bootstrap.gcp.quotas import quota_row

Make = Callable[..., Any]
SERVICE = "aiplatform.googleapis.com"
PARENT = f"projects/demo-ready/locations/global/services/{SERVICE}"
GPT = "publishers/openai/models/gpt-oss-120b-maas"
GLOBAL_REQUESTS = "GlobalOnlinePredictionRequestsPerMinutePerProjectPerBaseModel"


def with_quotas(emulator: Emulator, *entries: dict[str, Any]) -> None:
    world = emulator.get_world()
    world["model_quotas"] = [
        {"project": "demo-ready", "model": "gpt-oss-120b-maas", **e} for e in entries
    ]
    emulator.put_world(world)


def listed(gapic: Make, parent: str = PARENT, **request: Any) -> list[Any]:
    client = gapic(cloudquotas_v1.CloudQuotasClient)
    return list(client.list_quota_infos(request={"parent": parent, **request}))


def observed(infos: list[Any], *wanted: tuple[str, str]) -> ObservedQuotas:
    rows: list[QuotaRow] = [quota_row(info) for info in infos]
    return model_quotas(rows, wanted)


def test_list_pages_through_every_quota_info(gapic: Make) -> None:
    whole = listed(gapic)
    paged = listed(gapic, page_size=2)  # the pager follows nextPageToken
    assert [i.quota_id for i in paged] == [i.quota_id for i in whole]
    assert len(whole) >= 5
    by_id = {info.quota_id: info for info in whole}
    info = by_id[GLOBAL_REQUESTS]
    assert info.name == f"{PARENT}/quotaInfos/{GLOBAL_REQUESTS}"
    assert info.service == SERVICE
    assert info.metric == f"{SERVICE}/global_online_prediction_requests_per_base_model"
    assert list(info.dimensions) == ["base_model"]
    assert info.container_type == cloudquotas_v1.QuotaInfo.ContainerType.PROJECT
    assert info.refresh_interval == "minute"
    (default,) = info.dimensions_infos  # no model_quotas entry: only the default
    assert dict(default.dimensions) == {} and default.details.value == 650
    assert list(default.applicable_locations) == ["global"]


def test_a_world_quota_is_listed_under_its_base_model_and_region(
    gapic: Make, emulator: Emulator
) -> None:
    with_quotas(
        emulator,
        {"location": "global", "requests_per_minute": 0},
        {"location": "us-central1", "tokens_per_minute": 1000},
    )
    infos = listed(gapic)
    found = observed(infos, (GPT, "global"), (GPT, "us-central1"), (GPT, "europe-west4"))
    at_global = found.find(GPT, "global")
    assert at_global is not None and at_global.requests_per_minute == 0
    assert at_global.tokens_per_minute == 790_000  # left out: the default
    assert [z.quota_id for z in at_global.zero] == [GLOBAL_REQUESTS]
    assert at_global.zero[0].base_model == "gpt-oss-120b-maas"
    regional = found.find(GPT, "us-central1")
    assert regional is not None and regional.tokens_per_minute == 1000
    assert regional.requests_per_minute == 650 and not regional.zero
    # A region nothing is offered in has no per-base-model limit listed at all.
    elsewhere = found.find(GPT, "europe-west4")
    assert elsewhere is not None and elsewhere.limits == ()


def test_get_by_id_and_unknown_id(gapic: Make) -> None:
    client = gapic(cloudquotas_v1.CloudQuotasClient)
    info = client.get_quota_info(name=f"{PARENT}/quotaInfos/{GLOBAL_REQUESTS}")
    assert info.quota_id == GLOBAL_REQUESTS
    with pytest.raises(exceptions.NotFound):
        client.get_quota_info(name=f"{PARENT}/quotaInfos/NoSuchQuota")


def test_other_services_list_nothing_and_project_number_works(gapic: Make) -> None:
    assert (
        listed(gapic, "projects/demo-ready/locations/global/services/compute.googleapis.com") == []
    )
    by_number = listed(gapic, f"projects/100000000001/locations/global/services/{SERVICE}")
    assert {i.quota_id for i in by_number} == {i.quota_id for i in listed(gapic)}


def test_permission_is_cloudquotas_quotas_get(gapic: Make, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["principals"][1]["grants"] = {"*": ["resourcemanager.projects.get"]}
    emulator.put_world(world)
    client = gapic(cloudquotas_v1.CloudQuotasClient, token="emulator-viewer")
    with pytest.raises(exceptions.Forbidden) as caught:
        list(client.list_quota_infos(parent=PARENT))
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == "cloudquotas.quotas.get"


def test_raw_json_parses_strictly_into_the_rest_types(session: Any, emulator: Emulator) -> None:
    """Every field the emulator sends is a field of ListQuotaInfosResponse (int64 as strings)."""
    answer = session.get(f"{emulator.base_url}/v1/{PARENT}/quotaInfos", params={"pageSize": 3})
    assert answer.status_code == 200
    body = answer.json()
    assert body["nextPageToken"]
    assert isinstance(body["quotaInfos"][0]["dimensionsInfos"][0]["details"]["value"], str)
    message = cloudquotas_v1.ListQuotaInfosResponse.pb()()
    json_format.ParseDict(body, message, ignore_unknown_fields=False)
    assert len(message.quota_infos) == 3


def _chat(emulator: Emulator, prompt: str = "Reply with the single word: ok") -> Any:
    base = f"{emulator.base_url}/v1/projects/demo-ready/locations/global/endpoints/openapi"
    client = openai.OpenAI(base_url=base, api_key="emulator-owner", max_retries=0)
    return client.chat.completions.create(
        model="openai/gpt-oss-120b-maas", messages=[{"role": "user", "content": prompt}]
    )


def test_chat_route_enforces_requests_per_minute(emulator: Emulator) -> None:
    with_quotas(emulator, {"location": "global", "requests_per_minute": 2})
    _chat(emulator)
    _chat(emulator)
    with pytest.raises(openai.RateLimitError) as caught:
        _chat(emulator)
    text = caught.value.response.text
    assert "Quota exceeded for aiplatform.googleapis.com/global_online_prediction_requests" in text
    assert "with base model: gpt-oss-120b-maas" in text
    assert "limit: 2" in text and "ErrorInfo" not in text  # row 22: no ErrorInfo
    emulator.advance(60)  # the next minute serves again
    assert _chat(emulator).choices[0].message.content == "ok"


def test_chat_route_enforces_input_tokens_per_minute(emulator: Emulator) -> None:
    with_quotas(emulator, {"location": "global", "tokens_per_minute": 40})
    _chat(emulator)  # a short prompt fits
    with pytest.raises(openai.RateLimitError) as caught:
        _chat(emulator, "word " * 60)
    assert "global_online_prediction_input_tokens_per_minute_per_base_model" in (
        caught.value.response.text
    )


def test_a_zero_limit_refuses_every_call(emulator: Emulator) -> None:
    with_quotas(emulator, {"location": "global", "requests_per_minute": 0})
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            _chat(emulator)
        assert "limit: 0" in caught.value.response.text
        emulator.advance(60)


def test_the_old_per_principal_knob_no_longer_limits_chat(emulator: Emulator) -> None:
    world = emulator.get_world()
    world["quotas"] = {"enabled": True, "aiplatform_per_min": 1}
    emulator.put_world(world)
    for _ in range(3):
        assert _chat(emulator).choices

"""GcpCloud.get_model_quotas against the emulator: one Cloud Quotas list per project answers every
wanted model and location (paged: one request per page), the limits read as values, and a
missing permission classified without retries. Also the pure matching rules of
`bootstrap.cloud.quota` on QuotaInfos shaped as public reads of aiplatform show them."""

from __future__ import annotations

import pytest

from bootstrap.cloud.quota import (
    INPUT_TOKENS,
    REQUESTS,
    UNLIMITED,
    DimensionValue,
    QuotaRow,
    base_model_names,
    metric_kind,
    model_quotas,
)
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp import quotas as gcp_quotas
from bootstrap.gcp.client import GcpCloud

GPT = "publishers/openai/models/gpt-oss-120b-maas"
GPT_20B = "publishers/openai/models/gpt-oss-20b-maas"
AIP = "aiplatform.googleapis.com"


def test_one_list_answers_every_model_and_location(cloud: GcpCloud, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["model_quotas"] = [
        {"project": "demo-ready", "location": "global", "model": "gpt-oss-120b-maas",
         "requests_per_minute": 0},
        {"project": "demo-ready", "location": "us-central1", "model": "gpt-oss-20b-maas",
         "requests_per_minute": 12, "tokens_per_minute": 3456},
    ]  # fmt: skip
    emulator.put_world(world)
    found = cloud.get_model_quotas(
        "demo-ready", [(GPT, "global"), (GPT_20B, "us-central1"), (GPT, "us-central1")]
    )
    assert cloud.stats.requests == {"cloudquotas.quotaInfos.list": 1}
    zero = found.find(GPT, "global")
    assert zero is not None and zero.requests_per_minute == 0 and zero.zero
    small = found.find(GPT_20B, "us-central1")
    assert small is not None
    assert (small.requests_per_minute, small.tokens_per_minute) == (12, 3456)
    default = found.find(GPT, "us-central1")  # the region's default for every other model
    assert default is not None and default.requests_per_minute == 650


def test_pages_are_followed(
    cloud: GcpCloud, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcp_quotas, "PAGE_SIZE", 2)
    found = cloud.get_model_quotas("demo-ready", [(GPT, "global")])
    assert found.pages == 3  # 5 QuotaInfos, 2 per page
    assert cloud.stats.requests == {"cloudquotas.quotaInfos.list": 3}
    quota = found.find(GPT, "global")
    assert quota is not None and quota.requests_per_minute == 650


def test_missing_permission_is_classified_not_retried(cloud: GcpCloud, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["principals"][0]["grants"] = {"*": ["resourcemanager.projects.get"]}
    emulator.put_world(world)
    with pytest.raises(BootstrapError) as caught:
        cloud.get_model_quotas("demo-ready", [(GPT, "global")])
    assert caught.value.failure.cause is Cause.PERMISSION_DENIED
    assert "cloudquotas.quotas.get" in caught.value.failure.message
    assert cloud.stats.retries == 0


def _row(metric: str, *values: DimensionValue, dims: tuple[str, ...] = ("base_model",)) -> QuotaRow:
    return QuotaRow(
        quota_id=metric.title(), metric=f"{AIP}/{metric}", dimensions=dims, values=values
    )


def test_matching_rules() -> None:
    assert metric_kind(f"{AIP}/global_online_prediction_requests_per_base_model") == (
        REQUESTS,
        "global",
    )
    assert metric_kind(
        f"{AIP}/us_multi_region_online_prediction_input_tokens_per_minute_per_base_model"
    ) == (INPUT_TOKENS, "us")
    assert metric_kind(f"{AIP}/online_prediction_requests_per_base_model") == (REQUESTS, "")
    assert metric_kind(f"{AIP}/resource_management_requests") is None
    assert base_model_names(GPT) == (
        "gpt-oss-120b-maas",
        "gpt-oss-120b",
        "openai-gpt-oss-120b-maas",
        "openai-gpt-oss-120b",
    )
    rows = [
        _row(
            "global_online_prediction_requests_per_base_model",
            DimensionValue(dimensions={"base_model": "openai-gpt-oss-120b"}, value=0),
            DimensionValue(dimensions={}, value=100, applicable_locations=("global",)),
        ),
        _row(
            "online_prediction_input_tokens_per_minute_per_base_model",
            DimensionValue(dimensions={"region": "us-central1"}, value=UNLIMITED),
            dims=("region", "base_model"),
        ),
        # Not per base model: ignored even though its metric would match.
        _row(
            "online_prediction_requests_per_base_model",
            DimensionValue(dimensions={}, value=0),
            dims=(),
        ),
    ]
    found = model_quotas(rows, [(GPT, "global"), (GPT, "us-central1"), (GPT_20B, "global")])
    at_global = found.find(GPT, "global")
    assert at_global is not None and at_global.requests_per_minute == 0
    assert at_global.zero[0].base_model == "openai-gpt-oss-120b"
    regional = found.find(GPT, "us-central1")
    assert regional is not None
    assert regional.tokens_per_minute == UNLIMITED and regional.requests_per_minute is None
    other = found.find(GPT_20B, "global")  # another model gets the default, not the 0
    assert other is not None and other.requests_per_minute == 100 and not other.zero

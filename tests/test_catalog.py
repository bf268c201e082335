"""The model catalog: lifecycle around the deprecation and retirement days, hosts and URLs."""

from __future__ import annotations

from datetime import date

import pytest

from bootstrap import catalog
from bootstrap.catalog import Lifecycle, lookup


def test_lookup_by_every_name() -> None:
    for ref in (
        "gpt-oss-120b",
        "gpt-oss-120b-maas",
        "openai/gpt-oss-120b-maas",
        "publishers/openai/models/gpt-oss-120b-maas",
    ):
        entry = lookup(ref)
        assert entry is not None and entry.alias == "gpt-oss-120b"
    assert lookup("gpt-oss-12b") is None


def test_catalog_facts() -> None:
    big, small = lookup("gpt-oss-120b"), lookup("gpt-oss-20b")
    assert big is not None and small is not None
    assert big.locations == ("global", "us-central1") and small.locations == ("us-central1",)
    assert big.context_tokens == big.max_output_tokens == 131_072
    assert big.request_model == "openai/gpt-oss-120b-maas"
    assert small.publisher_model == "publishers/openai/models/gpt-oss-20b-maas"
    assert big.required_services == catalog.MAAS_REQUIRED_SERVICES


@pytest.mark.parametrize(
    ("as_of", "state"),
    [
        (date(2026, 7, 20), Lifecycle.GA),
        (date(2026, 7, 21), Lifecycle.DEPRECATED),
        (date(2026, 10, 20), Lifecycle.DEPRECATED),
        (date(2026, 10, 21), Lifecycle.RETIRED),
        (date(2027, 1, 1), Lifecycle.RETIRED),
    ],
)
def test_gpt_oss_20b_lifecycle(as_of: date, state: Lifecycle) -> None:
    entry = lookup("gpt-oss-20b")
    assert entry is not None and entry.lifecycle(as_of) is state


def test_gpt_oss_120b_stays_ga() -> None:
    entry = lookup("gpt-oss-120b")
    assert entry is not None and entry.lifecycle(date(2026, 11, 25)) is Lifecycle.GA
    assert entry.lifecycle_note(date(2026, 11, 25)) == "gpt-oss-120b is GA"


def test_lifecycle_notes_name_dates_and_replacement() -> None:
    entry = lookup("gpt-oss-20b")
    assert entry is not None
    deprecated = entry.lifecycle_note(date(2026, 8, 1))
    assert "deprecated since 2026-07-21" in deprecated and "retired on 2026-10-21" in deprecated
    retired = entry.lifecycle_note(date(2026, 10, 21))
    assert "was retired on 2026-10-21" in retired and "gpt-oss-120b" in retired


def test_endpoint_host_rule() -> None:
    assert catalog.endpoint_host("global") == "aiplatform.googleapis.com"
    assert catalog.endpoint_host("us-central1") == "us-central1-aiplatform.googleapis.com"


def test_openai_base_url() -> None:
    assert catalog.openai_base_url("p", "global") == (
        "https://aiplatform.googleapis.com/v1/projects/p/locations/global/endpoints/openapi"
    )
    assert catalog.openai_base_url("p", "us-central1").startswith(
        "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/"
    )
    assert catalog.openai_base_url("p", "global", api_root="http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/v1/projects/p/locations/global/endpoints/openapi"
    )


def test_model_garden_link() -> None:
    url = catalog.model_garden_console_url("openai", "gpt-oss-120b-maas", "acme")
    assert url.endswith("/publishers/openai/model-garden/gpt-oss-120b-maas?project=acme")


def test_today_is_a_utc_date() -> None:
    assert isinstance(catalog.today_utc(), date)

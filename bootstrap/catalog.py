"""The model catalog: which gpt-oss models Vertex AI serves as managed APIs, where, and until when.

Facts and their sources (see `shared/reference/vertex-openai-models.md` §1 and §3):

- Model ids, request ids (`openai/<id>`) and publisher resource names: Google's "OpenAI models"
  MaaS page (docs.cloud.google.com/vertex-ai/generative-ai/docs/maas/openai) and Google's gpt-oss
  notebook (GoogleCloudPlatform/generative-ai, open-models/get_started_with_oss_maas_reasoning_open_ai_sdk).
- Locations: the region table on the same page (120B: `global`; 20B: `us-central1`); 120B in
  `us-central1` per the GA announcement on discuss.google.dev (secondary source, Aug 2025): that
  location is listed as unverified (`unverified_locations`), so plan and audit say so and the
  probe's answer decides.
- Lifecycle: the open-model deprecations table
  (docs.cloud.google.com/gemini-enterprise-agent-platform/models/deprecations/open-models):
  gpt-oss-20b-maas deprecated 2026-07-21, retired 2026-10-21, replaced by self-deployed GPT OSS.
- Required services: "The Agent Platform API (aiplatform.googleapis.com) and the Cloud Commerce
  Consumer Procurement API (cloudcommerceconsumerprocurement.googleapis.com) must be enabled to use
  open models" (.../models/maas/call-open-model-apis).
- Host rule: the global host `aiplatform.googleapis.com` only for location `global`, otherwise
  `{location}-aiplatform.googleapis.com` (Vertex locations doc; vercel/ai#15684 shows the failure
  mode of mixing them).

Dates are compared in UTC and the date is always passed in (`as_of`), so tests and `--as-of`
can ask what the catalog says on any day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

AIPLATFORM = "aiplatform.googleapis.com"
CONSUMER_PROCUREMENT = "cloudcommerceconsumerprocurement.googleapis.com"
MAAS_REQUIRED_SERVICES: tuple[str, ...] = (AIPLATFORM, CONSUMER_PROCUREMENT)


class Lifecycle(StrEnum):
    """Where a model is in its life on a given day."""

    GA = "GA"
    PREVIEW = "PREVIEW"
    DEPRECATED = "DEPRECATED"
    RETIRED = "RETIRED"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogModel:
    """One managed (MaaS) model as Vertex AI offers it."""

    alias: str
    publisher: str
    model_id: str
    locations: tuple[str, ...]
    context_tokens: int
    max_output_tokens: int
    launch_stage: Lifecycle = Lifecycle.GA
    released_on: dt.date | None = None
    deprecated_on: dt.date | None = None
    retired_on: dt.date | None = None
    replacement: str | None = None
    required_services: tuple[str, ...] = MAAS_REQUIRED_SERVICES
    # Locations only a secondary source lists (evidence row 20); the rest are verified.
    unverified_locations: tuple[str, ...] = ()

    def location_verified(self, location: str) -> bool:
        """True when a first-party page lists the location; False for unverified or unlisted."""
        return location in self.locations and location not in self.unverified_locations

    @property
    def publisher_model(self) -> str:
        """The Model Garden resource name, e.g. `publishers/openai/models/gpt-oss-120b-maas`."""
        return f"publishers/{self.publisher}/models/{self.model_id}"

    @property
    def request_model(self) -> str:
        """The `model` value of a chat completion request, e.g. `openai/gpt-oss-120b-maas`."""
        return f"{self.publisher}/{self.model_id}"

    def lifecycle(self, as_of: dt.date) -> Lifecycle:
        """The model's state on `as_of` (UTC): retired from the retirement date on."""
        if self.retired_on is not None and as_of >= self.retired_on:
            return Lifecycle.RETIRED
        if self.deprecated_on is not None and as_of >= self.deprecated_on:
            return Lifecycle.DEPRECATED
        return self.launch_stage

    def lifecycle_note(self, as_of: dt.date) -> str:
        """A sentence with the dates and the replacement, for warnings and errors."""
        state = self.lifecycle(as_of)
        if state is Lifecycle.RETIRED:
            note = f"{self.alias} was retired on {self.retired_on}"
        elif state is Lifecycle.DEPRECATED:
            note = f"{self.alias} is deprecated since {self.deprecated_on}"
            if self.retired_on is not None:
                note += f" and will be retired on {self.retired_on}"
        else:
            return f"{self.alias} is {state.value}"
        if self.replacement:
            note += f"; {self.replacement}"
        return note


CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(
        alias="gpt-oss-120b",
        publisher="openai",
        model_id="gpt-oss-120b-maas",
        locations=("global", "us-central1"),
        context_tokens=131_072,
        max_output_tokens=131_072,
        released_on=dt.date(2025, 8, 13),
        unverified_locations=("us-central1",),
    ),
    CatalogModel(
        alias="gpt-oss-20b",
        publisher="openai",
        model_id="gpt-oss-20b-maas",
        locations=("us-central1",),
        context_tokens=131_072,
        max_output_tokens=32_768,
        released_on=dt.date(2025, 8, 13),
        deprecated_on=dt.date(2026, 7, 21),
        retired_on=dt.date(2026, 10, 21),
        replacement=(
            "Google's stated replacement is self-deploying GPT OSS from Model Garden; "
            "the nearest managed model is gpt-oss-120b"
        ),
    ),
)

_BY_KEY: dict[str, CatalogModel] = {}
for _model in CATALOG:
    _BY_KEY[_model.alias] = _model
    _BY_KEY[_model.model_id] = _model
    _BY_KEY[_model.publisher_model] = _model
    _BY_KEY[_model.request_model] = _model


def lookup(ref: str) -> CatalogModel | None:
    """The catalog entry for an alias, model id, request id or publisher model name."""
    return _BY_KEY.get(ref)


def aliases() -> tuple[str, ...]:
    return tuple(model.alias for model in CATALOG)


def today_utc() -> dt.date:
    """Today's date in UTC: the default `as_of` for lifecycle checks."""
    return dt.datetime.now(dt.UTC).date()


def endpoint_host(location: str) -> str:
    """The Vertex AI host for a location: the global host only for `global`."""
    return (
        "aiplatform.googleapis.com"
        if location == "global"
        else f"{location}-aiplatform.googleapis.com"
    )


def openai_base_url(project: str, location: str, *, api_root: str | None = None) -> str:
    """Base URL of the OpenAI-compatible endpoint for the openai SDK.

    `api_root` replaces `https://<host>` (the emulator passes `http://127.0.0.1:PORT`).
    """
    root = api_root.rstrip("/") if api_root else f"https://{endpoint_host(location)}"
    return f"{root}/v1/projects/{project}/locations/{location}/endpoints/openapi"


def model_garden_console_url(publisher: str, model_id: str, project: str | None = None) -> str:
    """The Model Garden card where a person clicks Enable."""
    url = (
        f"https://console.cloud.google.com/vertex-ai/publishers/{publisher}/model-garden/{model_id}"
    )
    return f"{url}?project={project}" if project else url

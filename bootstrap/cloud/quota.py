"""A project's per-base-model Vertex AI quotas, as read from the Cloud Quotas API: frozen values
and the pure rules that pick, for one model in one location, the limits that apply.

Cloud Quotas answers one `QuotaInfo` per quota of a service (here aiplatform.googleapis.com),
each with `dimensionsInfos`: the effective value for a combination of dimensions. The per-base-
model MaaS quotas carry the dimension `base_model` (and `region` for regional ones); an entry
without `base_model` is the value for every base model not listed on its own. The metric names
the location family (shared/reference/vertex-openai-models.md §5, fidelity row 22, and the
metric names seen in public Cloud Quotas reads):

| metric (after `aiplatform.googleapis.com/`)                      | location it limits |
|------------------------------------------------------------------|--------------------|
| `global_online_prediction_{requests,input_tokens,...}_per_base_model`  | `global`       |
| `us_multi_region_...`, `eu_multi_region_...`                     | `us`, `eu`         |
| `online_prediction_..._per_base_model` (no prefix)               | each region (`region` dimension / `applicableLocations`) |

Kinds: `requests` (per minute), `input_tokens` (per minute; a combined `tokens_per_minute` metric
counts too) and `output_tokens`. A value of -1 is unlimited. The base-model string Google uses
for gpt-oss is not public (vertex-openai-models.md §7): a model matches under its model id
(`gpt-oss-120b-maas`), without `-maas`, and either of those prefixed with the publisher
(`openai-gpt-oss-120b`), the pattern partner models follow (`anthropic-claude-...`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

AIPLATFORM_SERVICE = "aiplatform.googleapis.com"
QUOTA_READ = "quota"  # the name a failed read is kept under in `Observed.failures`
UNLIMITED = -1

REQUESTS = "requests"
INPUT_TOKENS = "input_tokens"
OUTPUT_TOKENS = "output_tokens"
# Metric stem -> kind, the stem being the metric without its service and location prefix.
_KINDS = {
    "online_prediction_requests_per_base_model": REQUESTS,
    "online_prediction_input_tokens_per_minute_per_base_model": INPUT_TOKENS,
    "online_prediction_tokens_per_minute_per_base_model": INPUT_TOKENS,
    "online_prediction_output_tokens_per_minute_per_base_model": OUTPUT_TOKENS,
}
_MULTI_REGION = "_multi_region_"


@dataclass(frozen=True, slots=True, kw_only=True)
class DimensionValue:
    """One `dimensionsInfos` entry: the value for a combination of dimensions."""

    dimensions: Mapping[str, str]
    value: int
    applicable_locations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuotaRow:
    """One QuotaInfo, reduced to what the matching reads."""

    quota_id: str
    metric: str
    dimensions: tuple[str, ...] = ()
    values: tuple[DimensionValue, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuotaLimit:
    """One limit that applies to a model in a location."""

    quota_id: str
    metric: str
    kind: str  # requests | input_tokens | output_tokens
    value: int  # per minute; -1 unlimited
    base_model: str  # the base_model it was set for, "" for the default of all others


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelQuota:
    """The per-base-model limits that apply to one model in one location."""

    publisher_model: str
    location: str
    limits: tuple[QuotaLimit, ...] = ()

    def lowest(self, kind: str) -> int | None:
        """The tightest limit of that kind (-1 when all are unlimited), None when none applies."""
        values = [limit.value for limit in self.limits if limit.kind == kind]
        bounded = [v for v in values if v != UNLIMITED]
        if bounded:
            return min(bounded)
        return UNLIMITED if values else None

    @property
    def requests_per_minute(self) -> int | None:
        return self.lowest(REQUESTS)

    @property
    def tokens_per_minute(self) -> int | None:
        """Input tokens per minute."""
        return self.lowest(INPUT_TOKENS)

    @property
    def zero(self) -> tuple[QuotaLimit, ...]:
        """The limits of 0: any one of them refuses every call."""
        return tuple(limit for limit in self.limits if limit.value == 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedQuotas:
    """The quotas of the wanted models and locations of one project (one Cloud Quotas list)."""

    models: tuple[ModelQuota, ...] = ()
    skipped: bool = False  # not read: the run was asked to leave quota reads out
    quota_infos: int = 0  # per-base-model QuotaInfos the list answered (0: none at all)
    pages: int = field(default=1, compare=False)

    def find(self, publisher_model: str, location: str) -> ModelQuota | None:
        for quota in self.models:
            if quota.publisher_model == publisher_model and quota.location == location:
                return quota
        return None


QUOTA_CONSOLE = "https://console.cloud.google.com/iam-admin/quotas"
_NOT_REGIONAL = ("global_", "us_multi_region_", "eu_multi_region_")


def quota_console(project_id: str) -> str:
    return f"{QUOTA_CONSOLE}?project={project_id}"


def preference_command(
    project_id: str, limit: QuotaLimit, location: str, model: str, value: str
) -> str:
    """The gcloud command that asks Cloud Quotas for `value` of `limit` (a QuotaPreference);
    a regional quota names its region as a dimension too."""
    dimensions = f"base_model={limit.base_model or model}"
    if not limit.metric.rpartition("/")[2].startswith(_NOT_REGIONAL):
        dimensions = f"region={location},{dimensions}"
    return (
        f"gcloud quotas preferences create --project={project_id} "
        f"--service={AIPLATFORM_SERVICE} --quota-id={limit.quota_id} "
        f"--dimensions={dimensions} --preferred-value={value} --email=YOUR_EMAIL "
        '--justification="..."'
    )


def zero_quota_remedy(project_id: str, limit: QuotaLimit, location: str, model: str) -> str:
    """What a person does about a limit of 0: the console's quota page, or a QuotaPreference."""
    return (
        f"Request a limit above 0 at {quota_console(project_id)} (filter: Vertex AI API, "
        f"base_model {limit.base_model or model}, region {location}), or: "
        + preference_command(project_id, limit, location, model, "VALUE")
    )


def base_model_names(publisher_model: str) -> tuple[str, ...]:
    """The `base_model` values a model may be listed under (see the module doc)."""
    parts = publisher_model.split("/")
    publisher = parts[1] if len(parts) >= 4 else ""
    model = parts[-1]
    bare = model.removesuffix("-maas")
    names = [model, bare]
    if publisher:
        names += [f"{publisher}-{model}", f"{publisher}-{bare}"]
    return tuple(dict.fromkeys(names))


def metric_kind(metric: str) -> tuple[str, str] | None:
    """(kind, location family) of a per-base-model metric: family `global`, `us`/`eu` for a
    multi-region, `` for regional. None for any other metric."""
    stem = metric.rpartition("/")[2]
    family = ""
    if stem.startswith("global_"):
        family, stem = "global", stem.removeprefix("global_")
    elif _MULTI_REGION in stem:
        family, _, stem = stem.partition(_MULTI_REGION)
    kind = _KINDS.get(stem)
    return None if kind is None else (kind, family)


def _applies_here(row_family: str, value: DimensionValue, location: str) -> bool:
    if row_family:
        return location == row_family
    if location == "global" or location in ("us", "eu"):
        return False  # a regional quota never limits the global or multi-region endpoints
    region = value.dimensions.get("region")
    if region is not None:
        return region == location
    return not value.applicable_locations or location in value.applicable_locations


def _limit_for(
    row: QuotaRow, kind: str, family: str, names: Sequence[str], location: str
) -> QuotaLimit | None:
    """The row's value for the model here: its own base_model entry, else the default one."""
    here = [v for v in row.values if _applies_here(family, v, location)]
    own = [v for v in here if v.dimensions.get("base_model") in names]
    chosen = own or [v for v in here if "base_model" not in v.dimensions]
    if not chosen:
        return None
    value = chosen[0]
    return QuotaLimit(
        quota_id=row.quota_id,
        metric=row.metric,
        kind=kind,
        value=value.value,
        base_model=value.dimensions.get("base_model", ""),
    )


def model_quotas(
    rows: Iterable[QuotaRow], wanted: Iterable[tuple[str, str]], *, pages: int = 1
) -> ObservedQuotas:
    """The limits of each wanted (publisher model, location), from a service's QuotaInfos."""
    per_model = [row for row in rows if "base_model" in row.dimensions]
    models = []
    for publisher_model, location in dict.fromkeys(wanted):
        names = base_model_names(publisher_model)
        limits = []
        for row in per_model:
            found = metric_kind(row.metric)
            if found is None:
                continue
            limit = _limit_for(row, found[0], found[1], names, location)
            if limit is not None:
                limits.append(limit)
        models.append(
            ModelQuota(publisher_model=publisher_model, location=location, limits=tuple(limits))
        )
    return ObservedQuotas(models=tuple(models), quota_infos=len(per_model), pages=pages)

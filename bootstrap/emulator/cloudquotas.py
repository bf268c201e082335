"""Cloud Quotas v1: `quotaInfos` list and get for a project, and the per-base-model limits the
chat route enforces (world `model_quotas`, evidence row 22).

Shapes: the QuotaInfo, DimensionsInfo and QuotaDetails fields of google-cloud-quotas' v1 types
(camelCase, int64 values as strings), the same resource names as the recorded Cloud Quotas
exchanges (GoogleCloudPlatform/k8s-config-connector mockcloudquota `_http.log`, which record
quotaPreferences: `projects/P/locations/global/...`, `quotaId`, `service`). No recorded quotaInfo
exchange is public, so the quota ids and metrics below come from public reads of
aiplatform.googleapis.com (global and regional per-base-model families); one unrelated quota is
listed too, as Google lists hundreds. Permission `cloudquotas.quotas.get` on the project. The
API-enabled check of the caller's quota project is not modelled (the emulator has none).

Each offered model is listed per location at the world's value, else the default
(`world.DEFAULT_*`); only models a `model_quotas` entry names are enforced on the chat route,
per project, location and model, in windows of one virtual minute: requests, and input tokens
(the prompt's). A limit of 0 refuses every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, Reply, Route, page, page_size
from bootstrap.emulator.state import Store
from bootstrap.emulator.world import (
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TOKENS_PER_MINUTE,
    ModelQuota,
    Project,
    World,
)

DOMAIN = "cloudquotas.googleapis.com"
API = "cloudquotas"
AIPLATFORM = "aiplatform.googleapis.com"
PERMISSION = "cloudquotas.quotas.get"
REQUESTS = "requests"
TOKENS = "tokens"


@dataclass(frozen=True, slots=True)
class Family:
    """One per-base-model quota: its id, metric stem and what it counts."""

    quota_id: str
    metric: str
    kind: str  # requests | tokens
    scope: str  # global | regional
    display: str


FAMILIES = (
    Family(
        "GlobalOnlinePredictionRequestsPerMinutePerProjectPerBaseModel",
        "global_online_prediction_requests_per_base_model",
        REQUESTS,
        "global",
        "Global online prediction requests per minute per base model",
    ),
    Family(
        "GlobalOnlinePredictionInputTokensPerMinutePerBaseModel",
        "global_online_prediction_input_tokens_per_minute_per_base_model",
        TOKENS,
        "global",
        "Global online prediction input tokens per minute per base model",
    ),
    Family(
        "OnlinePredictionRequestsPerMinutePerProjectPerBaseModel",
        "online_prediction_requests_per_base_model",
        REQUESTS,
        "regional",
        "Online prediction requests per minute per region per base model",
    ),
    Family(
        "OnlinePredictionInputTokensPerMinutePerRegionPerBaseModel",
        "online_prediction_input_tokens_per_minute_per_base_model",
        TOKENS,
        "regional",
        "Online prediction input tokens per minute per region per base model",
    ),
)
_DEFAULTS = {REQUESTS: DEFAULT_REQUESTS_PER_MINUTE, TOKENS: DEFAULT_TOKENS_PER_MINUTE}


def _limit(entry: ModelQuota, kind: str) -> int:
    value = entry.requests_per_minute if kind == REQUESTS else entry.tokens_per_minute
    return _DEFAULTS[kind] if value is None else value


def _entries(world: World, project: Project) -> list[ModelQuota]:
    return [q for q in world.model_quotas if q.project in (project.project_id, project.number)]


def _details(value: int, dimensions: dict[str, str], locations: list[str]) -> dict[str, Any]:
    return {
        "dimensions": dimensions,
        "details": {"value": str(value)},
        "applicableLocations": locations,
    }


def _dimensions_infos(store: Store, project: Project, family: Family) -> list[dict[str, Any]]:
    """The project's own values first (most specific), then the defaults."""
    regions = sorted(
        {loc for offer in store.world.models for loc in offer.locations if loc != "global"}
    )
    infos = []
    for entry in _entries(store.world, project):
        if (entry.location == "global") != (family.scope == "global"):
            continue
        dims = {"base_model": entry.model}
        if family.scope == "regional":
            dims = {"region": entry.location, **dims}
        infos.append(_details(_limit(entry, family.kind), dims, [entry.location]))
    default = _DEFAULTS[family.kind]
    if family.scope == "global":
        infos.append(_details(default, {}, ["global"]))
    else:
        infos += [_details(default, {"region": region}, [region]) for region in regions]
    return infos


def quota_info(store: Store, project: Project, family: Family, parent: str) -> dict[str, Any]:
    dimensions = ["base_model"] if family.scope == "global" else ["region", "base_model"]
    unit = "/".join(["1/min/{project}", *(f"{{{d}}}" for d in dimensions)])
    return {
        "name": f"{parent}/quotaInfos/{family.quota_id}",
        "quotaId": family.quota_id,
        "metric": f"{AIPLATFORM}/{family.metric}",
        "service": AIPLATFORM,
        "isPrecise": True,
        "refreshInterval": "minute",
        "containerType": "PROJECT",
        "dimensions": dimensions,
        "metricDisplayName": family.display,
        "quotaDisplayName": family.display,
        "metricUnit": unit,
        "quotaIncreaseEligibility": {"isEligible": True},
        "dimensionsInfos": _dimensions_infos(store, project, family),
        "serviceRequestQuotaUri": "https://console.cloud.google.com/iam-admin/quotas",
    }


def _unrelated(parent: str) -> dict[str, Any]:
    """A quota that is not per base model, so a reader must pick the right ones."""
    quota_id = "ResourceManagementRequestsPerMinutePerProject"
    return {
        "name": f"{parent}/quotaInfos/{quota_id}",
        "quotaId": quota_id,
        "metric": f"{AIPLATFORM}/resource_management_requests",
        "service": AIPLATFORM,
        "isPrecise": True,
        "refreshInterval": "minute",
        "containerType": "PROJECT",
        "metricDisplayName": "Resource management (CRUD) requests",
        "quotaDisplayName": "Resource management (CRUD) requests per minute",
        "metricUnit": "1/min/{project}",
        "quotaIncreaseEligibility": {"isEligible": True},
        "dimensionsInfos": [_details(600, {}, ["global"])],
    }


def _quota_infos(store: Store, call: Call) -> tuple[str, list[dict[str, Any]]]:
    key = call.params["p"]
    project = store.active_project(key, service=DOMAIN)
    if not store.allowed(call.principal, PERMISSION, f"projects/{project.project_id}"):
        raise google_errors.permission_denied(PERMISSION, f"projects/{key}", domain=DOMAIN)
    if call.params["loc"] != "global":
        raise google_errors.invalid_argument(
            "The location in the resource name must be global for QuotaInfo."
        )
    parent = f"projects/{key}/locations/global/services/{call.params['svc']}"
    if call.params["svc"] != AIPLATFORM:
        return parent, []
    infos = [quota_info(store, project, f, parent) for f in FAMILIES]
    return parent, [_unrelated(parent), *infos]


def list_quota_infos(store: Store, call: Call) -> Reply:
    _parent, infos = _quota_infos(store, call)
    size = page_size(call.arg("pageSize"), default=100, maximum=1000)
    items, token = page(infos, size=size, token=call.arg("pageToken"))
    body: dict[str, Any] = {"quotaInfos": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


def get_quota_info(store: Store, call: Call) -> Reply:
    parent, infos = _quota_infos(store, call)
    name = f"{parent}/quotaInfos/{call.params['id']}"
    found = next((info for info in infos if info["name"] == name), None)
    if found is None:
        raise google_errors.not_found(f"QuotaInfo {name} not found.")
    return Reply(body=found)


# ---------------------------------------------------------------------------------------------
# Enforcement on the chat route


@dataclass(slots=True)
class _Usage:
    """Requests and input tokens counted per (project, location, model) in the current minute."""

    world: World
    window: int = -1
    counts: dict[tuple[str, str, str, str], int] = field(default_factory=dict)


_USAGE_ATTR = "_model_quota_usage"


def _usage(store: Store, now: float) -> _Usage:
    """The counters, started afresh for a new world or a new minute of the virtual clock."""
    usage = getattr(store, _USAGE_ATTR, None)
    window = int(now // 60)
    if not isinstance(usage, _Usage) or usage.world is not store.world or usage.window != window:
        usage = _Usage(world=store.world, window=window)
        setattr(store, _USAGE_ATTR, usage)
    return usage


def charge_chat(
    store: Store, project: Project, location: str, model: str, *, prompt_tokens: int
) -> None:
    """Count one chat call against the model's quota there, or refuse it with the MaaS 429."""
    entry = next(
        (q for q in _entries(store.world, project) if q.location == location and q.model == model),
        None,
    )
    if entry is None:
        return
    usage = _usage(store, store.clock.elapsed())
    scope = "global" if location == "global" else "regional"
    for kind, cost in ((REQUESTS, 1), (TOKENS, prompt_tokens)):
        limit = _limit(entry, kind)
        key = (project.number, location, model, kind)
        if usage.counts.get(key, 0) + cost > limit:
            family = next(f for f in FAMILIES if f.kind == kind and f.scope == scope)
            raise maas_quota_exceeded(project, location, model, family, limit)
    for kind, cost in ((REQUESTS, 1), (TOKENS, prompt_tokens)):
        key = (project.number, location, model, kind)
        usage.counts[key] = usage.counts.get(key, 0) + cost


def maas_quota_exceeded(
    project: Project, location: str, model: str, family: Family, limit: int
) -> google_errors.ApiError:
    """Row 22's message (no ErrorInfo, so no client reads it as a retryable rate limit by
    reason). The QuotaFailure saying `limit: N` (modelled on the Gemini API's 429, `quotaValue`)
    is this emulator's guess at how the limit shows, as no MaaS body with one is public."""
    metric = f"{AIPLATFORM}/{family.metric}"
    return google_errors.ApiError(
        429,
        "RESOURCE_EXHAUSTED",
        f"Quota exceeded for {metric} with base model: {model}. Please submit a quota "
        "increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "subject": f"projects/{project.number}",
                        "description": f"{metric} for base model {model} in {location}, "
                        f"limit: {limit}",
                        "quotaMetric": metric,
                        "quotaId": family.quota_id,
                        "quotaDimensions": {"base_model": model, "region": location},
                        "quotaValue": str(limit),
                    }
                ],
            }
        ],
    )


SERVICE = r"/v1/projects/(?P<p>[^/:]+)/locations/(?P<loc>[^/:]+)/services/(?P<svc>[^/:]+)"
ROUTES = [
    Route("GET", SERVICE + r"/quotaInfos", list_quota_infos, API),
    Route("GET", SERVICE + r"/quotaInfos/(?P<id>[^/:]+)", get_quota_info, API),
]

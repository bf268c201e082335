"""Optional per-principal, per-API rate quotas as token buckets on the virtual clock.

Each bucket holds one minute of quota and refills continuously; an empty bucket answers 429
RESOURCE_EXHAUSTED with ErrorInfo RATE_LIMIT_EXCEEDED, as Google does without RetryInfo (row 21)
unless the world says `behaviour: {retry_info_on_429: true}`. Off unless the world says
`quotas: {enabled: true}`.
"""

from __future__ import annotations

import math

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import QuotaKind, Route
from bootstrap.emulator.world import Quotas


def limit_for(quotas: Quotas, api: str, kind: QuotaKind) -> tuple[int, str, str]:
    """(requests per minute, metric, limit name); 0 means unlimited."""
    if api == "serviceusage":
        if kind == QuotaKind.WRITE:
            return (
                quotas.serviceusage_write_per_min,
                "mutate_requests",
                "MutateRequestsPerMinutePerProject",
            )
        return quotas.serviceusage_read_per_min, "read_requests", "ReadRequestsPerMinutePerProject"
    if api == "cloudresourcemanager":
        if kind == QuotaKind.WRITE:
            return (
                quotas.cloudresourcemanager_write_per_min,
                "write_requests",
                "WriteRequestsPerMinutePerProject",
            )
        return (
            quotas.cloudresourcemanager_read_per_min,
            "read_requests",
            "ReadRequestsPerMinutePerProject",
        )
    if api == "cloudbilling":
        return quotas.cloudbilling_per_min, "standard_quota", "StandardQuotaPerMinutePerProject"
    if api == "cloudasset":
        return (
            quotas.cloudasset_search_per_min,
            "search_all_resources_requests",
            "SearchAllResourcesRequestsPerMinutePerProject",
        )
    if api == "aiplatform":
        return (
            quotas.aiplatform_per_min,
            "online_prediction_requests_per_base_model",
            "PerMinutePerProject",
        )
    return 0, "", ""


# Display names Google puts in the 429 message (row 21: 'Read requests', 'Mutate requests').
_TITLES = {
    "read_requests": "Read requests",
    "mutate_requests": "Mutate requests",
    "write_requests": "Write requests",
    "ReadRequestsPerMinutePerProject": "Read requests per minute",
    "MutateRequestsPerMinutePerProject": "Mutate requests per minute",
    "WriteRequestsPerMinutePerProject": "Write requests per minute",
}


class QuotaBuckets:
    def __init__(self) -> None:
        # (principal, api, kind) -> (tokens, virtual time of last refill)
        self.buckets: dict[tuple[str, str, str], tuple[float, float]] = {}

    def clear(self) -> None:
        self.buckets = {}

    def charge(
        self,
        quotas: Quotas,
        route: Route,
        *,
        principal: str,
        now: float,
        consumer: str,
        retry_info: bool = False,
        organization: str = "",
    ) -> None:
        """Charge the caller's bucket; a Cloud Asset search also charges its organization's
        (`organization`: the searched scope's organization, when it has one)."""
        if not quotas.enabled or route.pattern.endswith("/chat/completions"):
            # The chat route counts per project, location and base model instead (world
            # `model_quotas`, emulator/cloudquotas.py), as Vertex does; the per-principal
            # `aiplatform_per_min` bucket covers the other aiplatform routes.
            return
        per_min, metric, limit = limit_for(quotas, route.api, route.quota)
        if per_min <= 0:
            return
        cost = quotas.batch_enable_cost if route.pattern.endswith(":batchEnable") else route.cost
        per_org = quotas.cloudasset_search_per_org_per_min if route.api == "cloudasset" else 0
        if organization and per_org > 0:
            self._take(
                (organization, route.api, "organization"), per_org, cost, now=now,
                service=route.api, metric=metric,
                limit="SearchAllResourcesRequestsPerMinutePerOrganization",
                consumer=organization, retry_info=retry_info,
            )  # fmt: skip
        self._take(
            (principal, route.api, str(route.quota)), per_min, cost, now=now, service=route.api,
            metric=metric, limit=limit, consumer=consumer, retry_info=retry_info,
        )  # fmt: skip

    def _take(
        self,
        key: tuple[str, str, str],
        per_min: int,
        cost: int,
        *,
        now: float,
        service: str,
        metric: str,
        limit: str,
        consumer: str,
        retry_info: bool,
    ) -> None:
        tokens, last = self.buckets.get(key, (float(per_min), now))
        rate = per_min / 60.0
        tokens = min(float(per_min), tokens + (now - last) * rate)
        if tokens < cost:
            self.buckets[key] = (tokens, now)
            retry = max(1, math.ceil((cost - tokens) / rate))
            raise google_errors.rate_limited(
                service=f"{service}.googleapis.com", metric=metric, limit=limit, value=per_min,
                consumer=consumer, retry_s=retry if retry_info else None,
                metric_title=_TITLES.get(metric, ""), limit_title=_TITLES.get(limit, ""),
            )  # fmt: skip
        self.buckets[key] = (tokens - cost, now)

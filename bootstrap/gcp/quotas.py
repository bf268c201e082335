"""Cloud Quotas v1: the per-base-model Vertex AI limits of one project, in one paged list.

`projects.locations.services.quotaInfos.list` on `projects/P/locations/global/services/
aiplatform.googleapis.com` answers every quota of the service with its effective values per
dimension, so one list (a page per `PAGE_SIZE` QuotaInfos) answers every wanted model and
location of the project; `quotaInfos.get` would need one call per quota id and location family,
and the ids of the per-base-model quotas differ between families and are not all public, while
the metric names are (`bootstrap.cloud.quota` matches on those). Permission:
`cloudquotas.quotas.get` on the project; the Cloud Quotas API must be enabled on the caller's
quota project.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from google.cloud import cloudquotas_v1

from bootstrap.causes.context import CallContext
from bootstrap.cloud.quota import (
    AIPLATFORM_SERVICE,
    DimensionValue,
    ObservedQuotas,
    QuotaRow,
    model_quotas,
)
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.partial import field_mask, raw

_READ = "cloudquotas.read"
# The largest page the client asks for; the server may answer fewer (then more pages follow).
PAGE_SIZE = 500
# What each QuotaInfo is read for (a partial response, the X-Goog-FieldMask system parameter):
# `quota_row`'s fields. Google lists hundreds of Vertex AI quotas, each with display names, URIs,
# eligibility and rollout details besides, and parsing them was the costliest of a project's
# reads (~4 ms of CPU against ~1.5 ms for the others).
_ROW_FIELDS = field_mask(
    "quotaInfos.quotaId",
    "quotaInfos.metric",
    "quotaInfos.dimensions",
    "quotaInfos.dimensionsInfos.dimensions",
    "quotaInfos.dimensionsInfos.details.value",
    "quotaInfos.dimensionsInfos.applicableLocations",
    "nextPageToken",
)


def quota_row(info: Any) -> QuotaRow:
    """A `cloudquotas_v1.QuotaInfo` as the plain value the matching reads."""
    return QuotaRow(
        quota_id=info.quota_id,
        metric=info.metric,
        dimensions=tuple(info.dimensions),
        values=tuple(
            DimensionValue(
                dimensions=dict(entry.dimensions),
                value=int(entry.details.value),
                applicable_locations=tuple(entry.applicable_locations),
            )
            for entry in info.dimensions_infos
        ),
    )


class Quotas:
    def __init__(self, *, client: cloudquotas_v1.CloudQuotasClient, caller: Caller) -> None:
        self._client = client
        self._caller = caller

    def model_quotas(self, project_id: str, wanted: Sequence[tuple[str, str]]) -> ObservedQuotas:
        """The limits of each wanted (publisher model, location): one quotaInfos list, paged."""
        rows, pages = self._list(project_id, AIPLATFORM_SERVICE)
        return model_quotas(rows, wanted, pages=pages)

    def _list(self, project_id: str, service: str) -> tuple[Iterable[QuotaRow], int]:
        parent = f"projects/{project_id}/locations/global/services/{service}"
        rows: list[QuotaRow] = []
        pages = 0
        for page in self._caller.pages(
            "cloudquotas.quotaInfos.list",
            lambda r, t: self._client.list_quota_infos(
                request=r, retry=None, timeout=t, metadata=_ROW_FIELDS
            ),
            {"parent": parent, "page_size": PAGE_SIZE},
            bucket=_READ,
            context=CallContext(project_id=project_id),
        ):
            pages += 1
            rows.extend(quota_row(info) for info in raw(page.quota_infos))
        return rows, pages

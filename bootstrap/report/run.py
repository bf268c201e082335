"""Which run a report belongs to: its id, its shard and the population it was cut from.

Shard reports carry this so that `report merge` can prove a set of reports is one whole run:
every shard of the same run, once, cut from the same population (count and digest of the sorted
project ids before sharding). A merged report that is knowingly incomplete says so (`partial`
and the shards that are missing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    id: str
    started_at: dt.datetime  # the shard's own start (shards start independently)
    shard_index: int | None = None  # from 1, as in --shard K/N; None: not sharded
    shard_count: int | None = None
    population_count: int
    population_digest: str
    partial: bool = False  # a merge of fewer shards than the run had (--allow-partial)
    missing_shards: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        shard = None
        if self.shard_index is not None and self.shard_count is not None:
            shard = {"index": self.shard_index, "count": self.shard_count}
        data: dict[str, Any] = {
            "id": self.id,
            "started_at": _utc(self.started_at),
            "shard": shard,
            "population": {"count": self.population_count, "digest": self.population_digest},
        }
        if self.partial:
            data |= {"partial": True, "missing_shards": list(self.missing_shards)}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunInfo:
        shard = data.get("shard") or {}
        population = data["population"]
        return cls(
            id=str(data["id"]),
            started_at=dt.datetime.fromisoformat(str(data["started_at"]).replace("Z", "+00:00")),
            shard_index=int(shard["index"]) if shard else None,
            shard_count=int(shard["count"]) if shard else None,
            population_count=int(population["count"]),
            population_digest=str(population["digest"]),
            partial=bool(data.get("partial", False)),
            missing_shards=tuple(int(k) for k in data.get("missing_shards", ())),
        )


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

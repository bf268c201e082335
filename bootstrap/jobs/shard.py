"""Deterministic sharding of a project list, so one audit can fan out over N workers.

A project belongs to shard `sha256(project_id) mod N`: stable across runs, machines and list
order, so shards of the same list always add up to the whole list exactly once.
"""

from __future__ import annotations

import hashlib


def parse_shard(spec: str) -> tuple[int, int]:
    """`K/N` with K counted from 1 -> (index from 0, count)."""
    k_text, sep, n_text = spec.partition("/")
    try:
        k, n = int(k_text), int(n_text)
    except ValueError:
        k = n = 0
    if not sep or n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard {spec!r} must be K/N with 1 <= K <= N, e.g. 2/8")
    return k - 1, n


def shard_of(project_id: str, count: int) -> int:
    digest = hashlib.sha256(project_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def in_shard(project_id: str, *, index: int, count: int) -> bool:
    return shard_of(project_id, count) == index

"""The empirical floor: a bare asyncio HTTP client sending exactly R_min requests at concurrency C.

It sends the same requests an audit of converged projects needs (projects.get, getBillingInfo,
services.batchGet, the Cloud Quotas list, the two effective org policies and one probe per
project, plus the account and the
publisher model once), with
no retries, no parsing beyond the status, and no rate limits: what the network and the emulator
allow, measured in the same run as the tool.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

from bench.harness import ACCOUNT, MODEL, SERVICES

QUOTAS = "aiplatform.googleapis.com"
POLICIES = ("vertexai.allowedModels", "gcp.restrictServiceUsage")  # one read per constraint
PROBE = {"model": "openai/gpt-oss-120b-maas", "messages": [{"role": "user", "content": "ping"}]}


def audit_requests(ids: Sequence[str]) -> list[tuple[str, str, dict[str, object] | None]]:
    names = "&".join(f"names=projects/{{p}}/services/{s}" for s in SERVICES)
    requests: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", f"/v1/billingAccounts/{ACCOUNT}", None),
        ("GET", f"/v1beta1/{MODEL}", None),
    ]
    for pid in ids:
        requests += [
            ("GET", f"/v3/projects/{pid}", None),
            ("GET", f"/v1/projects/{pid}/billingInfo", None),
            ("GET", f"/v1/projects/{pid}/services:batchGet?{names.format(p=pid)}", None),
            ("GET", f"/v1/projects/{pid}/locations/global/services/{QUOTAS}/quotaInfos", None),
            *(
                ("GET", f"/v2/projects/{pid}/policies/{c}:getEffectivePolicy", None)
                for c in POLICIES
            ),
            (
                "POST",
                f"/v1/projects/{pid}/locations/global/endpoints/openapi/chat/completions",
                {**PROBE, "max_tokens": 1},
            ),
        ]
    return requests


async def _run(
    base: str, requests: list[tuple[str, str, dict[str, object] | None]], concurrency: int
) -> tuple[float, int]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": "Bearer emulator-owner"}
    queue = iter(requests)
    failures = 0
    async with httpx.AsyncClient(
        base_url=base, limits=limits, headers=headers, timeout=60
    ) as client:

        async def worker() -> None:
            nonlocal failures
            for method, path, body in queue:
                answer = await client.request(method, path, json=body)
                failures += answer.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, failures


def floor_seconds(base: str, ids: Sequence[str], concurrency: int) -> tuple[float, int, int]:
    """(wall seconds, requests sent, non-200 answers)."""
    requests = audit_requests(ids)
    wall, failures = asyncio.run(_run(base, requests, concurrency))
    return wall, len(requests), failures

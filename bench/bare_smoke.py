"""Scenario 6's baseline: a bare httpx client streaming the smoke test's chat completions.

It sends the body the tool sends (model, the manifest's prompt, max_tokens, reasoning_effort,
stream, stream_options.include_usage) to the same emulator world, one thread per stream (all 100
in flight at once, as the tool's smoke threads are) sharing one `httpx.Client`, reads the SSE
lines to `data: [DONE]` and takes the completion tokens from the usage chunk: no SDK, no retries,
no judging. Each stream is timed from just before its request is sent to its `[DONE]` line, as
the tool's `total_ms` is, so the two per-token overheads compare like for like.

Threads, not asyncio: an asyncio client opens all 100 connections within a few milliseconds, a
denser burst than the tool's threads make, and the single-process emulator then needs 40-70 ms
to start every response (measured: p50 4-5 ms per token), which would compare burst shapes, not
clients. Runs in the bench process, never in the emulator's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

REQUEST_MODEL = "openai/gpt-oss-120b-maas"


@dataclass(frozen=True, slots=True)
class Stream:
    """One bare stream: milliseconds from sending to [DONE], and the usage's completion tokens."""

    total_ms: float
    completion_tokens: int


def chat_path(project: str, location: str = "global") -> str:
    return f"/v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions"


def chat_body(prompt: str, max_tokens: int, reasoning_effort: str) -> dict[str, Any]:
    return {
        "model": REQUEST_MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "reasoning_effort": reasoning_effort,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def _one(client: httpx.Client, path: str, body: dict[str, Any]) -> Stream:
    tokens = -1
    done: float | None = None
    started = time.monotonic()
    with client.stream("POST", path, json=body) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"bare smoke: {path} answered {response.status_code}")
        for line in response.iter_lines():
            if done is not None or not line.startswith("data:"):
                continue  # after [DONE]: drain to the end, outside the timed span
            data = line[5:].strip()
            if data == "[DONE]":
                done = time.monotonic()
                continue
            usage = json.loads(data).get("usage")
            if usage:
                tokens = int(usage["completion_tokens"])
    if done is None:
        raise RuntimeError(f"bare smoke: {path} ended without [DONE]")
    if tokens <= 0:
        raise RuntimeError(f"bare smoke: {path} sent no usage chunk")
    return Stream(total_ms=(done - started) * 1000.0, completion_tokens=tokens)


def bare_streams(
    base: str, projects: Sequence[str], *, prompt: str, max_tokens: int, reasoning_effort: str
) -> list[Stream]:
    """One stream per project, all in flight at once (concurrency = len(projects))."""
    body = chat_body(prompt, max_tokens, reasoning_effort)
    count = len(projects)
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    headers = {"Authorization": "Bearer emulator-owner"}
    with (
        httpx.Client(base_url=base, limits=limits, headers=headers, timeout=60) as client,
        ThreadPoolExecutor(max_workers=count, thread_name_prefix="bare-smoke") as pool,
    ):
        return list(pool.map(lambda project: _one(client, chat_path(project), body), projects))

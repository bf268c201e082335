"""Emulator throughput: simple GET requests/s and concurrent SSE streams.

Starts `bootstrap emulator --quiet` in its own process on a free loopback port, drives it from
this process with httpx (bounded loops, loopback only) and prints the figures.

    .venv/bin/python bench/emulator_load.py [--requests 20000] [--concurrency 64] [--streams 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx

HEADERS = {"Authorization": "Bearer emulator-owner"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def get_load(port: int, total: int, concurrency: int) -> float:
    """Keep-alive GETs over raw asyncio streams: a client far cheaper than the server under test."""
    request = (
        b"GET /v1/projects/demo-ready/billingInfo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer emulator-owner\r\n\r\n"
    )
    remaining = iter(range(total))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in remaining:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def stream_load(base: str, streams: int) -> tuple[int, float]:
    body = {
        "model": "openai/gpt-oss-120b-maas",
        "stream": True,
        "messages": [{"role": "user", "content": "Reply with the single word: ok"}],
    }
    path = "/v1/projects/demo-ready/locations/global/endpoints/openapi/chat/completions"
    limits = httpx.Limits(max_connections=streams + 10)
    async with httpx.AsyncClient(
        base_url=base, headers=HEADERS, limits=limits, timeout=60
    ) as client:

        async def one() -> bool:
            async with client.stream("POST", path, json=body) as answer:
                text = "".join([chunk async for chunk in answer.aiter_text()])
            return text.rstrip().endswith("data: [DONE]")

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(streams)))
        return sum(results), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--streams", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", "emulator", "--port", str(port), "--quiet"],
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/_emulator/clock", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        rate = asyncio.run(get_load(port, args.requests, args.concurrency))
        print(
            f"simple GET: {rate:,.0f} requests/s ({args.requests} requests, {args.concurrency} connections)"
        )
        complete, took = asyncio.run(stream_load(base, args.streams))
        print(
            f"SSE: {complete}/{args.streams} concurrent streams completed with [DONE] in {took:.2f}s"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

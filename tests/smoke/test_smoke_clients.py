"""The smoke run's shared clients and honest metrics (issue 20), over real HTTP to the emulator:
one SDK client carries a different token on every request, TTFT counts from the request on the
wire rather than from the tool's own queueing, and each check says how many streams were open
beside it. Plus the pure parts: the in-flight peaks, the tally's clocks, the deadline thread."""

from __future__ import annotations

import gc
import json
import time
from typing import Any

import httpx
import openai
import pytest

from bootstrap.checks import Check, CheckStatus
from bootstrap.emulator.inprocess import Emulator
from bootstrap.manifest.desired import SmokeSettings
from bootstrap.smoke import clients
from bootstrap.smoke.clients import ChatStreams, InFlight, sent_at
from bootstrap.smoke.deadline import Deadlines
from bootstrap.smoke.runner import run_smoke
from bootstrap.smoke.verdict import tally_lines
from tests.smoke.test_smoke_emulator import TOKEN, Tokens, case, set_timing

pytestmark = pytest.mark.timeout(20)

BODY: dict[str, Any] = {
    "model": "openai/gpt-oss-120b-maas",
    "messages": [{"role": "user", "content": "Reply with the single word: ok"}],
    "max_tokens": 64,
    "stream": True,
}
DONE = b'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


def chat_url(emu: Emulator, project: str = "demo-ready") -> str:
    return (
        f"{emu.base_url}/v1/projects/{project}/locations/global/endpoints/openapi/chat/completions"
    )


def test_one_sdk_client_sends_each_request_with_its_own_token(emulator: Emulator) -> None:
    # Nothing about the caller is baked into the run's client: a bad token on one request fails
    # that request only, and the next request's good token is the one sent.
    with clients.http_client(4, 5.0) as http:
        chats = ChatStreams(http, 5.0, f"{emulator.base_url}/v1")
        first = chats.open(chat_url(emulator), BODY, TOKEN, 5.0)
        assert first.status_code == 200
        list(first.iter_lines())  # to its end: no stream left open in the emulator
        first.close()
        with pytest.raises(openai.APIStatusError) as refused:
            chats.open(chat_url(emulator), BODY, "not-a-token", 5.0)
        assert refused.value.status_code == 401
        again = chats.open(chat_url(emulator), BODY, TOKEN, 5.0)
        lines = list(again.iter_lines())
        again.close()
    assert "data: [DONE]" in lines


def test_the_sdk_builds_a_body_once_and_each_send_has_its_own_url_and_token() -> None:
    # A fake server (httpx's MockTransport) records what went on the wire.
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=DONE)

    builds: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        chats = ChatStreams(http, 5.0, "https://vertex.invalid/v1")
        original = chats._builder.post  # the SDK's own call, counted, not replaced

        def counted(*args: Any, **kwargs: Any) -> Any:
            builds.append("post")
            return original(*args, **kwargs)

        chats._builder.post = counted  # type: ignore[method-assign]
        chats.prepare([BODY])
        for project, token in (("p-one", "token-one"), ("p-two", "token-two")):
            url = f"https://vertex.invalid/v1/projects/{project}/chat/completions"
            chats.open(url, BODY, token, 5.0).close()
    assert builds == ["post"]  # one SDK build for two sends of the same body
    assert [str(r.url) for r in sent] == [
        "https://vertex.invalid/v1/projects/p-one/chat/completions",
        "https://vertex.invalid/v1/projects/p-two/chat/completions",
    ]
    assert [r.headers["authorization"] for r in sent] == ["Bearer token-one", "Bearer token-two"]
    assert all(r.headers["user-agent"].startswith("OpenAI/Python") for r in sent)
    assert all(json.loads(r.content) == BODY for r in sent)


def test_an_error_answer_is_the_sdks_status_error_with_its_body(emulator: Emulator) -> None:
    with clients.http_client(1, 5.0) as http:
        chats = ChatStreams(http, 5.0, emulator.base_url)
        with pytest.raises(openai.APIStatusError) as refused:
            chats.open(chat_url(emulator, "no-such-project"), BODY, TOKEN, 5.0)
    assert refused.value.status_code in (403, 404)
    assert isinstance(refused.value.body, dict) and "error" in refused.value.body


def test_the_shared_client_stamps_when_the_request_was_written(emulator: Emulator) -> None:
    with clients.http_client(1, 5.0) as http:
        before = time.monotonic()
        response = ChatStreams(http, 5.0, emulator.base_url).open(
            chat_url(emulator), BODY, TOKEN, 5.0
        )
        headers_at = time.monotonic()
        list(response.iter_lines())
        response.close()
    written = sent_at(response)
    assert written is not None and before <= written <= headers_at


def smoke_checks(emu: Emulator, count: int, **options: Any) -> list[Check]:
    checks = run_smoke(
        [case() for _ in range(count)],
        settings=SmokeSettings(timeout_s=10.0),
        tokens=Tokens(),
        vertex_root=lambda location: emu.base_url,
        **options,
    )
    assert all(c.status is CheckStatus.OK for c in checks), checks
    return checks


def test_ttft_counts_from_the_wire_not_from_the_tools_own_queueing(emulator: Emulator) -> None:
    # Two streams, one connection: the second waits in the tool's own pool for the whole first
    # stream (about 50 + 12 x 40 ms) before it is written. Its total_ms holds that wait; its TTFT
    # must not, and neither check may claim the other was open beside it.
    set_timing(emulator, ttft_ms=50, token_interval_ms=40)
    with clients.http_client(1, 10.0) as http:
        first, second = smoke_checks(emulator, 2, concurrency=2, http_client=http)
    ahead, queued = sorted((first, second), key=lambda c: float(c.metrics["total_ms"]))
    wait_ms = float(ahead.metrics["total_ms"])  # the queued one waited for all of it
    assert float(queued.metrics["total_ms"]) > wait_ms + 300
    # Counted from the call, the queued TTFT would be the wait plus its own 50 ms.
    assert 50 <= float(queued.metrics["ttft_ms"]) < wait_ms, queued.metrics
    assert 50 <= float(ahead.metrics["ttft_ms"]) < wait_ms, ahead.metrics
    assert ahead.metrics["concurrency"] == queued.metrics["concurrency"] == 1


def test_each_check_states_how_many_streams_were_open_beside_it(emulator: Emulator) -> None:
    set_timing(emulator, ttft_ms=300, token_interval_ms=40)  # ~0.8 s each: they overlap
    checks = smoke_checks(emulator, 3, concurrency=3)
    assert [c.metrics["concurrency"] for c in checks] == [3, 3, 3]


def test_in_flight_peaks_count_every_stream_opened_while_one_was_open() -> None:
    flights = InFlight()
    a = flights.enter()
    b = flights.enter()
    flights.leave(a)
    c = flights.enter()  # b and c open: 2, never more while c lives
    d = flights.enter()  # b, c, d: 3
    flights.leave(b)
    flights.leave(c)
    flights.leave(d)
    e = flights.enter()
    assert (a.peak, b.peak, c.peak, d.peak, e.peak) == (2, 3, 3, 3, 1)


def test_ttft_counts_from_sent_and_total_from_the_call() -> None:
    # the call at 0.0, the request written at 0.3, first token at 0.5, first content at 0.75,
    # [DONE] at 2.5
    ticks = iter([0.0, 0.5, 0.75, 2.5])
    tally = tally_lines(
        [
            'data: {"choices":[{"index":0,"delta":{"reasoning_content":"Hm."}}]}',
            "",
            'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}',
            "",
            "data: [DONE]",
            "",
        ],
        clock=lambda: next(ticks),
    )
    tally.sent_at = 0.3
    tally.concurrency = 7
    assert tally.metrics(2.5) == {
        "total_ms": 2500.0,
        "ttft_ms": 200.0,
        "first_content_ms": 450.0,
        "output_tokens": 2,
        "reasoning_tokens": 1,
        "tokens_per_s": 1.0,  # 2 tokens over 2.0 s after the first token
        "concurrency": 7,
    }


class FakeResponse:
    """Just enough of an httpx response for the deadline thread: no socket, so it is closed."""

    def __init__(self) -> None:
        self.is_closed = False
        self.extensions: dict[str, Any] = {}

    def close(self) -> None:
        self.is_closed = True


def test_an_earlier_deadline_added_later_still_fires_on_time() -> None:
    # The deadline thread is only woken for a new earliest deadline: one that arrives after a
    # later one must still wake it.
    deadlines = Deadlines()
    try:
        late, early = FakeResponse(), FakeResponse()
        now = time.monotonic()
        late_watch = deadlines.watch(late, now + 30.0)
        same_watch = deadlines.watch(FakeResponse(), now + 30.0)
        early_watch = deadlines.watch(early, now + 0.2)
        waited = 0.0
        while not early.is_closed and waited < 3.0:
            time.sleep(0.02)
            waited += 0.02
        assert early.is_closed and early_watch.fired
        assert not late.is_closed and not late_watch.fired and not same_watch.fired
    finally:
        deadlines.close()


def test_old_objects_are_frozen_while_streaming_and_handed_back_after(emulator: Emulator) -> None:
    # A full collection over the process's old objects must not stop every open stream; after
    # the run they are the collector's again (nothing leaks).
    seen: list[int] = []

    class Watching(Tokens):
        def token(self) -> str:
            seen.append(gc.get_freeze_count())  # called in the stream's own thread
            return super().token()

    assert gc.get_freeze_count() == 0
    run_smoke(
        [case(), case()],
        settings=SmokeSettings(timeout_s=10.0),
        tokens=Watching(),
        vertex_root=lambda location: emulator.base_url,
        concurrency=2,
    )
    assert len(seen) == 2 and min(seen) > 1000, seen
    assert gc.get_freeze_count() == 0

"""The Caller: concurrency slots held only on the wire, stats, failures translated at the boundary."""

from __future__ import annotations

import contextlib
import threading

import pytest
from google.api_core import exceptions as api_exceptions

from bootstrap.causes.context import CallContext
from bootstrap.clock import VirtualClock
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.ratelimit import RateLimiter

CONTEXT = CallContext(project_id="demo-ready")


def make_caller(clock: VirtualClock, concurrency: int = 1) -> Caller:
    return Caller(
        clock=clock,
        limiter=RateLimiter(clock, {}),
        concurrency=concurrency,
        timeout_s=30,
        deadline_s=60,
        refresh=lambda: None,
        seed=0,
    )


def test_no_slot_is_held_while_backing_off() -> None:
    free_during_sleep: list[bool] = []
    holder: list[Caller] = []

    def on_advance(seconds: float) -> None:
        slots = holder[0]._slots
        got = slots.try_acquire()
        free_during_sleep.append(got)
        if got:
            slots.release()

    clock = VirtualClock(on_advance=on_advance)
    caller = make_caller(clock)
    holder.append(caller)
    answers: list[Exception | str] = [api_exceptions.ServiceUnavailable("down"), "ok"]

    def send(timeout: float) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert caller.call("serviceusage.services.get", send, bucket="x", context=CONTEXT) == "ok"
    assert free_during_sleep == [True]
    assert caller.stats.requests == {"serviceusage.services.get": 2}
    assert caller.stats.retries == 1


def test_in_flight_requests_never_exceed_the_concurrency() -> None:
    caller = make_caller(VirtualClock(), concurrency=3)
    lock = threading.Lock()
    in_flight, peak = [0], [0]
    gate = threading.Barrier(3, timeout=5)

    def send(timeout: float) -> None:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        with lock:
            in_flight[0] -= 1

    threads = [
        threading.Thread(
            target=caller.call,
            args=("aiplatform.chat.completions", send),
            kwargs={"bucket": "x", "context": CONTEXT},
        )
        for _ in range(9)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 3
    assert caller.stats.requests["aiplatform.chat.completions"] == 9


def test_a_final_error_leaves_as_bootstrap_error_chained() -> None:
    caller = make_caller(VirtualClock())

    def send(timeout: float) -> None:
        raise api_exceptions.BadRequest("Request contains an invalid argument.")

    with pytest.raises(BootstrapError) as info:
        caller.call("serviceusage.services.get", send, bucket="x", context=CONTEXT)
    assert isinstance(info.value.__cause__, api_exceptions.BadRequest)
    assert info.value.failure.http_status == 400


def test_a_too_long_retry_delay_is_rate_limited_with_the_delay() -> None:
    caller = make_caller(VirtualClock())
    detail = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "120s"}

    def send(timeout: float) -> None:
        raise api_exceptions.TooManyRequests("Quota exceeded", details=[detail])

    with pytest.raises(BootstrapError) as info:
        caller.call("serviceusage.services.get", send, bucket="x", context=CONTEXT)
    failure = info.value.failure
    assert failure.cause is Cause.RATE_LIMITED and failure.retry_after_s == 120
    assert "rate limited, retry after 120 s" in failure.message
    assert caller.stats.rate_limited == 1 and caller.stats.retries == 0

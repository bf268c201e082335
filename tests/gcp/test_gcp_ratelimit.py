"""Token buckets on a virtual clock, and the --rate-limit syntax."""

from __future__ import annotations

import pytest

from bootstrap.clock import VirtualClock
from bootstrap.gcp.ratelimit import (
    BATCH_ENABLE_WEIGHT,
    DEFAULT_PER_MINUTE,
    DEFAULT_RATE_LIMITS,
    RateLimiter,
    parse_rate_limit,
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("serviceusage.read=600/min", ("serviceusage.read", 10.0)),
        ("serviceusage.write=2/s", ("serviceusage.write", 2.0)),
        (" cloudbilling.read = 30 / min ", ("cloudbilling.read", 0.5)),
        ("resourcemanager.search=1.5/s", ("resourcemanager.search", 1.5)),
    ],
)
def test_parse_rate_limit(spec: str, expected: tuple[str, float]) -> None:
    assert parse_rate_limit(spec) == expected


@pytest.mark.parametrize(
    "spec", ["serviceusage.read", "serviceusage.read=600", "nope.read=1/s", "serviceusage.read=0/s"]
)
def test_parse_rate_limit_rejects(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limit(spec)


def test_defaults_are_the_documented_quotas() -> None:
    assert DEFAULT_PER_MINUTE["serviceusage.read"] == 240
    assert DEFAULT_PER_MINUTE["serviceusage.write"] == 60
    assert DEFAULT_RATE_LIMITS["serviceusage.write"] == 1.0
    assert DEFAULT_PER_MINUTE["cloudbilling.read"] + DEFAULT_PER_MINUTE["cloudbilling.write"] == 300


def test_a_bucket_holds_one_minute_then_paces() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"serviceusage.write": 1.0})
    waits = [limiter.acquire("serviceusage.write") for _ in range(60)]
    assert sum(waits) == 0 and clock.slept == []
    assert limiter.acquire("serviceusage.write") == pytest.approx(1.0)
    assert limiter.acquire("serviceusage.write") == pytest.approx(1.0)
    assert clock.now() == pytest.approx(2.0)


def test_batch_enable_weighs_five_writes() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"serviceusage.write": 1.0})
    for _ in range(12):  # 12 x 5 = one minute of writes
        limiter.acquire("serviceusage.write", BATCH_ENABLE_WEIGHT)
    assert clock.now() == 0
    assert limiter.acquire("serviceusage.write", BATCH_ENABLE_WEIGHT) == pytest.approx(5.0)


def test_empty_mapping_switches_limits_off() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {})
    assert not limiter.enabled
    for _ in range(10_000):
        limiter.acquire("serviceusage.write", 5)
    assert clock.now() == 0


def test_none_means_defaults_and_overrides_merge() -> None:
    limiter = RateLimiter(VirtualClock(), None)
    assert limiter.rate("serviceusage.read") == pytest.approx(4.0)
    merged = RateLimiter(VirtualClock(), {"serviceusage.read": 10.0})
    assert merged.rate("serviceusage.read") == 10.0
    assert merged.rate("cloudbilling.read") == pytest.approx(4.0)


def test_429_with_a_limit_lowers_the_rate_and_empties_the_bucket() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"resourcemanager.read": 100.0})
    limiter.slow_down("resourcemanager.read", limit_per_minute=600, retry_after_s=None)
    assert limiter.rate("resourcemanager.read") == pytest.approx(10.0)
    assert limiter.acquire("resourcemanager.read") == pytest.approx(0.1)


def test_429_with_a_delay_pauses_the_bucket() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"cloudbilling.read": 4.0})
    limiter.slow_down("cloudbilling.read", limit_per_minute=None, retry_after_s=7)
    assert limiter.acquire("cloudbilling.read") == pytest.approx(7.25)


def test_enable_requests_pick_the_cheaper_quota() -> None:
    from bootstrap.gcp.services import enable_requests

    names = [f"s{i}.googleapis.com" for i in range(22)]
    assert enable_requests(names[:1]) == [names[:1]]
    assert enable_requests(names[:4]) == [[n] for n in names[:4]]  # 4 writes < a batch's 5
    assert enable_requests(names[:5]) == [names[:5]]
    # 22 = a batch of 20 (5 writes) + 2 single enables (2 writes), never a 22-id batch.
    assert enable_requests(names) == [names[:20], [names[20]], [names[21]]]
    assert enable_requests([names[0], names[0]]) == [[names[0]]]


def test_a_window_sets_the_rate_and_the_bucket_size() -> None:
    from bootstrap.gcp.ratelimit import parse_rate_limit_window

    assert parse_rate_limit_window("serviceusage.read=240/6s") == ("serviceusage.read", 40.0, 240.0)
    assert parse_rate_limit_window("serviceusage.write=60/2min") == ("serviceusage.write", 0.5, 60)
    assert parse_rate_limit_window("serviceusage.read=240/min") == ("serviceusage.read", 4.0, None)
    assert parse_rate_limit("serviceusage.read=240/6s") == ("serviceusage.read", 40.0)
    with pytest.raises(ValueError):
        parse_rate_limit_window("serviceusage.read=240/0s")


def test_a_stated_window_holds_its_quota_and_a_429_does_not_lower_it() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"serviceusage.read": 40.0}, {"serviceusage.read": 240.0})
    assert sum(limiter.acquire("serviceusage.read") for _ in range(240)) == 0
    assert limiter.acquire("serviceusage.read") == pytest.approx(1 / 40)
    limiter.slow_down("serviceusage.read", limit_per_minute=240, retry_after_s=None)
    assert limiter.rate("serviceusage.read") == 40.0


def test_without_a_write_quota_two_services_are_one_batch() -> None:
    from bootstrap.gcp.services import enable_requests

    names = ["a.googleapis.com", "b.googleapis.com"]
    assert enable_requests(names, write_quota_limited=False) == [names]
    assert enable_requests(names[:1], write_quota_limited=False) == [names[:1]]


def test_priority_slots_serve_earlier_projects_first() -> None:
    import threading
    import time

    from bootstrap.cloud.priority import PrioritySlots

    slots = PrioritySlots(1)
    slots.acquire(0)  # busy
    served: list[int] = []

    def wait_turn(priority: int) -> None:
        slots.acquire(priority)
        served.append(priority)
        slots.release()

    threads = [threading.Thread(target=wait_turn, args=(p,)) for p in (5, 1, 3)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # queue them in the order 5, 1, 3
    slots.release()
    for thread in threads:
        thread.join(timeout=5)
    assert served == [1, 3, 5]


def test_divided_into_two_each_share_holds_and_refills_half() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"serviceusage.write": 1.0})
    limiter.divide(2)
    assert limiter.rate("serviceusage.write") == pytest.approx(0.5)
    waits = [limiter.acquire("serviceusage.write") for _ in range(30)]
    assert sum(waits) == 0  # half of the minute's 60
    assert limiter.acquire("serviceusage.write") == pytest.approx(2.0)  # then 1 per 2 s


def test_a_divided_limiter_lowers_to_its_share_of_the_limit_a_429_names() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, {"resourcemanager.read": 100.0})
    limiter.divide(2)
    # 600 a minute is the caller's whole quota: this worker, one of two, keeps 300 of it.
    limiter.slow_down("resourcemanager.read", limit_per_minute=600, retry_after_s=None)
    assert limiter.rate("resourcemanager.read") == pytest.approx(5.0)

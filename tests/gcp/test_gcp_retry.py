"""The retry loop on a virtual clock, with real google exceptions judged by bootstrap.gcp.exceptions."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import requests
from google.api_core import exceptions as api_exceptions

from bootstrap.causes.retry_after import parse_retry_after
from bootstrap.clock import VirtualClock
from bootstrap.gcp.exceptions import judge, limit_per_minute
from bootstrap.gcp.retry import BackoffPolicy, Judgement, RetryExhausted, RetryLoop, Verdict

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def rate_limited(delay: str | None = None, reason: str = "RATE_LIMIT_EXCEEDED") -> Exception:
    details: list[dict[str, object]] = [
        {"@type": ERROR_INFO, "reason": reason, "domain": "googleapis.com", "metadata": {}}
    ]
    if delay is not None:
        details.append({"@type": RETRY_INFO, "retryDelay": delay})
    return api_exceptions.TooManyRequests("quota", details=details, error_info=details[0])


def make_loop(clock: VirtualClock, refreshes: list[int] | None = None) -> RetryLoop:
    def refresh() -> None:
        if refreshes is not None:
            refreshes.append(1)

    return RetryLoop(
        clock=clock,
        rng=random.Random(0),
        judge=lambda exc: judge(exc, api="serviceusage"),
        refresh=refresh,
    )


class Script:
    """An attempt function that raises the given exceptions in turn, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, remaining: float) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retry_info_delay_is_honoured() -> None:
    clock = VirtualClock()
    script = Script(rate_limited("7s"))
    assert make_loop(clock).run(script, deadline_s=60) == "ok"
    assert script.calls == 2
    assert len(clock.slept) == 1 and 7.0 <= clock.slept[0] < 8.0


def test_retry_after_header_date_in_the_past_means_zero() -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(past) == 0.0
    assert parse_retry_after("12") == 12.0
    now = dt.datetime(2015, 10, 21, 7, 27, 30, tzinfo=dt.UTC)
    assert parse_retry_after(past, now=now) == 30.0
    assert parse_retry_after("garbage") is None


def test_too_long_delay_fails_fast_without_sleeping() -> None:
    clock = VirtualClock()
    script = Script(rate_limited("300s"))
    with pytest.raises(RetryExhausted) as info:
        make_loop(clock).run(script, deadline_s=60)
    assert info.value.too_long and info.value.retry_after_s == 300
    assert "rate limited, retry after 300 s" in str(info.value)
    assert clock.slept == [] and script.calls == 1


def test_401_refreshes_once_then_gives_up() -> None:
    clock = VirtualClock()
    refreshes: list[int] = []
    script = Script(api_exceptions.Unauthorized("expired"), api_exceptions.Unauthorized("again"))
    with pytest.raises(api_exceptions.Unauthorized):
        make_loop(clock, refreshes).run(script, deadline_s=60)
    assert refreshes == [1] and script.calls == 2 and clock.slept == []


def test_401_then_success_after_refresh() -> None:
    refreshes: list[int] = []
    script = Script(api_exceptions.Unauthorized("expired"))
    assert make_loop(VirtualClock(), refreshes).run(script, deadline_s=60) == "ok"
    assert refreshes == [1]


def test_400_is_not_retried() -> None:
    clock = VirtualClock()
    script = Script(api_exceptions.BadRequest("Request contains an invalid argument."))
    with pytest.raises(api_exceptions.BadRequest):
        make_loop(clock).run(script, deadline_s=60)
    assert script.calls == 1 and clock.slept == []


def test_connection_reset_is_retried_with_jittered_backoff() -> None:
    clock = VirtualClock()
    reset = requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
    script = Script(reset, reset, requests.exceptions.ChunkedEncodingError("truncated"))
    assert make_loop(clock).run(script, deadline_s=60) == "ok"
    assert script.calls == 4
    for index, slept in enumerate(clock.slept):
        assert 0 <= slept <= 2**index


def test_lost_answer_of_a_mutation_reads_before_resending() -> None:
    reset = requests.ConnectionError(ConnectionResetError(104, "reset"))
    script = Script(reset)
    rereads: list[int] = []

    def recover(attempts: int) -> str | None:
        rereads.append(attempts)
        return "already applied"

    result = make_loop(VirtualClock()).run(script, deadline_s=60, recover=recover)
    # A lost answer is re-read harder (the change may lag) and never re-sent when found.
    assert result == "already applied" and script.calls == 1 and rereads == [3]


def test_every_resend_of_a_mutation_is_preceded_by_one_reread() -> None:
    script = Script(api_exceptions.ServiceUnavailable("x"), api_exceptions.ServiceUnavailable("x"))
    rereads: list[int] = []

    def recover(attempts: int) -> str | None:
        rereads.append(attempts)
        return None

    assert make_loop(VirtualClock()).run(script, deadline_s=60, recover=recover) == "ok"
    assert script.calls == 3 and rereads == [1, 1]


def test_lost_answer_resends_when_the_reread_finds_nothing() -> None:
    script = Script(requests.ReadTimeout("read timed out"))
    result = make_loop(VirtualClock()).run(script, deadline_s=60, recover=lambda _attempts: None)
    assert result == "ok" and script.calls == 2


def test_deadline_ends_the_retries() -> None:
    clock = VirtualClock()
    errors = [api_exceptions.ServiceUnavailable("down") for _ in range(100)]
    with pytest.raises(RetryExhausted) as info:
        make_loop(clock).run(Script(*errors), deadline_s=60)
    assert not info.value.too_long
    assert clock.now() <= 60


def test_backoff_is_full_jitter_capped_at_32() -> None:
    loop = RetryLoop(
        clock=VirtualClock(),
        rng=random.Random(1),
        judge=lambda exc: Judgement(Verdict.FAIL),
        refresh=lambda: None,
        policy=BackoffPolicy(),
    )
    samples = [loop.backoff(n) for n in range(12) for _ in range(20)]
    assert max(samples) <= 32 and min(samples) >= 0
    assert max(loop.backoff(10) for _ in range(200)) > 16  # the cap, not 2**10


@pytest.mark.parametrize(
    ("exc", "api", "verdict"),
    [
        (rate_limited(), "serviceusage", Verdict.RETRY),
        (rate_limited(reason=""), "serviceusage", Verdict.RETRY),
        (rate_limited(reason="QUOTA_EXHAUSTED_PER_DAY"), "serviceusage", Verdict.FAIL),
        (api_exceptions.InternalServerError("x"), "cloudbilling", Verdict.LOST),
        (api_exceptions.BadGateway("x"), "cloudbilling", Verdict.RETRY),
        (api_exceptions.ServiceUnavailable("x"), "cloudbilling", Verdict.RETRY),
        (api_exceptions.GatewayTimeout("x"), "cloudbilling", Verdict.LOST),
        (api_exceptions.Forbidden("x"), "resourcemanager", Verdict.FAIL),
        (api_exceptions.NotFound("x"), "aiplatform", Verdict.FAIL),
        (
            api_exceptions.BadRequest("Another activation or deactivation is in progress."),
            "serviceusage",
            Verdict.LOST,
        ),
        (api_exceptions.BadRequest("Precondition check failed."), "serviceusage", Verdict.LOST),
        (
            api_exceptions.BadRequest(
                "Precondition check failed.",
                details=[{"@type": ERROR_INFO, "reason": "UREQ_PROJECT_BILLING_NOT_FOUND"}],
                error_info={"reason": "UREQ_PROJECT_BILLING_NOT_FOUND"},
            ),
            "serviceusage",
            Verdict.FAIL,
        ),
        (api_exceptions.BadRequest("Precondition check failed."), "cloudbilling", Verdict.FAIL),
        (requests.ConnectTimeout("connect"), "serviceusage", Verdict.RETRY),
        (requests.ReadTimeout("read"), "serviceusage", Verdict.LOST),
        (ValueError("bad argument"), "serviceusage", Verdict.FAIL),
    ],
)
def test_judge(exc: Exception, api: str, verdict: Verdict) -> None:
    assert judge(exc, api=api).verdict is verdict


def test_429_limit_is_read_per_minute() -> None:
    info = {
        "@type": ERROR_INFO,
        "reason": "RATE_LIMIT_EXCEEDED",
        "metadata": {
            "quota_limit_value": "1200",
            "quota_limit": "ReadRequestsPerMinutePerProject",
        },
    }
    exc = api_exceptions.TooManyRequests("q", details=[info], error_info=info)
    assert limit_per_minute(exc) == 1200
    judged = judge(exc, api="resourcemanager")
    assert judged.rate_limited and judged.limit_per_minute == 1200


def test_waiting_for_our_own_rate_limit_does_not_use_up_the_calls_deadline() -> None:
    """Under a long write queue the token wait can exceed the deadline; a transient error after
    it must still be retried (the soak's one-apply target depends on it)."""
    clock = VirtualClock()
    paces: list[float] = []

    def pace() -> float:
        wait = 90.0 if not paces else 0.0  # queued behind other projects' enables
        clock.sleep(wait)
        paces.append(wait)
        return wait

    script = Script(api_exceptions.ServiceUnavailable("flaky"))
    assert make_loop(clock).run(script, deadline_s=60, pace=pace) == "ok"
    assert script.calls == 2 and paces == [90.0, 0.0]
    other = VirtualClock()

    def uncredited() -> float:  # the same wait, not reported: it counts against the deadline
        other.sleep(90.0)
        return 0.0

    with pytest.raises(RetryExhausted):
        make_loop(other).run(
            Script(api_exceptions.ServiceUnavailable("flaky")), deadline_s=60, pace=uncredited
        )


def test_a_rate_limit_whose_limit_is_zero_is_not_retried() -> None:
    info = {"@type": ERROR_INFO, "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
            "metadata": {"quota_limit_value": "0", "quota_limit": "RequestsPerMinute"}}  # fmt: skip
    zero = api_exceptions.TooManyRequests("quota", details=[info], error_info=info)
    assert judge(zero, api="serviceusage").verdict is Verdict.FAIL
    assert judge(rate_limited(), api="serviceusage").verdict is Verdict.RETRY


def test_a_rate_limit_on_a_daily_quota_is_not_retried() -> None:
    """Policy Analyzer answers 20 queries a day without Security Command Center: waiting within
    the run cannot pass it, so the caller falls back at once instead of retrying to its deadline."""
    info = {"@type": ERROR_INFO, "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
            "metadata": {"quota_limit_value": "20",
                         "quota_limit": "AnalyzeOrgPolicyRequestsPerDayPerOrganization"}}  # fmt: skip
    daily = api_exceptions.TooManyRequests("quota", details=[info], error_info=info)
    judgement = judge(daily, api="cloudasset")
    assert judgement.verdict is Verdict.FAIL and judgement.rate_limited

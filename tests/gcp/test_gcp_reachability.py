"""The call layer's ledgers: a dead endpoint stops after a few attempts, mutations whose answer
had not arrived are known, retries and waits are told as data, and final failures say so."""

from __future__ import annotations

import contextlib

import requests
import urllib3.exceptions
from google.api_core import exceptions as api_exceptions

from bootstrap.causes.context import CallContext
from bootstrap.clock import VirtualClock
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.inflight import InFlight
from bootstrap.gcp.ratelimit import RateLimiter
from bootstrap.gcp.reachability import REFUSED_LIMIT, EndpointUnreachable, refusal
from bootstrap.gcp.retry import RetryEvent, RetryEventKind

CONTEXT = CallContext(project_id="demo-ready")
ENDPOINT = "127.0.0.1:1 (from BOOTSTRAP_EMULATOR_HOST)"


def make_caller(clock: VirtualClock, events: list[RetryEvent] | None = None) -> Caller:
    return Caller(
        clock=clock,
        limiter=RateLimiter(clock, {}),
        concurrency=4,
        timeout_s=30,
        deadline_s=60,
        refresh=lambda: None,
        seed=0,
        endpoint=ENDPOINT,
        endpoint_remedy="start the emulator",
        notify=events.append if events is not None else None,
    )


def refused() -> requests.ConnectionError:
    """What requests raises when nothing listens: refused, wrapped three deep."""
    new = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    new.__context__ = ConnectionRefusedError(111, "Connection refused")
    retry = urllib3.exceptions.MaxRetryError(None, "/x", new)  # type: ignore[arg-type]
    return requests.ConnectionError(retry)


def test_refusal_is_found_inside_the_wrappers() -> None:
    assert refusal(refused()) == "connection refused"
    assert refusal(requests.ReadTimeout("slow")) is None


def test_a_dead_endpoint_stops_after_the_limit_without_sending_more() -> None:
    caller = make_caller(VirtualClock())
    sent: list[int] = []

    def send(_timeout: float) -> str:
        sent.append(1)
        raise refused()

    failures = []
    for _ in range(5):  # five calls, as five projects would make
        try:
            caller.call("resourcemanager.projects.get", send, bucket="x", context=CONTEXT)
        except BootstrapError as error:
            failures.append(error)
    assert len(sent) == REFUSED_LIMIT  # counted in attempts, whatever the clock says
    assert all(isinstance(f, EndpointUnreachable) for f in failures)
    failure = failures[-1].failure
    assert failure.cause is Cause.UNAVAILABLE
    assert ENDPOINT in failure.message and "connection refused" in failure.message
    assert failure.remedy == "start the emulator"


def test_after_an_answer_refusals_are_ordinary_retries() -> None:
    caller = make_caller(VirtualClock())
    answers: list[Exception | str] = [api_exceptions.ServiceUnavailable("down")]
    answers += [refused() for _ in range(REFUSED_LIMIT + 1)] + ["ok"]

    def send(_timeout: float) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert caller.call("resourcemanager.projects.get", send, bucket="x", context=CONTEXT) == "ok"
    assert caller.reachability.failure is None


def test_retries_and_the_give_up_are_told_as_events() -> None:
    events: list[RetryEvent] = []
    caller = make_caller(VirtualClock(), events)

    def send(_timeout: float) -> str:
        raise api_exceptions.InternalServerError("boom")

    try:
        caller.call("serviceusage.services.get", send, bucket="x", context=CONTEXT)
    except BootstrapError as error:
        failure = error.failure
    kinds = [e.kind for e in events]
    assert kinds[-1] is RetryEventKind.GAVE_UP and set(kinds[:-1]) == {RetryEventKind.BACKOFF}
    assert all(e.method == "serviceusage.services.get" for e in events)
    assert all(e.project_id == "demo-ready" for e in events)
    assert [e.attempts for e in events] == list(range(1, len(events) + 1))
    assert all(e.delay_s > 0 for e in events[:-1]) and "HTTP 500" in events[0].error
    # The final words: an internal error, retried, not "temporarily unavailable".
    retried = len(events) - 1
    assert f"internal error (HTTP 500, retried {retried} times over" in failure.message
    assert "temporarily" not in failure.message and "retries this" not in failure.remedy


def test_a_rate_limit_that_ran_out_says_it_failed() -> None:
    caller = make_caller(VirtualClock())

    def send(_timeout: float) -> str:
        raise api_exceptions.TooManyRequests("slow down")

    try:
        caller.call("cloudbilling.projects.get", send, bucket="x", context=CONTEXT)
    except BootstrapError as error:
        message = error.failure.message
    assert "rate limited" in message and "failed after" in message and " s." in message
    assert "slows down and retries" not in message


def test_a_mutation_sent_without_an_answer_stays_in_flight_on_interrupt() -> None:
    ledger = InFlight()
    try:
        with ledger.mutation("serviceusage.services.batchEnable for project p") as sending:
            sending.sending()
            raise KeyboardInterrupt  # Ctrl-C while the request is on the wire
    except KeyboardInterrupt:
        pass
    assert ledger.uncertain_mutations() == ["serviceusage.services.batchEnable for project p"]


def test_a_mutation_that_was_answered_or_never_sent_is_not_in_flight() -> None:
    ledger = InFlight()
    for answered in (True, False):
        try:
            with ledger.mutation("billing link") as sending:
                if answered:
                    sending.sending()
                    sending.answered(lost=False)  # a 403 came back: not applied
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass
    with ledger.mutation("done"):
        pass
    assert ledger.uncertain_mutations() == []


def test_the_caller_marks_a_lost_mutation_answer_as_uncertain() -> None:
    caller = make_caller(VirtualClock())

    def send(_timeout: float) -> str:
        raise requests.ConnectionError("reset by peer")  # sent; the answer was lost

    def recover(_attempts: int) -> str | None:
        raise KeyboardInterrupt  # Ctrl-C during the re-read that follows

    with contextlib.suppress(KeyboardInterrupt):
        caller.call(
            "serviceusage.services.enable", send, bucket="x", context=CONTEXT, recover=recover
        )
    assert caller.in_flight.uncertain_mutations() == [
        "serviceusage.services.enable for project demo-ready"
    ]

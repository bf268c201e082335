"""Every request to Google goes through `Caller.call`: rate limit, concurrency slot, retries, stats.

The order matters. A request first waits for a rate-limit token (on the clock, holding nothing),
then takes one of `concurrency` slots only for the time it is on the wire; backoff sleeps and
operation polling happen outside the slot, so a project that waits never blocks the others.
Failures leave as BootstrapError(Failure) with the google exception chained (`raise ... from`).

Around the wire, each attempt also feeds `Reachability` (a dead endpoint stops the run after a
few refused attempts) and, for a mutation, `InFlight` (what an interrupt may have left applied);
each wait is told to `notify` as a `RetryEvent`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from bootstrap.causes.context import CallContext
from bootstrap.clock import Clock
from bootstrap.cloud.priority import REQUEST_PRIORITY, PrioritySlots
from bootstrap.cloud.protocol import CallStats
from bootstrap.errors import BootstrapError, Cause, Failure
from bootstrap.gcp.exceptions import is_answer, judge, to_failure
from bootstrap.gcp.inflight import InFlight, Sending
from bootstrap.gcp.ratelimit import RateLimiter
from bootstrap.gcp.reachability import Reachability
from bootstrap.gcp.retry import (
    Judgement,
    Notify,
    Observer,
    RetryEvent,
    RetryEventKind,
    RetryLoop,
    Verdict,
)

T = TypeVar("T")

APIS = (
    "resourcemanager",
    "cloudbilling",
    "serviceusage",
    "aiplatform",
    "orgpolicy",
    "cloudquotas",
    "cloudasset",
)

# After a lost answer, how often and how far apart to re-read before sending again: the state
# may lag behind the change (Terraform re-reads billing 3 times, 3 s apart, for the same reason).
REREAD_ATTEMPTS = 3
REREAD_SPACING_S = 3.0


def reread(
    read: Callable[[], T | None],
    *,
    clock: Clock,
    attempts: int = REREAD_ATTEMPTS,
    spacing_s: float = REREAD_SPACING_S,
) -> T | None:
    """`read()` until it finds the change (not None), at most `attempts` times; else None."""
    for index in range(attempts):
        if index:
            clock.sleep(spacing_s)
        found = read()
        if found is not None:
            return found
    return None


class Caller:
    """Shared by all calls of one GcpCloud; thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock,
        limiter: RateLimiter,
        concurrency: int,
        timeout_s: float,
        deadline_s: float,
        refresh: Callable[[], None],
        seed: int | None = None,
        login_remedy: str | None = None,
        endpoint: str = "the API endpoint",
        endpoint_remedy: str = "check the network (proxy, firewall) and rerun",
        notify: Notify | None = None,
    ) -> None:
        self.stats = CallStats()
        self.reachability = Reachability(endpoint, remedy=endpoint_remedy)
        self.in_flight = InFlight()
        self._notify = notify
        self._login_remedy = login_remedy
        self._limiter = limiter
        self._concurrency = concurrency
        self._slots = PrioritySlots(concurrency)
        self._timeout_s = timeout_s
        self._deadline_s = deadline_s
        rng = random.Random(seed)
        self._loops = {
            api: RetryLoop(
                clock=clock,
                rng=rng,
                judge=_judge_for(api),
                refresh=refresh,
                on_retry=self.stats.add_retry,
            )
            for api in APIS
        }

    def divide(self, parts: int) -> None:
        """Keep one of `parts` shares of the rate limits and of the concurrency (at least one
        slot): a forked worker's, before it sends anything."""
        self._limiter.divide(parts)
        self._slots = PrioritySlots(max(1, self._concurrency // parts))

    def call(
        self,
        method: str,
        send: Callable[[float], T],
        *,
        bucket: str,
        context: CallContext,
        weight: float = 1.0,
        recover: Callable[[int], T | None] | None = None,
        deadline_s: float | None = None,
    ) -> T:
        """Run `send(timeout_s)` for "<api>.<method>" with limits and retries; see module doc.

        `recover` makes it a mutation: see `RetryLoop.run`. `context` says what the call is
        about (its `api` is filled in from `method`).
        """
        api = method.partition(".")[0]
        notify = self._notifier(method, context)
        try:
            if recover is None:
                return self._loops[api].run(
                    self._attempt(method, send),
                    deadline_s=deadline_s or self._deadline_s,
                    observe=self._observer(bucket),
                    notify=notify,
                    pace=self._pacer(bucket, weight, notify),
                )
            with self.in_flight.mutation(_describe(method, context)) as sending:
                return self._loops[api].run(
                    self._attempt(method, send, sending=sending),
                    deadline_s=deadline_s or self._deadline_s,
                    recover=recover,
                    observe=self._observer(bucket),
                    notify=notify,
                    pace=self._pacer(bucket, weight, notify),
                )
        except BootstrapError:
            raise
        except Exception as exc:
            raise BootstrapError(self._failure(exc, context, api=api)) from exc

    def pages(
        self,
        method: str,
        list_page: Callable[[dict[str, Any], float], Any],
        request: dict[str, Any],
        *,
        bucket: str,
        context: CallContext,
    ) -> Iterator[Any]:
        """Each page of a paged list call, following `next_page_token` until it is empty; every
        page is one `call` (`list_page(request, timeout_s)`), read only when the previous one has
        been handled."""
        token = ""
        while True:
            send = partial(list_page, {**request, "page_token": token})
            page = self.call(method, send, bucket=bucket, context=context)
            yield page
            token = page.next_page_token
            if not token:
                return

    def _pacer(self, bucket: str, weight: float, notify: Notify | None) -> Callable[[], float]:
        """Before each attempt: stop if the endpoint is dead, then wait (holding nothing) for a
        rate-limit token; returns the wait, which the retry loop does not count as the call's."""

        def pace() -> float:
            self.reachability.check()  # a dead endpoint: nothing more is sent, nor waited for
            waited = self._limiter.acquire(bucket, weight)
            if waited > 0 and notify is not None:
                notify(RetryEvent(kind=RetryEventKind.RATE_LIMIT_WAIT, attempts=0, delay_s=waited))
            return waited

        return pace

    def _attempt(
        self, method: str, send: Callable[[float], T], sending: Sending | None = None
    ) -> Callable[[float], T]:
        """One attempt: a concurrency slot while on the wire."""

        def attempt(remaining_s: float) -> T:
            self._slots.acquire(REQUEST_PRIORITY.get())
            try:
                self.stats.add_request(method)
                return self._on_the_wire(method, send, min(self._timeout_s, remaining_s), sending)
            finally:
                self._slots.release()

        return attempt

    def _on_the_wire(
        self, method: str, send: Callable[[float], T], timeout_s: float, sending: Sending | None
    ) -> T:
        """Send once, telling the ledgers whether an answer came back."""
        if sending is not None:
            sending.sending()
        try:
            result = send(timeout_s)
        except Exception as exc:
            if sending is not None:
                lost = _judge_for(method.partition(".")[0])(exc).verdict is Verdict.LOST
                sending.answered(lost=lost)
            if is_answer(exc):
                self.reachability.answered()
            self.reachability.failed(exc)  # raises EndpointUnreachable at the limit
            raise
        self.reachability.answered()
        return result

    def _notifier(self, method: str, context: CallContext) -> Notify | None:
        """The sink's callback with the call's method and project filled in."""
        sink = self._notify
        if sink is None:
            return None

        def notify(event: RetryEvent) -> None:
            sink(replace(event, method=method, project_id=context.project_id))

        return notify

    def _observer(self, bucket: str) -> Observer:
        """Count 429s and slow the bucket down to the limit and delay the server named."""

        def observe(exc: BaseException, judgement: Judgement) -> None:
            if judgement.rate_limited:
                self.stats.add_rate_limited()
                self._limiter.slow_down(
                    bucket,
                    limit_per_minute=judgement.limit_per_minute,
                    retry_after_s=judgement.retry_after_s,
                )

        return observe

    def _failure(self, exc: Exception, context: CallContext, *, api: str) -> Failure:
        failure = to_failure(exc, context, api=api)
        if failure.cause is Cause.UNAUTHENTICATED and self._login_remedy:
            failure = replace(failure, remedy=self._login_remedy)
        if failure.cause is Cause.UNAVAILABLE and failure.http_status is None:
            # No answer at all: which endpoint was tried, and why that one, is the first clue.
            where = f" (endpoint: {self.reachability.endpoint})"
            failure = replace(failure, message=failure.message.rstrip(".") + where + ".")
        return failure


def _describe(method: str, context: CallContext) -> str:
    """'serviceusage.services.batchEnable for project P': a mutation, for the interrupt list."""
    return f"{method} for project {context.project_id}" if context.project_id else method


def _judge_for(api: str) -> Callable[[BaseException], Judgement]:
    def judge_api(exc: BaseException) -> Judgement:
        if isinstance(exc, BootstrapError):
            return Judgement(Verdict.FAIL)
        return judge(exc, api=api)

    return judge_api

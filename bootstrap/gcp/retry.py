"""The one retry loop every Google call goes through (the GAPIC clients are called with retry=None).

Policy (shared/reference/reliability-notes.md §1.8): full-jitter exponential backoff starting at
1 s, doubling, capped at 32 s, inside a per-call deadline (reads 60 s). A delay the server asks
for (`RetryInfo.retryDelay`, `Retry-After`) is honoured: the loop never sleeps less than asked,
and when the asked delay does not fit in the remaining deadline it gives up at once with "rate
limited, retry after N s" instead of hanging. A 401 earns one credential refresh and one immediate
retry. A mutation whose answer was lost (reset or timeout after the request went out) is not sent
again blindly: the caller's `recover` re-reads the state first and either returns the result or
lets the loop send again.

Which errors are retryable is decided by a `judge` passed in (bootstrap.gcp.exceptions.judge), so this
module knows nothing of google exceptions; sleeps go through the injected Clock and jitter through
a seeded `random.Random`, so tests replay exactly.

Each wait and each give-up is also told, as a `RetryEvent` value, to the call's `notify`
callback, so that a live view or a log can show a run that is waiting rather than stuck.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from bootstrap.clock import Clock

T = TypeVar("T")


# Reads before re-sending a mutation whose answer was lost (the change may lag, as on Google).
REREADS_AFTER_LOST = 3


class Verdict(StrEnum):
    RETRY = "retry"  # transient: back off and send again
    REFRESH = "refresh"  # 401: refresh the credentials once and send again at once
    LOST = "lost"  # the request may have been applied but the answer was lost
    FAIL = "fail"  # permanent: give up now


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the judge made of one failed attempt."""

    verdict: Verdict
    retry_after_s: float | None = None  # the delay the server asked for, if any
    rate_limited: bool = False  # a 429
    limit_per_minute: float | None = None  # the quota limit the 429 named, if any


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    initial_s: float = 1.0
    multiplier: float = 2.0
    cap_s: float = 32.0


class RetryEventKind(StrEnum):
    BACKOFF = "backoff"  # a failed attempt; sleeping `delay_s` before the next
    REFRESH = "refresh"  # a 401; credentials refreshed, sending again at once
    GAVE_UP = "gave_up"  # the last attempt failed; the call fails
    RATE_LIMIT_WAIT = "rate_limit_wait"  # waited `delay_s` for the client-side rate limit


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryEvent:
    """One wait or give-up of one call, as data (no wording: the view decides)."""

    kind: RetryEventKind
    attempts: int  # attempts made so far
    delay_s: float = 0.0  # the wait this event announces (0 for refresh and give-up)
    elapsed_s: float = 0.0  # since the call started
    error: str = ""  # what the failed attempt was (exception type and HTTP status)
    retry_after_s: float | None = None  # the delay the server asked for, if any
    rate_limited: bool = False  # the failed attempt was a 429 (the server's quota, not ours)
    method: str = ""  # "<api>.<method>", filled in by the caller
    project_id: str | None = None


Notify = Callable[[RetryEvent], None]


class RetryExhausted(Exception):
    """The loop gave up on a retryable error; `last` is the final attempt's exception."""

    def __init__(
        self,
        last: BaseException,
        *,
        attempts: int,
        retry_after_s: float | None,
        too_long: bool,
        elapsed_s: float = 0.0,
    ) -> None:
        if too_long:
            text = f"rate limited, retry after {retry_after_s:.0f} s"
        else:
            text = f"gave up after {attempts} attempts"
        super().__init__(text)
        self.last = last
        self.attempts = attempts
        self.retry_after_s = retry_after_s
        self.too_long = too_long  # the server asked for more than the remaining deadline
        self.elapsed_s = elapsed_s  # from the first attempt to giving up


Judge = Callable[[BaseException], Judgement]
Observer = Callable[[BaseException, Judgement], None]


@dataclass(slots=True)
class _Call:
    """The state of one call in the shared loop."""

    start: float
    deadline_s: float
    notify: Notify | None
    retries: int = 0  # backoffs slept so far
    paced_s: float = 0.0  # waited for our own rate limit: not the server's time, not counted

    def remaining(self, now: float) -> float:
        return self.deadline_s - (now - self.start - self.paced_s)


class RetryLoop:
    """Runs one call with retries; shared by every call of a GcpCloud (it holds no per-call state)."""

    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
        judge: Judge,
        refresh: Callable[[], None],
        policy: BackoffPolicy | None = None,
        observe: Observer | None = None,
        on_retry: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self._rng = rng
        self._judge = judge
        self._refresh = refresh
        self._policy = policy or BackoffPolicy()
        self._observe = observe
        self._on_retry = on_retry

    def backoff(self, retry_index: int) -> float:
        """Full jitter: uniform(0, min(cap, initial * multiplier**n))."""
        p = self._policy
        ceiling = min(p.cap_s, p.initial_s * p.multiplier**retry_index)
        return self._rng.uniform(0.0, ceiling)

    def run(
        self,
        attempt: Callable[[float], T],
        *,
        deadline_s: float,
        recover: Callable[[int], T | None] | None = None,
        observe: Observer | None = None,
        notify: Notify | None = None,
        pace: Callable[[], float] | None = None,
    ) -> T:
        """Call `attempt(remaining_s)` until it returns, a permanent error, or the deadline.

        `pace()` runs before each attempt and returns its wait for our own rate limit, which the
        deadline does not count (a long write queue would leave no time for one retry).

        `recover(attempts)` marks a mutation: before any re-send it re-reads the state (up to
        `attempts` reads; more after a LOST answer) and returns the call's result when the change
        is already in effect, or None to send again; without it a LOST answer is retried (reads).
        `observe` sees each failed attempt's judgement; `notify` each wait and the give-up."""
        call = _Call(start=self._clock.now(), deadline_s=deadline_s, notify=notify)
        refreshed = False
        while True:
            if pace is not None:
                call.paced_s += pace()
            try:
                return attempt(max(call.remaining(self._clock.now()), 0.001))
            except Exception as exc:
                judgement = self._judged(exc, observe)
                if judgement.verdict is Verdict.FAIL:
                    raise
                if judgement.verdict is Verdict.REFRESH:
                    if refreshed:
                        raise
                    refreshed = True
                    self._refresh_credentials(call, exc, judgement)
                    continue
                self._back_off(exc, judgement, call)
                found = self._reread(recover, judgement)
                if found is not None:
                    return found  # the change was made; only its answer was lost

    def _refresh_credentials(self, call: _Call, exc: BaseException, judgement: Judgement) -> None:
        """A 401: new credentials, once per call, then the same request again."""
        self._refresh()
        self._count_retry()
        self._tell(call, RetryEventKind.REFRESH, exc, judgement)

    def _judged(self, exc: BaseException, observe: Observer | None) -> Judgement:
        """The judge's verdict on a failed attempt, shown to both observers (loop's, then call's)."""
        judgement = self._judge(exc)
        if self._observe is not None:
            self._observe(exc, judgement)
        if observe is not None:
            observe(exc, judgement)
        return judgement

    @staticmethod
    def _reread(recover: Callable[[int], T | None] | None, judgement: Judgement) -> T | None:
        """A mutation is never re-sent blindly: re-read just before re-sending. After a lost
        answer the change may take a moment to show: look harder."""
        if recover is None:
            return None
        return recover(REREADS_AFTER_LOST if judgement.verdict is Verdict.LOST else 1)

    def _back_off(self, exc: BaseException, judgement: Judgement, call: _Call) -> None:
        """Sleep before the next attempt, or raise RetryExhausted when the sleep would not fit."""
        remaining = call.remaining(self._clock.now())
        asked = judgement.retry_after_s
        too_long = asked is not None and asked > remaining
        # Never less than the server asked for; jitter still spreads callers when it asked for 0.
        # (No jitter is drawn when giving up for too long a delay: the seeded sequence stays.)
        delay = 0.0 if too_long else max(asked or 0.0, self.backoff(call.retries))
        if too_long or delay >= remaining:
            self._tell(call, RetryEventKind.GAVE_UP, exc, judgement)
            raise RetryExhausted(
                exc,
                attempts=call.retries + 1,
                retry_after_s=asked,
                too_long=too_long,
                elapsed_s=self._clock.now() - call.start,
            )
        self._tell(call, RetryEventKind.BACKOFF, exc, judgement, delay_s=delay)
        self._clock.sleep(delay)
        call.retries += 1
        self._count_retry()

    def _tell(
        self,
        call: _Call,
        kind: RetryEventKind,
        exc: BaseException,
        judgement: Judgement,
        *,
        delay_s: float = 0.0,
    ) -> None:
        if call.notify is None:
            return
        status = getattr(exc, "code", None)
        error = type(exc).__name__ + (f" (HTTP {status})" if isinstance(status, int) else "")
        call.notify(
            RetryEvent(
                kind=kind,
                attempts=call.retries + 1,
                delay_s=delay_s,
                elapsed_s=self._clock.now() - call.start,
                error=error,
                retry_after_s=judgement.retry_after_s,
                rate_limited=judgement.rate_limited,
            )
        )

    def _count_retry(self) -> None:
        if self._on_retry is not None:
            self._on_retry()

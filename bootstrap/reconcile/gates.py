"""Readiness gates: re-read until a change is visible, with backoff, instead of sleeping blindly.

Google's control planes are eventually consistent: an API reads ENABLED before its data plane
stops answering SERVICE_DISABLED, and billing links take a moment to show. A gate reads at once,
then again after 0.5 s, growing x1.4 up to 10 s between reads, until `ready` or the deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bootstrap.clock import Clock
from bootstrap.errors import Cause, Disposition, Failure

T = TypeVar("T")

FIRST_DELAY_S = 0.5
MULTIPLIER = 1.4
MAX_DELAY_S = 10.0


class GateTimeout(Exception):
    """The change never became visible within the deadline."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def gate_delays(deadline_s: float) -> list[float]:
    """The waits between reads of one gate: 0.5, 0.7, 0.98, ... capped at 10 s, within the deadline."""
    delays, total, delay = [], 0.0, FIRST_DELAY_S
    while total + delay <= deadline_s:
        delays.append(delay)
        total += delay
        delay = min(delay * MULTIPLIER, MAX_DELAY_S)
    return delays


def wait_until(
    read: Callable[[], T],
    ready: Callable[[T], bool],
    *,
    clock: Clock,
    deadline_s: float,
    cause: Cause,
    message: str,
    raise_on_timeout: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> T:
    """Call `read` until `ready(value)`; return the last value read. `on_wait` is called once,
    before the first sleep, so a live view shows the wait only when there is one."""
    value = read()
    for index, delay in enumerate(gate_delays(deadline_s)):
        if ready(value):
            return value
        if index == 0 and on_wait is not None:
            on_wait()
        clock.sleep(delay)
        value = read()
    if ready(value) or not raise_on_timeout:
        return value
    raise GateTimeout(
        Failure(
            cause=cause,
            message=f"{message} after waiting {deadline_s:.0f} s.",
            remedy="the change may still be propagating; rerun the same command in a few minutes",
            disposition=Disposition.RETRY,
        )
    )

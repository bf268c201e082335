"""Time as a dependency: everything that waits (backoff, polling, rate limits, gates) takes a Clock.

Tests pass a virtual clock whose `sleep` returns at once (and may advance the emulator's clock too),
so retries and propagation lags run in milliseconds without changing the code under test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """A clock that only moves when slept on or advanced; thread-safe.

    `on_advance` is called with every advance (for example to move the emulator's clock by the
    same amount), so both sides of a test agree on what time it is.
    """

    def __init__(self, start: float = 0.0, on_advance: AdvanceHook | None = None) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._on_advance = on_advance
        self.slept: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            self._now += seconds
            self.slept.append(seconds)
        if self._on_advance is not None and seconds > 0:
            self._on_advance(seconds)
        # Let other threads run, as a real sleep would.
        time.sleep(0)


class AdvanceHook(Protocol):
    def __call__(self, seconds: float) -> None: ...


class FastForwardClock:
    """A clock that fast-forwards waits on the emulator instead of sleeping through them.

    `now()` is real monotonic time plus every wait skipped so far, so durations in reports read as
    they would against the real cloud; `sleep()` returns at once after moving the emulator's
    virtual clock by the same amount (operations complete, propagation lags pass). Used by the
    demo and by tests that must not sleep.
    """

    def __init__(self, advance: Callable[[float], None]) -> None:
        self._advance = advance
        self._skipped = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.monotonic() + self._skipped

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._skipped += seconds
        self._advance(seconds)

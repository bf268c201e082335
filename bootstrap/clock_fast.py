"""A clock that fast-forwards waits on the emulator instead of sleeping through them.

`now()` is real monotonic time plus every wait skipped so far, so durations in reports read as
they would against the real cloud; `sleep()` returns at once after moving the emulator's virtual
clock by the same amount (operations complete, propagation lags pass). Used by the demo and by
tests that must not sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class FastForwardClock:
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

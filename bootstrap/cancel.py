"""Ctrl-C across threads: the main thread sets an event; workers notice it at their next wait.

SIGINT only interrupts the main thread. The reconciler's workers wait through their clock
(backoff, operation polls, readiness gates), so a clock that raises `Cancelled` once the event
is set stops them promptly; an operation wait turns that into `OperationInterrupted`, naming the
operation still running on Google's side so the user knows what a rerun will pick up.
"""

from __future__ import annotations

import threading

from bootstrap.clock import Clock, FastForwardClock, SystemClock


class Cancelled(KeyboardInterrupt):
    """A worker stopped because the run was interrupted."""


class Interrupted(KeyboardInterrupt):
    """The run was interrupted; `operations` are still running server-side."""

    def __init__(self, operations: tuple[str, ...] = ()) -> None:
        super().__init__("interrupted")
        self.operations = operations


class CancellableClock:
    """Wraps a clock so that every wait ends early, raising Cancelled, once `event` is set."""

    def __init__(self, inner: Clock, event: threading.Event) -> None:
        self._inner = inner
        self._event = event

    @property
    def inner(self) -> Clock:
        """The wrapped clock (`bootstrap.clock.unwrap` finds a FastForwardClock's pools through it)."""
        return self._inner

    def now(self) -> float:
        return self._inner.now()

    def sleep(self, seconds: float) -> None:
        if self._event.is_set():
            raise Cancelled()
        if isinstance(self._inner, SystemClock):
            # Waiting on the event instead of time.sleep wakes the worker at once on Ctrl-C.
            if self._event.wait(max(0.0, seconds)):
                raise Cancelled()
            return
        if isinstance(self._inner, FastForwardClock):
            # Its sleeps block until virtual time comes; the event must end them too.
            self._inner.sleep(seconds, cancel=self._event)
        else:
            self._inner.sleep(seconds)
        if self._event.is_set():
            raise Cancelled()

"""A thread pool that tells how many of its tasks are done, for the smoke phase's progress.

The smoke runner takes a pool factory (`pool(workers) -> Executor`) and submits one task per
stream; wrapping that factory lets the job report `SmokeProgress(done, total)` without the
runner knowing anyone watches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import ParamSpec, TypeVar

from bootstrap.reconcile.events import EventSink, SmokeProgress

P = ParamSpec("P")
T = TypeVar("T")

PoolFactory = Callable[[int], Executor]


class CountingPool(Executor):
    """Delegates to `inner`; at each submit and each finished task tells `on_event`
    ("", SmokeProgress(done, total))."""

    def __init__(self, inner: Executor, on_event: EventSink) -> None:
        self._inner = inner
        self._on_event = on_event
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            self._total += 1
            event = SmokeProgress(done=self._done, total=self._total)
        self._on_event("", event)  # the phase's start (and its size) shows before any result
        future = self._inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _finished(self, _future: Future[T]) -> None:
        with self._lock:
            self._done += 1
            event = SmokeProgress(done=self._done, total=self._total)
        self._on_event("", event)


def counting(factory: PoolFactory, on_event: EventSink | None) -> PoolFactory:
    """`factory`, its pools counting their tasks for `on_event` (unchanged when nobody listens)."""
    if on_event is None:
        return factory
    sink: EventSink = on_event
    return lambda workers: CountingPool(factory(workers), sink)

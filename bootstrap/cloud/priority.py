"""Which requests go first when every HTTP slot is busy: those of projects started earlier.

A run starts all its projects at once, so they reach each step together: every project reads,
then every project links, then every project waits for its operations while the slots sit idle.
Serving requests by project order instead of arrival order lets the first projects race ahead
to their operation waits while later projects' requests fill the slots, so the waits overlap
with useful work. The reconciler sets `REQUEST_PRIORITY` per project (lower goes first); the
cloud layer's slots read it. Pure standard library: no google imports.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from contextvars import ContextVar

REQUEST_PRIORITY: ContextVar[int] = ContextVar("request_priority", default=0)


class PrioritySlots:
    """A counting semaphore whose waiters are served lowest priority first (FIFO among equals).

    A released slot is handed straight to the best waiter, so waking costs one thread, not all.
    """

    def __init__(self, slots: int) -> None:
        self._free = max(1, slots)
        self._lock = threading.Lock()
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._order = itertools.count()

    def acquire(self, priority: int) -> None:
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return
            handed = threading.Event()
            heapq.heappush(self._waiting, (priority, next(self._order), handed))
        handed.wait()

    def try_acquire(self) -> bool:
        """Take a slot only if one is free now (no waiting)."""
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return True
            return False

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                heapq.heappop(self._waiting)[2].set()  # the slot passes on without being freed
            else:
                self._free += 1

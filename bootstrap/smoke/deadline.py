"""The whole-call deadline of a smoke stream, first byte to last.

httpx timeouts apply per socket read, so a server sending one token a minute never trips them.
One thread per run (`Deadlines`) ends every stream still open at its deadline by shutting its
socket down (which wakes a read blocked in another thread, where close would not), and
`lines_until` checks the deadline after each line as a cheap second guard.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any


class _Watch:
    """One stream's deadline: ended by the run's deadline thread if still open when it passes."""

    def __init__(self, response: Any) -> None:
        self.fired = False
        self.cancelled = False
        self._response = response

    def fire(self) -> None:
        # A closed response may already have handed its connection back to the pool for
        # another case: never touch it then.
        if self.cancelled or self._response.is_closed:
            return
        self.fired = True
        sock = _socket_of(self._response)
        if sock is not None:
            # shutdown wakes a read blocked on this socket in another thread; close would not.
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        else:
            with suppress(Exception):
                self._response.close()

    def cancel(self) -> None:
        self.cancelled = True


class Deadlines:
    """One thread that ends every stream still open at its deadline, for a whole run.

    A timer thread per stream cost milliseconds to start when 100 streams began at once, and that
    start-up landed inside each stream's measured time.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="smoke-deadlines", daemon=True)
        self._thread.start()

    def watch(self, response: Any, deadline: float) -> _Watch:
        watch = _Watch(response)
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            if self._heap[0][2] is watch:
                # Only a new earliest deadline changes how long the thread sleeps. Streams of one
                # run share one timeout, so in a burst of 100 this wakes it once, not 100 times.
                self._wake.notify()
        return watch

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while not self._closed:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, _, watch = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._heap)
                watch.fire()


def _socket_of(response: Any) -> socket.socket | None:
    stream = getattr(response, "extensions", {}).get("network_stream")
    if stream is None:
        return None
    with suppress(Exception):
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            return sock
    return None


class DeadlineExceeded(Exception):
    pass


def lines_until(lines: Iterator[str], deadline: float) -> Iterator[str]:
    """The lines, checking the deadline after each: a cheap second guard beside the watchdog."""
    clock = time.monotonic
    for line in lines:
        if clock() > deadline:
            raise DeadlineExceeded
        yield line

"""Time as a dependency: everything that waits (backoff, polling, rate limits, gates) takes a Clock.

Unit tests pass a `VirtualClock`, whose `sleep` returns at once. Runs on the emulator (the demo,
CLI tests, the chaos soak) pass a `FastForwardClock`: a discrete-event clock on which concurrent
sleeps overlap as they would on a wall clock, so retries and propagation lags take milliseconds
while every call's deadline still measures that call's own waiting.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# A counted worker that shows no progress for this long is taken to be blocked on something the
# clock cannot see, and time moves anyway rather than deadlock. Long enough that no request on
# the emulator (the soak's 300 ms delay fault included) is skipped over while in flight.
STALL_S = 1.0
# How often sleepers that can be cancelled (Ctrl-C) are looked at while time stands still.
CANCEL_POLL_S = 0.05
# How long the coordinator thread stays with nobody asleep before it exits.
LINGER_S = 0.5


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
    """Discrete-event time on the emulator: waits are skipped, yet overlap as on a wall clock.

    `now()` is real monotonic time plus every skip so far. A `sleep` does not return at once:
    the sleeper waits until its wake-up time comes, either in real time or because the clock
    skipped to it. The clock skips only when no counted worker can act first: every task of a
    `worker_pool`, every `worker()` block, minus those asleep here or waiting on a future through
    `wait_result`. A worker in an HTTP call is neither, so time never jumps over a request in
    flight. Then it moves the emulator (`advance`) and itself to the earliest wake-up, so sixteen
    workers backing off 2 s each spend 2 s, not 32, and each call's deadline measures that call's
    own waiting. A thread that is not counted (the main thread, a test) may still sleep here: when
    nobody counted is active its sleep is skipped at once, as before.

    Never a deadlock: a counted worker that shows no progress for `stall_s` real seconds is taken
    to be blocked on something the clock cannot see, and time moves anyway (`stalls` counts it).
    """

    def __init__(self, advance: Callable[[float], None], *, stall_s: float = STALL_S) -> None:
        self._advance = advance
        self._stall_s = stall_s
        self._offset = 0.0  # virtual seconds skipped so far
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # the coordinator waits on it
        self._active = 0  # counted workers neither asleep nor waiting on a future
        self._changed_at = time.monotonic()  # last time a counted worker made progress
        self._sleepers: list[_Sleeper] = []  # a heap, earliest wake-up first
        self._order = itertools.count()
        self._futures: dict[Future[object], _Watch] = {}
        self._cancels: set[threading.Event] = set()
        self._local = threading.local()  # .depth > 0: this thread is a counted worker
        self._coordinator: threading.Thread | None = None
        self.skips = 0
        self.stalls = 0

    # -- the Clock protocol -----------------------------------------------------------------------
    def now(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None:
        """Return once `seconds` of this clock have passed (or, early, once `cancel` is set)."""
        if seconds <= 0:
            return
        counted = self._depth() > 0
        with self._lock:
            sleeper = _Sleeper(self.now() + seconds, next(self._order), counted, cancel)
            heapq.heappush(self._sleepers, sleeper)
            if counted:
                self._active -= 1
            if cancel is not None:
                self._cancels.add(cancel)
            self._progress()
            self._changed.notify()  # its wake-up may be the earliest now
            self._start_coordinator()
        sleeper.woken.wait()
        if sleeper.error is not None:
            raise sleeper.error

    @property
    def skipped_s(self) -> float:
        """Virtual seconds skipped so far (what `now()` is ahead of the wall)."""
        return self._offset

    # -- counted workers ----------------------------------------------------------------------
    @contextmanager
    def worker(self) -> Iterator[None]:
        """Count the calling thread as a worker while inside (a no-op if it already is)."""
        if self._depth() > 0:
            yield
            return
        with self._lock:
            self._active += 1
            self._progress()
        with self._counting():
            try:
                yield
            finally:
                with self._lock:
                    self._active -= 1
                    self._progress()

    def wait_result(self, future: Future[T]) -> T:
        """`future.result()`, not counting a waiting worker as active until the future is done."""
        if self._depth() == 0:
            return future.result()
        hook = False
        with self._lock:
            if not future.done():
                watch = self._futures.setdefault(future, _Watch())  # type: ignore[arg-type]
                watch.waiters += 1
                self._active -= 1
                hook, watch.hooked = not watch.hooked, True
                self._progress()
        if hook:
            future.add_done_callback(self._settled)
        return future.result()

    def submit(
        self,
        pool: _Slots,
        executor: Executor,
        fn: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Future[T]:
        """Submit `fn` as a counted task: counted from now if a thread is free to run it (else from
        when one frees up) until its future is done, so no skip happens between the hand-offs."""

        def task() -> T:
            with self._counting():
                return fn(*args, **kwargs)

        with self._lock:
            pool.take(self)
        try:
            future = executor.submit(task)
        except BaseException:
            with self._lock:
                pool.release(self)
            raise
        with self._lock:
            self._futures[future] = _Watch(pool=pool, hooked=True)  # type: ignore[index]
        future.add_done_callback(self._settled)
        return future

    def _settled(self, future: Future[Any]) -> None:
        """A watched future is done: its waiters resume (counted before the task stops counting)."""
        with self._lock:
            watch = self._futures.pop(future, None)
            if watch is None:
                return
            self._active += watch.waiters
            if watch.pool is not None:
                watch.pool.release(self)
            self._progress()

    @contextmanager
    def _counting(self) -> Iterator[None]:
        self._local.depth = self._depth() + 1
        try:
            yield
        finally:
            self._local.depth -= 1

    def _depth(self) -> int:
        depth: int = getattr(self._local, "depth", 0)
        return depth

    def _progress(self) -> None:
        """Called under the lock whenever the count changes; the coordinator acts on an idle one."""
        self._changed_at = time.monotonic()
        if self._active <= 0:
            self._changed.notify()

    # -- the coordinator: the one thread that moves time ---------------------------------------
    def _start_coordinator(self) -> None:
        if self._coordinator is None:
            self._coordinator = threading.Thread(
                target=self._coordinate, name="fast-forward", daemon=True
            )
            self._coordinator.start()

    def _coordinate(self) -> None:
        while True:
            with self._lock:
                gap = self._next_skip()
                if gap is None:
                    self._coordinator = None  # nobody asleep for a while; a sleep restarts it
                    return
            self._skip(gap)

    def _next_skip(self) -> float | None:
        """Wait (under the lock) until time may skip ahead; the gap to the earliest wake-up."""
        idle_since = time.monotonic()
        while True:
            self._release_due()
            if not self._sleepers:
                if time.monotonic() - idle_since >= LINGER_S:
                    return None
                self._changed.wait(LINGER_S)
                continue
            idle_since = time.monotonic()
            gap = self._sleepers[0].wake - self.now()
            if gap > 0 and self._may_skip():
                return gap
            self._changed.wait(self._patience(gap))

    def _may_skip(self) -> bool:
        if self._active <= 0:
            return True
        if time.monotonic() - self._changed_at >= self._stall_s:
            self.stalls += 1
            return True
        return False

    def _patience(self, gap: float) -> float:
        """How long to wait for a change: until the earliest wake-up comes in real time, a stall
        would be declared, or (when a sleeper can be cancelled) the next look at its event."""
        waits = [gap]
        if self._active > 0:
            waits.append(self._stall_s - (time.monotonic() - self._changed_at))
        if self._cancels:
            waits.append(CANCEL_POLL_S)
        return max(0.001, min(waits))

    def _skip(self, gap: float) -> None:
        """Move the emulator, then this clock, by `gap`, and wake whoever is due."""
        error: Exception | None = None
        try:
            self._advance(gap)
        except Exception as exc:  # e.g. the emulator is gone: the sleepers due now raise it
            error = exc
        with self._lock:
            self._offset += gap
            self.skips += 1
            self._release_due(error)

    def _release_due(self, error: Exception | None = None) -> None:
        now = self.now()
        while self._sleepers and self._sleepers[0].wake <= now:
            self._wake(heapq.heappop(self._sleepers), error)
        if any(event.is_set() for event in self._cancels):
            staying = []
            for sleeper in self._sleepers:
                if sleeper.cancel is not None and sleeper.cancel.is_set():
                    self._wake(sleeper)
                else:
                    staying.append(sleeper)
            heapq.heapify(staying)
            self._sleepers = staying

    def _wake(self, sleeper: _Sleeper, error: Exception | None = None) -> None:
        if sleeper.counted:
            self._active += 1  # counted before it runs, so time cannot skip past its next step
            self._changed_at = time.monotonic()
        sleeper.error = error
        sleeper.woken.set()


@dataclass(order=True)
class _Sleeper:
    wake: float
    order: int
    counted: bool = field(compare=False)
    cancel: threading.Event | None = field(compare=False)
    woken: threading.Event = field(default_factory=threading.Event, compare=False)
    error: Exception | None = field(default=None, compare=False)


@dataclass(slots=True)
class _Slots:
    """One pool's threads, as the clock counts them. A task queued while every thread is taken
    cannot run before one of them finishes, so it is not counted (or time would never move while
    every thread sleeps); when a thread finishes, its count passes to the next queued task."""

    threads: int
    busy: int = 0  # tasks holding a thread or about to take a free one: counted
    backlog: int = 0  # tasks queued behind them: not counted

    def take(self, clock: FastForwardClock) -> None:
        if self.busy < self.threads:
            self.busy += 1
            clock._active += 1
        else:
            self.backlog += 1
        clock._progress()

    def release(self, clock: FastForwardClock) -> None:
        """A task finished or was cancelled: its thread goes to the next queued task, if any."""
        if self.backlog > 0:
            self.backlog -= 1
        else:
            self.busy -= 1
            clock._active -= 1
        clock._progress()


@dataclass(slots=True)
class _Watch:
    pool: _Slots | None = None  # a counted task's pool: its end frees (or hands on) a thread
    waiters: int = 0  # counted workers waiting on the future
    hooked: bool = False


class WorkerPool(Executor):
    """A thread pool whose tasks are counted workers of a FastForwardClock."""

    def __init__(self, clock: FastForwardClock, max_workers: int, thread_name_prefix: str) -> None:
        self._clock = clock
        self._slots = _Slots(max_workers)
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix=thread_name_prefix)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return self._clock.submit(self._slots, self._pool, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def unwrap(clock: Clock) -> Clock:
    """The clock under any wrappers: a clock that adds behaviour to another one
    (bootstrap.cancel.CancellableClock) names it `inner`. An attribute lookup, not an isinstance
    of a runtime-checkable Protocol: this runs several times per request, and that isinstance
    walks the Protocol's members each time."""
    inner: Clock | None = getattr(clock, "inner", None)
    while inner is not None:
        clock, inner = inner, getattr(inner, "inner", None)
    return clock


def is_virtual(clock: Clock) -> bool:
    """Whether the clock's durations are virtual (waits skipped), not wall time."""
    return isinstance(unwrap(clock), VirtualClock | FastForwardClock)


def worker_pool(clock: Clock, max_workers: int, thread_name_prefix: str = "") -> Executor:
    """A thread pool for work that waits on `clock`: on a FastForwardClock its tasks are counted
    workers (time skips only when all of them wait); otherwise a plain ThreadPoolExecutor."""
    inner = unwrap(clock)
    if isinstance(inner, FastForwardClock):
        return WorkerPool(inner, max_workers, thread_name_prefix)
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=thread_name_prefix)


def worker(clock: Clock) -> AbstractContextManager[None]:
    """Count the calling thread as a worker of `clock` (a FastForwardClock) while inside; for a
    thread that hands out work and then waits for it through `wait_result`, so that time cannot
    skip before the last task is handed out."""
    inner = unwrap(clock)
    return inner.worker() if isinstance(inner, FastForwardClock) else nullcontext()


def wait_result(clock: Clock, future: Future[T]) -> T:
    """`future.result()`; a counted worker of a FastForwardClock waiting here lets time move."""
    inner = unwrap(clock)
    if isinstance(inner, FastForwardClock):
        return inner.wait_result(future)
    return future.result()

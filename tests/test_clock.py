"""The fast-forward clock: virtual time that behaves like a wall clock for concurrent workers.

Each test would fail on the old clock, which added every thread's sleep to one shared `now()`:
concurrent sleeps would add up instead of overlapping.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from bootstrap.cancel import CancellableClock, Cancelled
from bootstrap.clock import (
    FastForwardClock,
    SystemClock,
    VirtualClock,
    is_virtual,
    wait_result,
    worker,
    worker_pool,
)


class Moves:
    """The `advance` callback: records what the emulator would have been moved by."""

    def __init__(self) -> None:
        self.steps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.steps.append(seconds)

    @property
    def total(self) -> float:
        return sum(self.steps)


def test_concurrent_sleeps_overlap_instead_of_adding_up() -> None:
    moves = Moves()
    clock = FastForwardClock(moves)
    start = clock.now()
    real = time.monotonic()
    with worker_pool(clock, 2) as pool, worker(clock):
        futures = [pool.submit(clock.sleep, 10.0) for _ in range(2)]
        for future in futures:
            wait_result(clock, future)
    assert 10.0 <= clock.now() - start < 10.5  # not 20
    assert 9.5 < moves.total <= 10.0  # the emulator moved with it (minus the real time that passed)
    assert time.monotonic() - real < 2.0
    assert clock.stalls == 0


def test_each_call_measures_its_own_waiting() -> None:
    """Sixteen workers backing off concurrently: the one waiting 2 s sees 2 s go by, however much
    the others sleep (the old clock gave it their 31 x 1 s on top)."""
    clock = FastForwardClock(Moves())
    seen: list[float] = []

    def backoff_twice() -> None:
        clock.sleep(1.0)
        clock.sleep(1.0)

    def measured() -> None:
        started = clock.now()
        clock.sleep(2.0)
        seen.append(clock.now() - started)

    with worker_pool(clock, 16) as pool, worker(clock):
        futures = [pool.submit(backoff_twice) for _ in range(15)] + [pool.submit(measured)]
        for future in futures:
            wait_result(clock, future)
    assert 2.0 <= seen[0] < 2.5


def test_time_does_not_move_while_a_worker_is_busy() -> None:
    """A worker in a (real) request is active: a sleeper may not skip past it, only real time
    passes meanwhile."""
    clock = FastForwardClock(Moves())
    events: list[str] = []

    def busy() -> None:
        time.sleep(0.3)  # an HTTP call in flight
        events.append("request answered")
        clock.sleep(1.0)

    def sleeper() -> None:
        clock.sleep(100.0)
        events.append("sleeper woke")

    start = clock.now()
    with worker_pool(clock, 2) as pool, worker(clock):
        futures = [pool.submit(sleeper), pool.submit(busy)]
        for future in futures:
            wait_result(clock, future)
    assert events == ["request answered", "sleeper woke"]
    assert 100.0 <= clock.now() - start < 100.5


def test_a_worker_waiting_on_other_workers_lets_time_move() -> None:
    """A project waits on its reads (another pool); the reads' backoffs are skipped without a
    stall, and the waiting project does not hold time back."""
    clock = FastForwardClock(Moves(), stall_s=5.0)
    reads = worker_pool(clock, 6)

    def read(seconds: float) -> float:
        clock.sleep(seconds)
        return seconds

    def project() -> float:
        futures = [reads.submit(read, float(s)) for s in (3, 1, 2)]
        return sum(wait_result(clock, f) for f in futures)

    real = time.monotonic()
    start = clock.now()
    with worker_pool(clock, 2) as projects, worker(clock):
        futures = [projects.submit(project) for _ in range(2)]
        totals = [wait_result(clock, f) for f in futures]
    reads.shutdown()
    assert totals == [6.0, 6.0]
    assert 3.0 <= clock.now() - start < 3.5
    assert time.monotonic() - real < 2.0
    assert clock.stalls == 0


def test_queued_tasks_do_not_hold_time_back() -> None:
    """Six tasks on two threads: the four queued ones cannot run until a thread is free, so they
    must not count as active while the two running ones sleep."""
    clock = FastForwardClock(Moves(), stall_s=5.0)
    start = clock.now()
    real = time.monotonic()
    with worker_pool(clock, 2) as pool, worker(clock):
        futures = [pool.submit(clock.sleep, 5.0) for _ in range(6)]
        for future in futures:
            wait_result(clock, future)
    assert 15.0 <= clock.now() - start < 15.5
    assert time.monotonic() - real < 2.0
    assert clock.stalls == 0


def test_cancelled_queued_tasks_release_their_count() -> None:
    clock = FastForwardClock(Moves(), stall_s=5.0)
    gate = threading.Event()
    pool = worker_pool(clock, 1)
    first = pool.submit(gate.wait)
    queued = [pool.submit(clock.sleep, 1.0) for _ in range(3)]
    assert all(f.cancel() for f in queued)
    gate.set()
    first.result()
    pool.shutdown()
    real = time.monotonic()
    clock.sleep(7.0)  # an uncounted sleeper: nobody counted is left, so it is skipped at once
    assert time.monotonic() - real < 1.0
    assert clock.stalls == 0


def test_an_uncounted_sleep_is_skipped_at_once() -> None:
    moves = Moves()
    clock = FastForwardClock(moves)
    start = clock.now()
    real = time.monotonic()
    clock.sleep(600.0)
    assert 600.0 <= clock.now() - start < 600.5
    assert time.monotonic() - real < 1.0
    assert moves.steps and moves.total <= 600.0


def test_a_blocked_worker_stalls_time_only_for_the_grace() -> None:
    """A counted worker blocked on something the clock cannot see: time moves after `stall_s`
    instead of never (no deadlock)."""
    clock = FastForwardClock(Moves(), stall_s=0.2)
    blocker = threading.Event()
    pool = worker_pool(clock, 2)
    stuck = pool.submit(blocker.wait)
    real = time.monotonic()
    sleeper = pool.submit(clock.sleep, 50.0)
    sleeper.result(timeout=5)
    assert 0.15 < time.monotonic() - real < 2.0
    assert clock.stalls == 1
    blocker.set()
    stuck.result()
    pool.shutdown()


def test_ctrl_c_ends_a_fast_forward_sleep() -> None:
    """While another worker keeps time still, the cancel event still ends the wait at once."""
    event = threading.Event()
    inner = FastForwardClock(Moves(), stall_s=60.0)
    clock = CancellableClock(inner, event)
    blocker = threading.Event()
    pool = worker_pool(clock, 2)
    stuck = pool.submit(blocker.wait)
    sleeper = pool.submit(clock.sleep, 100.0)
    time.sleep(0.1)
    assert not sleeper.done()
    real = time.monotonic()
    event.set()
    with pytest.raises(Cancelled):
        sleeper.result(timeout=5)
    assert time.monotonic() - real < 1.0
    blocker.set()
    stuck.result()
    pool.shutdown()


def test_a_failing_advance_reaches_the_sleeper() -> None:
    def gone(_seconds: float) -> None:
        raise ConnectionRefusedError("the emulator stopped")

    with pytest.raises(ConnectionRefusedError):
        FastForwardClock(gone).sleep(1.0)


def test_a_future_done_before_the_wait_is_not_counted_twice() -> None:
    clock = FastForwardClock(Moves(), stall_s=5.0)
    done: Future[int] = Future()
    done.set_result(3)
    with clock.worker():
        assert clock.wait_result(done) == 3
        real = time.monotonic()
    clock.sleep(5.0)  # the worker left: nobody counted is active
    assert time.monotonic() - real < 1.0 and clock.stalls == 0


def test_which_clocks_are_virtual() -> None:
    fast = FastForwardClock(Moves())
    assert is_virtual(fast) and is_virtual(CancellableClock(fast, threading.Event()))
    assert is_virtual(VirtualClock())
    assert not is_virtual(SystemClock()) and not is_virtual(
        CancellableClock(SystemClock(), threading.Event())
    )

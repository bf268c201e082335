"""Splitting a read-only run over forked worker processes (bootstrap.reconcile.processes):
how many, the values and events they send back, and what a failing worker turns into. These
fork real processes; the CLI's split audit is tested end to end in tests/cli/test_cli_processes.py."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bootstrap.reconcile.events import EventSink, Finished, ProjectEvent
from bootstrap.reconcile.processes import (
    Deliver,
    ForkUnsafe,
    WorkerFailed,
    paused_while_forking,
    run_split,
    worker_processes,
)


@pytest.fixture
def eight_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(8)), raising=False)


@pytest.mark.usefixtures("eight_cores")
@pytest.mark.parametrize(
    ("requested", "projects", "read_only", "expected"),
    [
        (None, 999, True, 1),  # auto: fewer than two workers' worth of projects
        (None, 1000, True, 2),
        (None, 1999, True, 3),
        (None, 10_000, True, 4),  # auto stops at AUTO_MAX_PROCESSES
        (None, 10_000, False, 1),  # apply: never split
        (3, 10_000, False, 1),
        (6, 10_000, True, 6),  # asked for: as many as asked
        (6, 4, True, 4),  # never more workers than projects
        (1, 10_000, True, 1),
    ],
)
def test_how_many_processes(
    requested: int | None, projects: int, read_only: bool, expected: int
) -> None:
    assert worker_processes(requested, projects, read_only=read_only) == expected


def test_auto_stays_in_one_process_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    assert worker_processes(None, 10_000, read_only=True) == 1
    assert worker_processes(2, 10_000, read_only=True) == 2


def _tenfold(part: Sequence[int], emit: EventSink, deliver: Deliver[int]) -> tuple[int, int]:
    for position, item in enumerate(part):
        emit(f"p{item}", Finished(planned=item))
        deliver(position, item * 10)
    return os.getpid(), len(part)


def test_every_worker_takes_every_nth_item_and_its_values_and_events_reach_the_parent() -> None:
    events: list[tuple[str, ProjectEvent]] = []
    values, finals = run_split(
        list(range(7)), 3, _tenfold, on_event=lambda p, e: events.append((p, e))
    )
    assert values == [item * 10 for item in range(7)]  # item order, whichever worker had it
    assert [count for _pid, count in finals] == [3, 2, 2]  # worker K: items K, K+3, ...
    pids = {pid for pid, _count in finals}
    assert len(pids) == 3 and os.getpid() not in pids  # three processes, none of them this one
    assert sorted(events, key=lambda pe: pe[0]) == [
        (f"p{i}", Finished(planned=i)) for i in range(7)
    ]


def _fails_in_the_second(part: Sequence[int], emit: EventSink, deliver: Deliver[int]) -> None:
    if 1 in part:
        raise ValueError("boom in the worker")
    for position, item in enumerate(part):
        deliver(position, item)


def test_a_worker_that_raises_fails_the_split_with_its_traceback() -> None:
    with pytest.raises(WorkerFailed, match="ValueError: boom in the worker"):
        run_split([0, 1, 2, 3], 2, _fails_in_the_second, on_event=lambda p, e: None)


def _dies(part: Sequence[int], emit: EventSink, deliver: Deliver[int]) -> None:
    deliver(0, part[0])
    os._exit(3)  # killed, as by the OOM killer, after one value: the rest never comes


def test_a_worker_that_dies_without_results_fails_the_split() -> None:
    with pytest.raises(WorkerFailed, match="ended without its results"):
        run_split([0, 1, 2, 3], 2, _dies, on_event=lambda p, e: None)


def _skips_its_last(part: Sequence[int], emit: EventSink, deliver: Deliver[int]) -> None:
    for position, item in enumerate(part[:-1]):
        deliver(position, item)


def test_a_worker_that_ends_with_an_item_left_without_a_value_fails_the_split() -> None:
    with pytest.raises(WorkerFailed, match="left items out"):
        run_split([0, 1, 2, 3], 2, _skips_its_last, on_event=lambda p, e: None)


def _threads_in_the_worker(part: Sequence[int], emit: EventSink, deliver: Deliver[int]) -> int:
    for position in range(len(part)):
        deliver(position, threading.active_count())
    return threading.active_count()


class _Ticker:
    """A helper thread as the terminal's progress view has: it can be stopped and restarted."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.paused = 0

    def start(self) -> None:
        self.stop_event.clear()
        self.thread = threading.Thread(target=self.stop_event.wait, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        assert self.thread is not None
        self.thread.join()

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        self.paused += 1
        self.stop()
        try:
            yield
        finally:
            self.start()


@pytest.fixture
def ticker() -> Iterator[_Ticker]:
    running = _Ticker()
    running.start()
    yield running
    running.stop()


def test_another_thread_alive_keeps_the_run_in_one_process(ticker: _Ticker) -> None:
    with pytest.raises(ForkUnsafe):
        run_split([0, 1], 2, _threads_in_the_worker, on_event=_ignore)


def test_a_thread_that_pauses_for_the_fork_lets_the_run_split_and_runs_again_after(
    ticker: _Ticker,
) -> None:
    with paused_while_forking(ticker.pause):
        values, finals = run_split([0, 1, 2], 2, _threads_in_the_worker, on_event=_ignore)
    assert finals == [1, 1] and values == [1, 1, 1]  # no helper thread in the workers
    assert ticker.paused == 1  # once around every fork, not once a worker
    assert ticker.thread is not None and ticker.thread.is_alive()  # running again here
    ticker.stop()
    # Closed: the pause is not entered again by a later split.
    run_split([0, 1], 2, _threads_in_the_worker, on_event=_ignore)
    assert ticker.paused == 1


def _ignore(project_id: str, event: ProjectEvent) -> None:
    pass


def _pipes() -> int:
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if _link(fd).startswith("pipe:"))


def _link(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:  # closed while listed (the listing's own descriptor)
        return ""


def _pipes_in_the_worker(part: Sequence[int], emit: EventSink, deliver: Deliver[int]) -> int:
    for position in range(len(part)):
        deliver(position, 0)
    return _pipes()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
def test_each_worker_holds_only_its_own_pipe_not_those_of_the_workers_before_it() -> None:
    """A worker holding another's read end would hide the parent's end from it: that worker's
    sends would not fail when the parent is gone."""
    before = _pipes()
    _, finals = run_split(list(range(3)), 3, _pipes_in_the_worker, on_event=_ignore)
    assert finals == [before + 1] * 3  # what the parent had, and its own end of its pipe

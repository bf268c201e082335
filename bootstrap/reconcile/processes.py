"""A large read-only run split over worker processes, because one Python process tops out near
one core.

Each request costs the client libraries ~2-4 ms of CPU under the GIL (google-auth, requests,
protobuf's JSON parser; docs/benchmarks.md "Reading the 2026-11-30 runs"), so one process sends
at most ~200-280 requests a second however many threads wait on the network. An organization
audit whose quotas allow more (raised quotas, or the emulator's compressed minutes) was bound by
that, not by Google. Forked workers share what the run read before the split (discovery, the
inventory) without re-reading it, and each takes every N-th project.

Only read-only runs are split (audit, plan): an apply's writes, operations and interrupts stay in
one process. A split happens only where forking is safe: real time (a fast-forward clock
coordinates the threads of one process), a platform with fork, and no other thread alive at the
fork (one holding a lock then would leave it held forever in the child). A component whose thread
can stop for a moment registers how (`paused_while_forking`: a terminal's live progress view
stops its redraws); any other thread keeps the run in one process (`ForkUnsafe`).

The workers send what would have stayed in memory back over a pipe as it happens: each project's
events (the parent's progress view shows them) and its result, so that the parent has unpickled
nearly all of them when the last project finishes; at the end, the counts the report needs.
Their rate limits and HTTP slots are their share of the run's (`Cloud.divide`), so together they
send what one process would.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, Generic, NoReturn, TypeVar

from bootstrap.cancel import Interrupted
from bootstrap.reconcile.events import EventSink, ProjectEvent

T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R")

# `deliver(position, value)`: the value of the item at `position` in a worker's part.
Deliver = Callable[[int, V], None]

# `auto` gives each worker at least this many projects: below it, forking and the duplicated
# once-per-run reads cost more than a second core saves.
PROJECTS_PER_PROCESS = 500
# `auto` never uses more: the run's quotas, not cores, bound a larger fleet on Google.
AUTO_MAX_PROCESSES = 4
# How long an interrupted parent waits for its workers to stop before killing them.
WORKER_GRACE_S = 5.0


def worker_processes(requested: int | None, projects: int, *, read_only: bool) -> int:
    """How many processes run `projects` projects: `requested` (None: auto), 1 where a split
    is not possible. Auto splits only on Linux: on macOS, CPython itself stopped forking by
    default (3.8), as system libraries may crash in a forked child."""
    if not read_only or projects < 2 or not hasattr(os, "fork"):
        return 1
    if requested is None:
        if sys.platform != "linux":
            return 1
        cores = len(os.sched_getaffinity(0))
        requested = min(cores, AUTO_MAX_PROCESSES, projects // PROJECTS_PER_PROCESS)
    return max(1, min(requested, projects))


# Ways to stop a thread for the moment the workers are forked (`paused_while_forking`).
_PAUSES: list[Callable[[], AbstractContextManager[None]]] = []


@contextlib.contextmanager
def paused_while_forking(pause: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """While this context is open, a split enters `pause()` around its forks: the caller's
    thread must have ended (joined) inside it, and may start again when it exits."""
    _PAUSES.append(pause)
    try:
        yield
    finally:
        _PAUSES.remove(pause)


class ForkUnsafe(Exception):
    """A thread other than the caller's is alive, so this process must not fork now."""


@dataclass(frozen=True, slots=True)
class _Event:
    project_id: str
    event: ProjectEvent


@dataclass(frozen=True, slots=True)
class _Value(Generic[V]):
    position: int
    value: V


@dataclass(frozen=True, slots=True)
class _Done(Generic[R]):
    value: R


@dataclass(frozen=True, slots=True)
class _Raised:
    interrupted: bool
    text: str  # the worker's traceback, for an unexpected error


class WorkerFailed(RuntimeError):
    """A worker process ended without its results (an error in it, or it was killed)."""


class WorkerInterrupted(Exception):
    """A worker process was interrupted (Ctrl-C reached it)."""


def run_split(
    items: Sequence[T],
    processes: int,
    work: Callable[[Sequence[T], EventSink, Deliver[V]], R],
    *,
    on_event: EventSink,
) -> tuple[list[V], list[R]]:
    """`work(part, emit, deliver)` in `processes` forked workers, part K holding every K-th item
    from K. `emit` in a worker sends an event to `on_event` here; `deliver(position, value)`
    sends the value of `part[position]`, as soon as it is known. Returns every item's value in
    item order and what each `work` returned, in part order. ForkUnsafe, before anything ran,
    when a thread other than this one is alive once the registered pauses are entered.

    Ctrl-C here, or a worker that fails, is interrupted or leaves an item without a value,
    stops the others (SIGINT, then SIGKILL after WORKER_GRACE_S); then KeyboardInterrupt,
    WorkerInterrupted or WorkerFailed."""
    workers: list[tuple[int, Connection]] = []
    try:
        _fork_all(items, processes, work, into=workers)
        values, finals = _collect(workers, on_event)
        if len(values) < len(items):
            missing = next(i for i in range(len(items)) if i not in values)
            raise WorkerFailed(f"worker process {workers[missing % processes][0]} left items out")
        return [values[index] for index in range(len(items))], finals
    except BaseException:
        for pid, _ in workers:
            _signal(pid, signal.SIGINT)
        raise
    finally:
        gc.unfreeze()
        for pid, connection in workers:
            connection.close()
            _reap(pid)


def _fork_all(
    items: Sequence[T],
    processes: int,
    work: Callable[..., Any],
    *,
    into: list[tuple[int, Connection]],
) -> None:
    """Fork the workers (each added to `into` as it starts), inside every registered pause."""
    with contextlib.ExitStack() as paused:
        for pause in list(_PAUSES):
            paused.enter_context(pause())
        if threading.active_count() > 1:
            raise ForkUnsafe(f"{threading.active_count() - 1} other thread(s) alive")
        sys.stdout.flush()
        sys.stderr.flush()
        # The objects the run holds so far move out of the collector's reach: a worker's
        # collections would otherwise write to every one of them and so copy the pages it
        # shares with the parent.
        gc.freeze()
        for index in range(processes):
            earlier = [connection for _, connection in into]
            into.append(_fork(items[index::processes], work, earlier))


def _fork(
    part: Sequence[T], work: Callable[..., Any], earlier: Sequence[Connection]
) -> tuple[int, Connection]:
    """One worker on `part`; `earlier`: the parent's ends of the workers forked before it."""
    receiver, sender = Pipe(duplex=False)
    pid = os.fork()
    if pid:
        sender.close()
        return pid, receiver
    receiver.close()
    # Only the parent reads a worker's pipe: a copy kept open here would hide the parent's end
    # from that worker (its sends would not fail when the parent is gone).
    for connection in earlier:
        connection.close()
    _worker(part, work, sender)  # never returns


def _worker(part: Sequence[Any], work: Callable[..., Any], sender: Connection) -> NoReturn:
    code = 0
    lock = threading.Lock()

    def send(message: object) -> None:
        with lock:
            sender.send(message)

    def emit(project_id: str, event: ProjectEvent) -> None:
        send(_Event(project_id, event))

    def deliver(position: int, value: object) -> None:
        send(_Value(position, value))

    try:
        message: object = _Done(work(part, emit, deliver))
    except BaseException as error:  # everything reaches the parent, which decides
        code = 1
        interrupted = isinstance(error, KeyboardInterrupt | Interrupted | WorkerInterrupted)
        message = _Raised(interrupted, "".join(traceback.format_exception(error)))
    try:
        send(message)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # not the parent's atexit handlers, buffers or threads' shutdown


def _collect(
    workers: Sequence[tuple[int, Connection]], on_event: EventSink
) -> tuple[dict[int, Any], list[Any]]:
    """Every delivered value by item index, and each worker's final value in part order."""
    values: dict[int, Any] = {}
    finals: dict[int, Any] = {}
    parts = len(workers)
    waiting = {connection: index for index, (_, connection) in enumerate(workers)}
    while waiting:
        for ready in wait(list(waiting)):
            assert isinstance(ready, Connection)
            index = waiting[ready]
            try:
                message = ready.recv()
            except EOFError:
                raise WorkerFailed(
                    f"worker process {workers[index][0]} ended without its results"
                ) from None
            if isinstance(message, _Event):
                on_event(message.project_id, message.event)
            elif isinstance(message, _Value):
                values[index + message.position * parts] = message.value
            elif isinstance(message, _Done):
                finals[index] = message.value
                del waiting[ready]
            elif isinstance(message, _Raised):
                if message.interrupted:
                    raise WorkerInterrupted()
                raise WorkerFailed(f"a worker process failed:\n{message.text}")
    return values, [finals[index] for index in range(parts)]


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has ended already
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Wait for a worker to end; kill it once WORKER_GRACE_S have passed."""
    deadline = time.monotonic() + WORKER_GRACE_S
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return
        time.sleep(0.02)
    _signal(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

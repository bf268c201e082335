"""Live progress for long runs, on stderr.

On a terminal: a line per project in flight (project, step, and what it waits for), aligned in
columns, above an overall bar with the elapsed time and an ETA from the finished projects' wall
durations; the smoke phase gets a bar of its own. Otherwise (a CI log): one timestamped line per
project finished and per wait of at least WAIT_LOG_AT_LEAST_S, so the log shows where time went.

Events come as values: `(project_id, ProjectEvent)` from the reconciler and the smoke phase
(bootstrap.reconcile.events) and `RetryEvent`s from the gcp layer, forwarded by a `RetryRelay`
that `connect` was given. The words are in `bootstrap/cli/progress_words.py`.

Time: timestamps, elapsed times, project durations and the ETA are wall time. The length of a
wait is the one the run's clock measured; on the emulator's fast-forward clock those seconds are
virtual (a 12 s propagation wait passes in milliseconds), which the log says once at the top.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from bootstrap.cli.progress_words import (
    clock_time,
    eta_s,
    finished_line,
    retry_label,
    retry_line,
    retry_wait_s,
    seconds,
    step_label,
    wait_label,
    waited_line,
)
from bootstrap.gcp.retry import RetryEvent, RetryEventKind
from bootstrap.reconcile.events import (
    EventSink,
    Finished,
    Observing,
    ProjectEvent,
    SmokeProgress,
    Started,
    Waited,
    Waiting,
)

if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table

# A wait at least this long gets its own line in a log ("a few seconds": shorter ones are the
# ordinary rhythm of polling and backoff, and 30 projects would print hundreds of them).
WAIT_LOG_AT_LEAST_S = 3.0
# Projects drawn at once on a terminal; the others are counted in one line.
MAX_LINES = 8
# How long (wall) a retry or throttle note stays on its project's line without a newer event.
NOTE_SHOWN_S = 2.0
# The widest a project id column gets on a terminal (longer ids are cut with an ellipsis).
MAX_PROJECT_WIDTH = 32
# How often the live view is redrawn, events or not (elapsed times and the ETA move).
REDRAWS_PER_S = 4
BAR_WIDTH = 30


class RetryRelay:
    """The gcp layer's retry callback (CloudSettings.on_retry_event): forwards each RetryEvent
    to the progress view open at the time, and drops it between views."""

    def __init__(self) -> None:
        self.target: Callable[[RetryEvent], None] | None = None

    def __call__(self, event: RetryEvent) -> None:
        target = self.target
        if target is not None:
            target(event)


@contextmanager
def progress(
    project_ids: Sequence[str],
    *,
    label: str,
    relay: RetryRelay | None = None,
    virtual: bool = False,
    tty: bool | None = None,
) -> Iterator[EventSink]:
    """A progress view for a run over `project_ids`; yields the reconciler's event sink.

    `virtual`: the run's clock is virtual (waits are fast-forwarded), said once in a log.
    `tty`: draw the live view (default: whether stderr is a terminal)."""
    live = sys.stderr.isatty() if tty is None else tty
    view: _View = _LiveView(project_ids, label) if live else _LogView(project_ids, label, virtual)
    if relay is not None:
        relay.target = view.retry
    try:
        with view.shown():
            yield view.project_event
    finally:
        if relay is not None:
            relay.target = None


@dataclass(slots=True)
class _Project:
    """What the view knows of one project in flight (times are wall, time.monotonic)."""

    started: float
    step: str = "reading state"
    waiting: Waiting | None = None
    wait_started: float = 0.0
    note: str = ""
    note_until: float = 0.0


@dataclass(slots=True)
class _State:
    """The run as the events told it; every access holds `lock`."""

    total: int
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[str, _Project] = field(default_factory=dict)  # in start order
    durations: list[float] = field(default_factory=list)  # wall s of finished projects
    smoke: SmokeProgress | None = None
    smoke_started: float = 0.0

    def apply(self, project_id: str, event: ProjectEvent, now: float) -> float | None:
        """Record `event`; for a Finished project returns its wall duration."""
        if isinstance(event, SmokeProgress):
            if self.smoke is None:
                self.smoke_started = now
            self.smoke = event
            return None
        project = self.in_flight.get(project_id)
        if project is None and isinstance(event, Waiting | Waited):
            return None  # after the project's reconcile (the smoke phase's waits): logged only
        if project is None:
            if isinstance(event, Finished):
                self.durations.append(0.0)
                return None
            project = self.in_flight[project_id] = _Project(started=now)
        if isinstance(event, Finished):
            del self.in_flight[project_id]
            self.durations.append(now - project.started)
            return now - project.started
        if isinstance(event, Started):
            project.step, project.waiting, project.note = step_label(event), None, ""
        elif isinstance(event, Waiting):
            project.waiting, project.wait_started = event, now
        elif isinstance(event, Waited):
            project.waiting = None
        elif isinstance(event, Observing):
            project.step = "reading state"
        return None

    def note(self, project_id: str, text: str, now: float) -> None:
        project = self.in_flight.get(project_id)
        if project is not None:
            project.note, project.note_until = text, now + NOTE_SHOWN_S

    def eta(self, now: float) -> float | None:
        done = len(self.durations)
        queued = max(0, self.total - done - len(self.in_flight))
        running = [now - p.started for p in self.in_flight.values()]
        return eta_s(self.durations, running, queued)


class _View:
    def __init__(self, project_ids: Sequence[str], label: str) -> None:
        self.label = label
        self.state = _State(total=len(project_ids))
        self.width = min(MAX_PROJECT_WIDTH, max((len(p) for p in project_ids), default=0))
        # The first column of the live view: indented project ids, or a bar's label.
        self.first = max(self.width + 2, len(label), len("smoke"))

    @contextmanager
    def shown(self) -> Iterator[None]:
        yield

    def project_event(self, project_id: str, event: ProjectEvent) -> None:
        raise NotImplementedError

    def retry(self, event: RetryEvent) -> None:
        raise NotImplementedError


class _LogView(_View):
    """Plain timestamped lines on stderr: each project finished, each wait worth a line."""

    def __init__(self, project_ids: Sequence[str], label: str, virtual: bool) -> None:
        super().__init__(project_ids, label)
        self.virtual = virtual

    @contextmanager
    def shown(self) -> Iterator[None]:
        if self.virtual:
            self._line("", "wait lengths below are on the fast-forward clock (virtual seconds)")
        yield

    def project_event(self, project_id: str, event: ProjectEvent) -> None:
        now = time.monotonic()
        with self.state.lock:
            smoke_before = self.state.smoke
            took = self.state.apply(project_id, event, now)
            smoke_started = self.state.smoke_started
        if isinstance(event, Finished):
            self._line(project_id, finished_line(event, took))
        elif isinstance(event, Waited) and event.waited_s >= WAIT_LOG_AT_LEAST_S:
            self._line(project_id, waited_line(event))
        elif isinstance(event, SmokeProgress):
            if smoke_before is None:
                self._line("", "smoke tests started")
            if event.done == event.total:
                done = f"smoke tests: {event.done} of {event.total} done"
                self._line("", f"{done} in {seconds(now - smoke_started)}")

    def retry(self, event: RetryEvent) -> None:
        if event.kind is RetryEventKind.GAVE_UP or retry_wait_s(event) >= WAIT_LOG_AT_LEAST_S:
            self._line(event.project_id or "", retry_line(event))

    def _line(self, project_id: str, text: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%SZ")
        click.echo(f"{stamp} {self.label} {project_id:<{self.width}}  {text}", err=True)


class _LiveView(_View):
    """A few redrawn lines on a terminal (rich Live), gone when the run ends."""

    @contextmanager
    def shown(self) -> Iterator[None]:
        from rich.console import Console
        from rich.live import Live

        from bootstrap.reconcile.processes import paused_while_forking

        # get_renderable: redrawn on every refresh, so elapsed times and the ETA keep moving.
        # The redraws come from a thread of ours, not rich's, so that a run splitting into worker
        # processes can end it (joined) for the moment of the fork, then start it again.
        live = Live(
            get_renderable=self.render,
            console=Console(stderr=True),
            transient=True,
            auto_refresh=False,
        )
        redraws = _Redraws(live.refresh)

        @contextmanager
        def paused() -> Iterator[None]:
            redraws.stop()
            live.stop()  # the workers inherit the terminal's own stderr, not rich's proxy
            try:
                yield
            finally:
                live.start(refresh=True)
                redraws.start()

        with live, paused_while_forking(paused):
            redraws.start()
            try:
                yield
            finally:
                redraws.stop()

    def project_event(self, project_id: str, event: ProjectEvent) -> None:
        with self.state.lock:
            self.state.apply(project_id, event, time.monotonic())

    def retry(self, event: RetryEvent) -> None:
        if event.project_id is None or event.kind is RetryEventKind.REFRESH:
            return
        with self.state.lock:
            self.state.note(event.project_id, retry_label(event), time.monotonic())

    def render(self) -> Group:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        with self.state.lock:
            rows = [(pid, p.step, _doing(p, now)) for pid, p in self.state.in_flight.items()]
            done, total = len(self.state.durations), self.state.total
            eta = self.state.eta(now)
            smoke, smoke_started = self.state.smoke, self.state.smoke_started
        grid = Table.grid(padding=(0, 2))
        grid.add_column(width=self.first, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        for project_id, step, doing in rows[:MAX_LINES]:
            grid.add_row(f"  {project_id}", step, doing)
        parts: list[Table | Text] = [grid]
        if len(rows) > MAX_LINES:
            parts.append(Text(f"  ... and {len(rows) - MAX_LINES} more in flight", style="dim"))
        ahead = "ETA --:--:--" if eta is None else f"ETA {clock_time(eta)}"
        if total:  # `bootstrap smoke` has no project steps, only the smoke bar
            parts.append(self._bar(self.label, done, total, now - self.state.started, ahead))
        if smoke is not None:
            parts.append(self._bar("smoke", smoke.done, smoke.total, now - smoke_started, ""))
        return Group(*parts)

    def _bar(self, label: str, done: int, total: int, elapsed: float, ahead: str) -> Table:
        """`label  ━━━━━━━━━━  12/30  0:00:41  ETA 0:00:20`, in the project lines' columns."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        row = Table.grid(padding=(0, 2))
        row.add_column(width=self.first, no_wrap=True)
        row.add_column(width=BAR_WIDTH)
        row.add_column(no_wrap=True)
        counts = f"{done}/{total}  {clock_time(elapsed)}  {ahead}".rstrip()
        bar = ProgressBar(total=max(total, 1), completed=done, width=BAR_WIDTH)
        row.add_row(label, bar, counts)
        return row


def _doing(project: _Project, now: float) -> str:
    """What the project waits for now: a fresh retry note, else its wait with the time so far."""
    if project.note and now < project.note_until:
        return project.note
    if project.waiting is not None:
        return wait_label(project.waiting, now - project.wait_started)
    return ""


class _Redraws:
    """Calls `redraw` REDRAWS_PER_S times a second on a thread that `stop` ends and joins."""

    def __init__(self, redraw: Callable[[], None]) -> None:
        self._redraw = redraw
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="progress-redraws", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(1 / REDRAWS_PER_S):
            self._redraw()

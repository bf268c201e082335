"""Live progress for long runs: on a TTY a line per project in flight (with the step it is on)
above an overall bar with an ETA; otherwise plain log lines on stderr, one per step.

The reconciler reports (project_id, message) events; a message starting with "done" or
"checked" finishes a project. Only the projects in flight are drawn (at most MAX_LINES), so a
run over thousands of projects stays a few lines tall.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

FINISHED = ("done", "checked")
MAX_LINES = 8

EventSink = Callable[[str, str], None]


@contextmanager
def progress(total: int, *, label: str) -> Iterator[EventSink]:
    if not sys.stderr.isatty():
        yield _log_lines(label)
        return
    with _live(total, label) as sink:
        yield sink


def _log_lines(label: str) -> EventSink:
    lock = threading.Lock()

    def log(project_id: str, message: str) -> None:
        if message != "observing":
            with lock:
                click.echo(f"{label}: {project_id}: {message}", err=True)

    return log


@contextmanager
def _live(total: int, label: str) -> Iterator[EventSink]:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    task = bar.add_task(label, total=total)
    in_flight: dict[str, str] = {}  # project -> current step, in start order
    lock = threading.Lock()

    def render() -> Group:
        shown = list(in_flight.items())[:MAX_LINES]
        lines = [
            Text(f"  {project}  {step}", overflow="ellipsis", no_wrap=True)
            for project, step in shown
        ]
        hidden = len(in_flight) - len(shown)
        if hidden > 0:
            lines.append(Text(f"  ... and {hidden} more in flight", style="dim"))
        return Group(*lines, bar)

    with Live(render(), console=Console(stderr=True), transient=True, refresh_per_second=8) as live:

        def update(project_id: str, message: str) -> None:
            with lock:
                if message.startswith(FINISHED):
                    in_flight.pop(project_id, None)
                    bar.update(task, advance=1)
                else:
                    in_flight[project_id] = message
                live.update(render())

        yield update

"""What a run is doing, as values for a live view or a log: no wording here.

The reconciler tells its event sink `(project_id, event)`: a project is being observed, a change
starts, a wait starts and ends, the project is finished. The smoke phase after it tells
`("", SmokeProgress(...))`. `bootstrap/cli/progress.py` decides how each reads to a person, so the
words can change without touching the code that waits. Retries and rate-limit waits of single
calls are not here: the gcp layer tells those as `bootstrap.gcp.retry.RetryEvent` values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from bootstrap.clock import Clock
from bootstrap.plan.model import Action


class Wait(StrEnum):
    """What a project waits for between its requests."""

    OPERATION = "operation"  # a long-running operation the call waits on (create, enable)
    PROPAGATION = "propagation"  # a readiness gate re-reading until a change shows
    BILLING_LINK = "billing_link"  # enable refused until Service Usage sees this run's link


@dataclass(frozen=True, slots=True, kw_only=True)
class Observing:
    """The project's state is being read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """A change is being made."""

    action: Action
    count: int = 1  # how many things the change touches (APIs of an enable)
    target: str = ""  # the change's target (a publisher model, a role)


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """A wait begins; `subject` says for what ("enable", "create", a check name)."""

    wait: Wait
    subject: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Waited:
    """A wait ended after `waited_s` on the run's clock (virtual on a fast-forward clock)."""

    wait: Wait
    subject: str
    waited_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    """The project is done: `planned` changes left for apply (plan, audit), or applied."""

    planned: int = 0
    applied: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeProgress:
    """Smoke streams: `done` of `total` finished (told with project id "")."""

    done: int
    total: int


ProjectEvent = Observing | Started | Waiting | Waited | Finished | SmokeProgress

EventSink = Callable[[str, ProjectEvent], None]  # (project_id, event)


@contextmanager
def told_wait(
    emit: EventSink,
    project_id: str,
    wait: Wait,
    subject: str,
    *,
    clock: Clock,
    at_once: bool = True,
) -> Iterator[Callable[[], None]]:
    """Tell `emit` that a wait began and, at its end, how long it took on `clock`.

    A readiness gate begins waiting only if its first read is not ready: it passes the
    `announce` this yields as its `on_wait` (`at_once=False`), and a gate that never slept
    tells nothing."""
    announced = False

    def announce() -> None:
        nonlocal announced
        if not announced:
            announced = True
            emit(project_id, Waiting(wait=wait, subject=subject))

    if at_once:
        announce()
    started = clock.now()
    try:
        yield announce
    finally:
        if announced:
            emit(project_id, Waited(wait=wait, subject=subject, waited_s=clock.now() - started))

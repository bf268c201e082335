"""How the run's progress events read to a person, and the ETA: pure functions, no terminal.

`bootstrap/cli/progress.py` draws these (a live view on a terminal, timestamped lines in a log);
the events themselves are values (`bootstrap.reconcile.events`, `bootstrap.gcp.retry.RetryEvent`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bootstrap.gcp.retry import RetryEvent, RetryEventKind
from bootstrap.plan.model import Action
from bootstrap.reconcile.events import Finished, Started, Wait, Waited, Waiting


def seconds(value: float) -> str:
    """ "0.4 s", "4.2 s", "12 s", "95 s": tenths only where they matter."""
    return f"{value:.1f} s" if value < 9.95 else f"{value:.0f} s"


def clock_time(value: float) -> str:
    """ "0:01:05" for an elapsed time or an ETA."""
    total = max(0, round(value))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def step_label(event: Started) -> str:
    """ "linking billing", "enabling 2 APIs", "enabling gpt-oss-120b-maas"."""
    match event.action:
        case Action.CREATE_PROJECT:
            return "creating the project"
        case Action.LINK_BILLING:
            return "linking billing"
        case Action.ENABLE_SERVICES:
            return f"enabling {event.count} API{'' if event.count == 1 else 's'}"
        case Action.ENABLE_MODEL:
            return f"enabling {event.target.rsplit('/', 1)[-1] or 'the model'}"
        case Action.GRANT_ROLE:
            return f"granting {event.target or 'a role'}"
    return str(event.action.value).replace("_", " ")


def wait_label(event: Waiting, elapsed_s: float | None = None) -> str:
    """ "waiting for the enable operation", "waiting for propagation (12 s)"."""
    so_far = f" ({seconds(elapsed_s)})" if elapsed_s is not None and elapsed_s >= 1 else ""
    if event.wait is Wait.OPERATION:
        return f"waiting for the {event.subject} operation{so_far}"
    if event.wait is Wait.BILLING_LINK:
        return f"waiting for the billing link to reach Service Usage{so_far}"
    return f"waiting for propagation{so_far}"


def waited_line(event: Waited) -> str:
    """A finished wait, for a log: "waited 12 s for propagation (services)"."""
    if event.wait is Wait.OPERATION:
        # The call's own throttling and retries are inside this wait (each has its own line).
        what = f"the {event.subject} (its requests and operation)"
    elif event.wait is Wait.BILLING_LINK:
        what = "the billing link to reach Service Usage (enable refused until then)"
    else:
        what = f"propagation ({event.subject})"
    return f"waited {seconds(event.waited_s)} for {what}"


def retry_label(event: RetryEvent) -> str:
    """ "rate limited, retrying in 4 s", "throttled by --rate-limit for 3 s", "HTTP 503, ..."."""
    match event.kind:
        case RetryEventKind.BACKOFF:
            why = "rate limited" if event.rate_limited else _short_error(event.error)
            return f"{why}, retrying in {seconds(event.delay_s)}"
        case RetryEventKind.RATE_LIMIT_WAIT:
            return f"throttled by --rate-limit for {seconds(event.delay_s)}"
        case RetryEventKind.REFRESH:
            return "credentials refreshed, retrying"
        case RetryEventKind.GAVE_UP:
            return f"gave up after {event.attempts} attempt(s) ({_short_error(event.error)})"
    return str(event.kind.value)


def retry_line(event: RetryEvent) -> str:
    """A retry event for a log: its label and the call it belongs to."""
    on = f" ({event.method})" if event.method else ""
    return retry_label(event) + on


def retry_wait_s(event: RetryEvent) -> float:
    """How long the event makes its call wait (0 for a refresh or a give-up)."""
    if event.kind in (RetryEventKind.BACKOFF, RetryEventKind.RATE_LIMIT_WAIT):
        return event.delay_s
    return 0.0


def finished_line(event: Finished, wall_s: float | None) -> str:
    """ "done in 4.1 s" (apply) or "checked, 2 change(s) planned in 0.3 s" (plan, audit)."""
    took = f" in {seconds(wall_s)}" if wall_s is not None else ""
    if event.applied:
        return f"done{took}"
    planned = f", {event.planned} change(s) planned" if event.planned else ""
    return f"checked{planned}{took}"


def _short_error(error: str) -> str:
    """ "HTTP 503" out of "ServiceUnavailable (HTTP 503)"; the exception name otherwise."""
    if "(HTTP " in error:
        return error[error.index("(HTTP ") + 1 :].rstrip(")")
    return error or "error"


def eta_s(durations: Sequence[float], in_flight: Sequence[float], queued: int) -> float | None:
    """Seconds left, from the wall durations of the projects finished so far.

    `in_flight` holds how long each started project has been running, `queued` how many have not
    started. A running project is expected to take the mean duration, or once past the mean the
    longest one seen; queued projects run as many at a time as run now. None when there is
    nothing to go on: no project finished yet, or the last ones running are slower than any seen
    (an estimate would sit at zero while they run on).
    """
    if not durations:
        return None
    mean, longest = sum(durations) / len(durations), max(durations)
    left, unknown = [], False
    for elapsed in in_flight:
        if elapsed < mean:
            left.append(mean - elapsed)
        elif elapsed < longest:
            left.append(longest - elapsed)
        else:
            unknown = True
    if unknown and not queued:
        return None
    lanes = max(1, len(in_flight))
    rounds = -(-queued // lanes)  # queued projects start as running ones finish
    return max(left, default=0.0) + rounds * mean

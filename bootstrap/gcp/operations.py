"""Waiting for long-running operations (Service Usage enable/batchEnable, CRM project create).

Policy (reliability-notes §1.8, issue 4): poll with backoff 2 s, x1.5, capped at 20 s, inside a
10-minute deadline, all on the injected clock. An operation that comes back done is never polled
(Service Usage answers `operations/noop.DONE_OPERATION` for an already-enabled service, and
polling that name is an error). Done with `error` is OPERATION_FAILED with the operation's text;
done with neither response nor error is OPERATION_FAILED "unexpected LRO state"; the deadline is
OPERATION_TIMEOUT naming the operation, which keeps running server-side, so a rerun resumes by
reading the state again instead of resubmitting. Ctrl-C while waiting raises
`OperationInterrupted(name)` so the CLI can name what is still pending.

The operation is seen through a tiny `OpState` value, so this module needs no google imports and
is tested with a fake poll function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from bootstrap.clock import Clock
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.gcp.inflight import InFlight

POLL_INITIAL_S = 2.0
POLL_MULTIPLIER = 1.5
POLL_CAP_S = 20.0
OPERATION_DEADLINE_S = 600.0


class OperationInterrupted(KeyboardInterrupt):
    """Ctrl-C while waiting for an operation; the operation keeps running server-side."""

    def __init__(self, operation_name: str) -> None:
        super().__init__(f"interrupted; operation {operation_name} is still running")
        self.operation_name = operation_name


@dataclass(frozen=True, slots=True, kw_only=True)
class OpState:
    """What matters of a google.longrunning.Operation."""

    name: str
    done: bool
    error_code: int | None = None  # google.rpc.Code of `error`, when set
    error_message: str = ""
    has_response: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Waited:
    state: OpState
    polls: int
    duration_s: float


def poll_delays(
    initial_s: float = POLL_INITIAL_S,
    multiplier: float = POLL_MULTIPLIER,
    cap_s: float = POLL_CAP_S,
) -> Iterator[float]:
    """2, 3, 4.5, 6.75, ... capped at 20 s, forever."""
    delay = initial_s
    while True:
        yield delay
        delay = min(delay * multiplier, cap_s)


def wait_operation(
    first: OpState,
    poll: Callable[[str], OpState],
    *,
    clock: Clock,
    deadline_s: float = OPERATION_DEADLINE_S,
    what: str = "operation",
    in_flight: InFlight | None = None,
) -> Waited:
    """Poll `first` until done; return it, or raise BootstrapError (failed, timed out).

    `poll(name)` reads the operation once (the caller wraps it in the retry loop, so a 503 on a
    poll is retried there and does not count against the polling schedule).
    """
    return wait_operations(
        [first], poll, clock=clock, deadline_s=deadline_s, what=what, in_flight=in_flight
    )[0]


def wait_operations(
    firsts: Sequence[OpState],
    poll: Callable[[str], OpState],
    *,
    clock: Clock,
    deadline_s: float = OPERATION_DEADLINE_S,
    what: str = "operation",
    in_flight: InFlight | None = None,
) -> list[Waited]:
    """Poll several operations on one shared schedule (each round polls those not done yet),
    so started-together operations finish together instead of one schedule after another.

    The operations not yet done are in `in_flight` while waited on; an interrupt leaves them
    there, because they keep running on Google's side."""
    running = {s.name: what for s in firsts if s.name and not s.done}
    ledger = in_flight or InFlight()
    ledger.operations_started(running)
    try:
        return _poll_until_done(firsts, poll, clock=clock, deadline_s=deadline_s, what=what)
    except KeyboardInterrupt:
        running = {}  # still running on Google's side: they stay listed
        raise
    finally:
        ledger.operations_ended(list(running))


def _poll_until_done(
    firsts: Sequence[OpState],
    poll: Callable[[str], OpState],
    *,
    clock: Clock,
    deadline_s: float,
    what: str,
) -> list[Waited]:
    start = clock.now()
    states, polls = list(firsts), [0] * len(firsts)
    delays = poll_delays()
    pending = [i for i, state in enumerate(states) if not state.done]
    try:
        while pending:
            remaining = deadline_s - (clock.now() - start)
            if remaining <= 0:
                raise BootstrapError(_timeout_failure(states[pending[0]].name, deadline_s, what))
            clock.sleep(min(next(delays), remaining))
            for index in pending:
                states[index] = poll(states[index].name)
                polls[index] += 1
            pending = [i for i in pending if not states[i].done]
    except KeyboardInterrupt as exc:
        raise OperationInterrupted(states[pending[0]].name if pending else "") from exc
    for state in states:
        check_done(state, what=what)
    elapsed = clock.now() - start
    return [
        Waited(state=s, polls=n, duration_s=elapsed) for s, n in zip(states, polls, strict=True)
    ]


def check_done(state: OpState, *, what: str) -> None:
    """Raise OPERATION_FAILED for a done operation with an error or with nothing at all."""
    if state.error_code is not None:
        raise BootstrapError(
            Failure(
                cause=Cause.OPERATION_FAILED,
                message=f"{what} failed ({state.name}): {state.error_message or 'no message'}",
                remedy="fix the cause named in the message, then rerun",
                metadata={"operation": state.name, "code": str(state.error_code)},
            )
        )
    if not state.has_response:
        raise BootstrapError(
            Failure(
                cause=Cause.OPERATION_FAILED,
                message=(
                    f"{what}: unexpected LRO state: {state.name} is done with neither "
                    "response nor error"
                ),
                remedy="rerun; the next run re-reads the state",
                disposition=Disposition.RETRY,
                metadata={"operation": state.name},
            )
        )


def _timeout_failure(name: str, deadline_s: float, what: str) -> Failure:
    return Failure(
        cause=Cause.OPERATION_TIMEOUT,
        message=(
            f"{what} did not finish within {deadline_s:.0f} s; "
            f"still pending: {name} — rerun to resume"
        ),
        remedy="rerun: the next run re-reads the state instead of resubmitting",
        disposition=Disposition.RETRY,
        metadata={"operation": name},
    )

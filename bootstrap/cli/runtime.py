"""What a running command shares: its clock, the Ctrl-C event, and the guard around it.

`guarded` turns the failures a person can meet (`BootstrapError`) into one line on stderr and
exit 1, and Ctrl-C into a list of what may have happened and exit 130: no tracebacks. That list
comes from the ledger of the cloud connection (`watch`): every mutation sent whose answer had not
arrived, and every operation whose name is known.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

from bootstrap.errors import BootstrapError
from bootstrap.exitcodes import ExitCode

if TYPE_CHECKING:
    from bootstrap.clock import Clock
    from bootstrap.gcp.inflight import InFlight

P = ParamSpec("P")
R = TypeVar("R")


def make_clock() -> Clock:
    """The clock every command waits on. Tests replace this function to fast-forward waits."""
    from bootstrap.clock import SystemClock

    return SystemClock()


CANCEL = threading.Event()  # set on Ctrl-C; every wait of the running command then ends

# The in-flight ledgers of the command's cloud connections, read when Ctrl-C arrives.
_LEDGERS: list[InFlight] = []


def watch(ledger: InFlight) -> None:
    """Report `ledger`'s mutations and operations if the command is interrupted."""
    _LEDGERS.append(ledger)


def cancellable_clock() -> Clock:
    """make_clock(), wrapped so that Ctrl-C in the main thread stops every worker's waits."""
    from bootstrap.cancel import CancellableClock

    CANCEL.clear()
    return CancellableClock(make_clock(), CANCEL)


def fail(message: str) -> NoReturn:
    """Print an expected error without a traceback and exit 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(int(ExitCode.ERROR))


def guarded(function: Callable[P, R]) -> Callable[P, R]:
    """Expected failures print one sentence (no traceback); Ctrl-C exits 130."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _LEDGERS.clear()  # an earlier command in this process (tests) is not this one's business
        try:
            return function(*args, **kwargs)
        except BootstrapError as error:
            from bootstrap.redact import redact

            click.echo(f"error: {redact(error.failure.sentence())}", err=True)
            sys.exit(int(ExitCode.ERROR))
        except KeyboardInterrupt as interrupt:
            CANCEL.set()
            _interrupted(interrupt)

    return wrapper


def _interrupted(interrupt: KeyboardInterrupt) -> NoReturn:
    """Say what may have happened, then exit 130 at once (even if a worker is mid-request)."""
    mutations, operations = in_flight(interrupt)
    if mutations:
        click.echo(
            "Interrupted. Sent, but no answer had arrived (may have been applied: run plan to see):",
            err=True,
        )
        for mutation in mutations:
            click.echo(f"  {mutation}", err=True)
    if operations:
        click.echo(
            "Interrupted. Still running on Google's side (a rerun picks them up):"
            if not mutations
            else "Still running on Google's side (a rerun picks them up):",
            err=True,
        )
        for operation in operations:
            click.echo(f"  {operation}", err=True)
    if not mutations and not operations:
        click.echo("Interrupted; nothing was left half-done that a rerun cannot finish.", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        # A worker blocked in an HTTP call would hold the exit for its timeout: don't wait.
        os._exit(int(ExitCode.INTERRUPTED))
    sys.exit(int(ExitCode.INTERRUPTED))


def in_flight(interrupt: KeyboardInterrupt) -> tuple[list[str], list[str]]:
    """(mutations that may have been applied, operations still running), from the watched
    ledgers and from what the interrupt itself carries; each operation named once."""
    mutations = [m for ledger in _LEDGERS for m in ledger.uncertain_mutations()]
    operations = [o for ledger in _LEDGERS for o in ledger.running_operations()]
    carried = list(getattr(interrupt, "operations", ()))
    single = getattr(interrupt, "operation_name", None)
    if single:
        carried.append(single)
    named = {o.split(" ", 1)[0] for o in operations}
    operations += [o for o in carried if o.split(" ", 1)[0] not in named]
    return mutations, operations

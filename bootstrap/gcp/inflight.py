"""What a run has in flight at Google, so that an interrupt can say what may have happened.

Two things outlive a Ctrl-C: a mutation that was sent and whose answer had not arrived (it may
have been applied, or not: only a re-read tells), and a long-running operation whose name is
known (it keeps running server-side). Both are recorded here by the call layer as they happen,
not reconstructed from exceptions afterwards, because a worker blocked in an HTTP call never
gets to raise one before the process exits.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(slots=True)
class _Mutation:
    what: str
    uncertain: bool = False  # sent at least once without a definite answer


class InFlight:
    """A thread-safe ledger of mutations awaiting answers and operations still running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._mutations: dict[int, _Mutation] = {}
        self._operations: dict[str, str] = {}  # name -> what it does

    @contextmanager
    def mutation(self, what: str) -> Iterator[Sending]:
        """The span of one mutating call, its retries included.

        It leaves the ledger when the call ends with an answer (a result or an error). An
        interrupt (KeyboardInterrupt) leaves it there when an attempt was sent without a
        definite answer: that is the mutation that may have been applied.
        """
        key = next(self._ids)
        entry = _Mutation(what)
        with self._lock:
            self._mutations[key] = entry
        try:
            yield Sending(entry)
        except KeyboardInterrupt:
            if not entry.uncertain:
                self._forget(key)
            raise
        except BaseException:
            self._forget(key)
            raise
        self._forget(key)

    def _forget(self, key: int) -> None:
        with self._lock:
            self._mutations.pop(key, None)

    def operations_started(self, names: dict[str, str]) -> None:
        with self._lock:
            self._operations.update(names)

    def operations_ended(self, names: list[str]) -> None:
        with self._lock:
            for name in names:
                self._operations.pop(name, None)

    def uncertain_mutations(self) -> list[str]:
        """Mutations sent whose answer had not arrived (or was lost), oldest first."""
        with self._lock:
            return [m.what for m in self._mutations.values() if m.uncertain]

    def running_operations(self) -> list[str]:
        """'NAME (what it does)' for each operation started and not seen to end."""
        with self._lock:
            return [f"{name} ({what})" for name, what in self._operations.items()]


class Sending:
    """The handle one mutating call marks its attempts on."""

    def __init__(self, entry: _Mutation) -> None:
        self._entry = entry
        self._before = False

    def sending(self) -> None:
        """An attempt is about to go on the wire: until it answers, it may be applied."""
        self._before = self._entry.uncertain
        self._entry.uncertain = True

    def answered(self, *, lost: bool) -> None:
        """The attempt ended. An answer that arrived (an HTTP error, a refused connection) says
        it was not applied, so the call is as certain as before it; a lost one stays uncertain."""
        if not lost:
            self._entry.uncertain = self._before

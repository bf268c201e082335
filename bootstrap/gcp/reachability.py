"""A dead endpoint stops a run after a few attempts instead of after every call's retries.

Until the first answer of a run arrives, every attempt refused at connect time (nothing
listening, or a host name that does not resolve) is counted. At `REFUSED_LIMIT` refusals the
endpoint is judged dead: the attempt that trips it and every later one raise the same
UNAVAILABLE failure naming the endpoint and how it was chosen, without sending anything. The
count is of attempts, not seconds, so a 30-project audit stops as fast as a one-project plan.
Once any answer has arrived (even an error) the endpoint is alive and refusals are ordinary
transient errors, retried by the loop.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

from bootstrap.errors import BootstrapError, Cause, Disposition, Failure

# Few enough to stop in about a second, more than one so a single refused connection (a proxy
# restarting) does not end a run.
REFUSED_LIMIT = 3


class EndpointUnreachable(BootstrapError):
    """The endpoint refused the first attempts of the run; nothing more is sent."""


class Reachability:
    """Shared by every call of one GcpCloud; thread-safe."""

    def __init__(self, endpoint: str, *, remedy: str, limit: int = REFUSED_LIMIT) -> None:
        self.endpoint = endpoint
        self._remedy = remedy
        self._limit = limit
        self._lock = threading.Lock()
        self._answered = False
        self._refused: list[str] = []
        self.failure: Failure | None = None  # set once the endpoint is judged dead

    def check(self) -> None:
        """Raise EndpointUnreachable once the endpoint was judged dead (before sending)."""
        if self.failure is not None:
            raise EndpointUnreachable(self.failure)

    def answered(self) -> None:
        """Any answer, even an error, proves someone is listening."""
        self._answered = True

    def failed(self, exc: BaseException) -> None:
        """Count a refused attempt; raise EndpointUnreachable when it is the last allowed."""
        why = refusal(exc)
        if why is None or self._answered:
            return
        with self._lock:
            self._refused.append(why)
            if self.failure is None and len(self._refused) >= self._limit:
                self.failure = self._dead(why)
        self.check()

    def _dead(self, why: str) -> Failure:
        return Failure(
            cause=Cause.UNAVAILABLE,
            message=(
                f"nothing answered at {self.endpoint}: the first {len(self._refused)} requests "
                f"failed to connect ({why}); stopped without sending more."
            ),
            remedy=self._remedy,
            disposition=Disposition.FIX_INPUT,
        )


def refusal(exc: BaseException) -> str | None:
    """'connection refused' or 'host name not resolved' when the attempt never connected."""
    for link in _chain(exc):
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, socket.gaierror):
            return "host name not resolved"
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: causes, contexts, urllib3's `reason`, a wrapped arg."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        wrapped = [link.__cause__, link.__context__, getattr(link, "reason", None)]
        wrapped += [arg for arg in link.args[:1] if isinstance(arg, BaseException)]
        pending.extend(w for w in wrapped if isinstance(w, BaseException))

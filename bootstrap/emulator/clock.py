"""The emulator's one virtual clock: every duration (operations, lags, quotas, token pacing,
model lifecycle dates) is measured on it.

Virtual time runs `time_scale` times faster than the wall clock and can be pushed forward with
`advance`, so tests never sleep through a lag. Real waits (token pacing, delays) are the virtual
duration divided by the scale.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

DEFAULT_START = "2026-11-25T12:00:00Z"


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a missing zone means UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_rfc3339(moment: datetime) -> str:
    """Millisecond precision with a `Z`, as Resource Manager emits (GAPIC needs the zone)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class VirtualClock:
    """Seconds since the start instant, scaled, plus manual advances."""

    def __init__(self, *, start: datetime, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.start = start
        self.time_scale = time_scale
        self._wall_origin = time.monotonic()
        self._advanced = 0.0

    def elapsed(self) -> float:
        """Virtual seconds since the start instant."""
        return (time.monotonic() - self._wall_origin) * self.time_scale + self._advanced

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed())

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._advanced += seconds

    def restart(self, *, start: datetime) -> None:
        self.start = start
        self._wall_origin = time.monotonic()
        self._advanced = 0.0

    async def sleep(self, virtual_seconds: float) -> None:
        """Wait a virtual duration in real time (virtual / scale)."""
        if virtual_seconds > 0:
            await asyncio.sleep(virtual_seconds / self.time_scale)

"""The request journal: one tuple appended per API request, rendered to JSON only when read,
so a benchmark's million entries cost little. Control calls are never journaled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bootstrap.emulator.clock import format_rfc3339

# (virtual seconds since clock start, method, path, query, status, principal email, mutating)
Entry = tuple[float, str, str, str, int, str, bool]


class Journal:
    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def append(self, entry: Entry) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries = []

    def render(self, start: datetime) -> list[dict[str, Any]]:
        return [
            {
                "time": format_rfc3339(start + timedelta(seconds=at)),
                "method": method,
                "path": path,
                "query": query,
                "status": status,
                "principal": principal,
                "mutating": mutating,
            }
            for at, method, path, query, status, principal, mutating in self.entries
        ]

"""The values that pass between the HTTP layer and the per-API backends: a parsed call and a
reply. Backends take a Call and return a Reply (or raise ApiError); they never see HTTP objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bootstrap.emulator.world import Principal


class QuotaKind(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    principal: Principal

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def field(self, camel: str, snake: str | None = None) -> Any:
        """A body field by its camelCase name, or snake_case (clients may send either)."""
        if not isinstance(self.body, dict):
            return None
        if camel in self.body:
            return self.body[camel]
        return self.body.get(snake) if snake else None


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: Any = None
    # Server-sent events: each item is one complete `data: ...\n\n` event.
    events: AsyncIterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Any, Call], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    """One API method: where it lives, who answers, and how it counts for quotas and the journal."""

    method: str
    pattern: str
    handler: Handler
    api: str
    quota: QuotaKind = QuotaKind.READ
    mutating: bool = False
    cost: int = 1


def page(items: list[Any], *, size: int, token: str) -> tuple[list[Any], str]:
    """Offset paging: the token is the next offset; empty when there is no next page."""
    start = int(token) if token.isdigit() else 0
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")


def page_size(raw: str, *, default: int, maximum: int) -> int:
    try:
        size = int(raw)
    except ValueError:
        return default
    return default if size <= 0 else min(size, maximum)

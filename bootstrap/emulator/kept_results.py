"""The results of one paged call, kept for its next pages: the page token names them.

Cloud Asset's searches and analyses are computed once, at the first page, so every page shows the
same moment and a 10,000-project organization is walked once per call, not once per page. A
store keeps the last few calls' results; an older token starts its call again.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Generic, TypeVar

from bootstrap.emulator.state import Store

T = TypeVar("T")


class KeptResults(Generic[T]):
    def __init__(self, prefix: str, *, kept: int) -> None:
        self._prefix = prefix  # tells the kinds of call apart in a token
        self._kept = kept
        self._by_store: weakref.WeakKeyDictionary[Store, dict[str, list[T]]] = (
            weakref.WeakKeyDictionary()
        )
        self._counter = itertools.count(1)

    def find(self, store: Store, token: str) -> tuple[str, list[T] | None, str]:
        """The key and results a page token continues (None when not kept) and its offset."""
        key, _, offset = token.rpartition("-")
        results = self._by_store.get(store, {}).get(key)
        return (key if results is not None else ""), results, offset

    def keep(self, store: Store, results: list[T]) -> str:
        """Keep `results` for the next pages; the key the page tokens start with."""
        kept = self._by_store.setdefault(store, {})
        while len(kept) >= self._kept:
            kept.pop(next(iter(kept)))
        key = f"{self._prefix}{next(self._counter)}"
        kept[key] = results
        return key

"""A minimal server-sent events parser, fed one decoded line at a time.

The smoke test reads the raw lines of a chat completion stream itself (the openai SDK's own
iterator cannot tell a `data: [DONE]` from a dropped connection), so it needs the few rules of
the SSE format (html.spec.whatwg.org, "Parsing an event stream") and nothing more:

- a blank line dispatches the event built so far;
- `data:` lines accumulate, joined by newlines; `event:` names the event;
- a line starting with `:` is a comment (keep-alive); other fields (`id:`, `retry:`) are ignored;
- one space after the colon is dropped.

It is deliberately allocation-light: a stream of 100 concurrent completions goes through it one
token per line.
"""

from __future__ import annotations

from dataclasses import dataclass

DONE = "[DONE]"


@dataclass(frozen=True, slots=True)
class Event:
    """One dispatched SSE event: its name (`message` unless set) and its data."""

    data: str
    event: str = "message"


class SSEParser:
    """Turns lines (without their line ending) into events."""

    __slots__ = ("_data", "_event")

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""

    def feed(self, line: str) -> Event | None:
        """Take one line; return the event it completes, if any."""
        if not line:
            return self._dispatch()
        if line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
            return None
        if line[0] == ":":
            return None
        name, _, value = line.partition(":")
        if name == "event":
            self._event = value[1:] if value.startswith(" ") else value
        return None

    def finish(self) -> Event | None:
        """The event still pending when the stream ended without its blank line.

        The spec discards it; we keep it, because a server that sends `data: [DONE]` and closes
        without the final blank line has still said it is done.
        """
        return self._dispatch()

    def _dispatch(self) -> Event | None:
        if not self._data:
            self._event = ""
            return None
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        event = Event(data, self._event or "message")
        self._data = []
        self._event = ""
        return event


def parse_lines(lines: list[str]) -> list[Event]:
    """Every event in a complete list of lines (for tests and small bodies)."""
    parser = SSEParser()
    events = [event for line in lines if (event := parser.feed(line)) is not None]
    tail = parser.finish()
    if tail is not None:
        events.append(tail)
    return events

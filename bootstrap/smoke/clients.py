"""The smoke run's clients, built once per run, and what a stream's metrics need from the wire.

A burst of smoke streams shares two cores and one GIL with everything else the run does, and
every millisecond of Python a stream spends before its request is written delays the others
(issue 20, docs/benchmarks.md: an SDK client per project, a copy per call and the SDK's own
request path cost ~2 ms a stream, paid 100 times over inside the burst). So:

- `http_client`: one `httpx.Client` per run, a pool as large as the concurrency, that stamps every
  request with the moment httpcore finished writing it (`SentAt`, through httpcore's `trace`
  extension), so TTFT is measured from the wire, not from the tool's own queueing.
- `ChatStreams`: one openai SDK client per run, that builds each distinct request once (before
  the first stream starts, for the plain smoke body), and copies of it sent by the shared HTTP
  client to each case's own URL (project x location). Nothing about the caller is baked in: the
  access token goes in each request's own Authorization header, so each case (or a retry after
  a refresh) may carry a different principal's token.
- `InFlight`: how many of the run's streams were open at once while each one was measured.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any, cast

import httpx
import openai

# The token is set per request (`auth_headers`); the SDK refuses to start without a key.
PLACEHOLDER_KEY = "set-per-request"


class SentAt:
    """An httpcore trace callback that keeps the time the request's body was fully written."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        # http11.send_request_body.complete (or http2.…): the request is on the wire.
        if event.endswith("send_request_body.complete"):
            self.at = time.monotonic()


def _stamp(request: httpx.Request) -> None:
    request.extensions["trace"] = SentAt()


def sent_at(response: httpx.Response) -> float | None:
    """When the request of `response` was written, if our client stamped it."""
    trace = response.request.extensions.get("trace")
    return trace.at if isinstance(trace, SentAt) else None


def http_client(connections: int, timeout_s: float) -> httpx.Client:
    """The shared client: a pool as large as the concurrency, and never the SDK's 600 s."""
    return httpx.Client(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
        event_hooks={"request": [_stamp]},
    )


def auth_headers(token: str) -> dict[str, str]:
    """The per-request Authorization header."""
    return {"Authorization": f"Bearer {token}"}


# Headers of a built request that belong to one request, not to its template: set per send.
_PER_REQUEST = frozenset({"authorization", "host", "content-length", "idempotency-key"})


class _Template:
    """A request as the SDK builds it (headers and JSON body), without its URL and token."""

    __slots__ = ("content", "headers")

    def __init__(self, request: httpx.Request) -> None:
        self.headers = {k: v for k, v in request.headers.items() if k.lower() not in _PER_REQUEST}
        self.content = request.read()


class _Capture:
    """A transport for the SDK's builder: keeps the request it built and sends nothing."""

    def __init__(self) -> None:
        self.request: httpx.Request | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        return httpx.Response(200)


class ChatStreams:
    """Streaming chat completions for a whole run: the openai SDK builds each distinct request
    once, the run's HTTP client sends it, once per case.

    The SDK's request path (typed parameters, options, headers, URL) costs ~0.5-1 ms of Python
    per call, 3x a bare httpx send, and 100 streams starting at once pay it one after another on
    one GIL: the last ones waited tens of ms before their request was written (issue 20). A
    request differs from the next only by its URL (project, location) and its token, so the SDK
    (`client.post`, its documented call for a route by URL) builds it once per distinct body into
    a capturing transport, before the burst when `prepare` is given the bodies; each stream sends
    a copy with its own URL and Authorization header. Answers come back as the SDK's exceptions
    (`APIStatusError`, `APITimeoutError`, `APIConnectionError`), as when it sent them itself.
    """

    def __init__(self, http: httpx.Client, timeout_s: float, base_url: str) -> None:
        self._http = http
        self._capture = _Capture()
        self._builder = openai.OpenAI(
            base_url=base_url,  # every request names its own absolute URL
            api_key=PLACEHOLDER_KEY,
            http_client=cast(Any, httpx.Client(transport=httpx.MockTransport(self._capture))),
            max_retries=0,
            timeout=timeout_s,
        )
        self._base_url = base_url
        self._templates: dict[str, _Template] = {}
        self._lock = threading.Lock()

    def prepare(self, bodies: Iterable[dict[str, Any]]) -> None:
        """Build the requests of these bodies now, outside the burst of streams."""
        for body in bodies:
            self._template(body)

    def open(self, url: str, body: dict[str, Any], token: str, timeout_s: float) -> httpx.Response:
        """Send one streaming chat completion; its response, headers read and body not yet."""
        template = self._template(body)
        headers = {**template.headers, **auth_headers(token)}
        request = self._http.build_request(
            "POST", url, headers=headers, content=template.content, timeout=timeout_s
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise openai.APITimeoutError(request=cast(Any, request)) from exc
        except Exception as exc:  # as the SDK does: anything before an answer is a connection error
            raise openai.APIConnectionError(request=cast(Any, request)) from exc
        if not response.is_success:
            raise _status_error(response)
        return response

    def _template(self, body: dict[str, Any]) -> _Template:
        key = json.dumps(body)
        found = self._templates.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._templates.get(key)
            if found is None:
                self._builder.post(
                    self._base_url,
                    cast_to=httpx.Response,
                    body=body,
                    options={"headers": auth_headers(PLACEHOLDER_KEY)},
                )
                assert self._capture.request is not None  # the SDK sent it to _Capture
                found = _Template(self._capture.request)
                self._templates[key] = found
            return found


def _status_error(response: httpx.Response) -> openai.APIStatusError:
    """The SDK's exception for an error answer (its body read, the connection released)."""
    body: object = None
    try:
        response.read()
        text = response.text
        body = json.loads(text) if text else None
    except ValueError:
        body = text
    except httpx.HTTPError:
        pass  # the body was cut short: the status still says what happened
    finally:
        response.close()
    return openai.APIStatusError(
        f"Error code: {response.status_code} - {body}", response=cast(Any, response), body=body
    )


class Flight:
    """One open stream's share of `InFlight`: the most streams open at once while it was."""

    __slots__ = ("peak",)

    def __init__(self, peak: int) -> None:
        self.peak = peak


class InFlight:
    """The run's open streams. Each one's peak is raised whenever another opens beside it: O(open)
    per stream opened, under one lock, and nothing per token."""

    def __init__(self) -> None:
        self._open: set[Flight] = set()
        self._lock = threading.Lock()

    def enter(self) -> Flight:
        with self._lock:
            count = len(self._open) + 1
            for other in self._open:
                if other.peak < count:
                    other.peak = count
            flight = Flight(count)
            self._open.add(flight)
            return flight

    def leave(self, flight: Flight) -> None:
        with self._lock:
            self._open.discard(flight)

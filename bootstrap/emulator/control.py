"""The control API under /_emulator/ (no auth, loopback clients only): reset, world get/put,
faults add/list/clear, journal get/clear, clock get/advance. Control calls are not journaled.
It drives whatever satisfies `Controlled` (the ASGI app), so it never imports the app.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from bootstrap.emulator.clock import format_rfc3339
from bootstrap.emulator.faults import Faults
from bootstrap.emulator.journal import Journal
from bootstrap.emulator.quotas import QuotaBuckets
from bootstrap.emulator.state import Store

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Controlled(Protocol):
    """The emulator state the control API reads and replaces."""

    store: Store
    faults: Faults
    journal: Journal
    quotas: QuotaBuckets

    def reset(self) -> None: ...


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message}}


def control(app: Controlled, scope: dict[str, Any], path: str, body: bytes) -> tuple[int, Any]:
    client = scope.get("client")
    if client and client[0] not in LOOPBACK:
        return _error(403, "the control API answers loopback clients only")
    method = scope["method"]
    name = path.removeprefix("/_emulator/").strip("/")
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError as exc:
        return _error(400, f"invalid JSON: {exc}")
    endpoint = ENDPOINTS.get((method, name))
    if endpoint is None:
        return _error(404, f"no control endpoint {method} /_emulator/{name}")
    try:
        return 200, endpoint(app, payload)
    except (ValueError, KeyError, TypeError) as exc:
        return _error(400, f"{type(exc).__name__}: {exc}")


def _reset(app: Controlled, payload: Any) -> Any:
    app.reset()
    return {}


def _get_world(app: Controlled, payload: Any) -> Any:
    return app.store.dump()


def _put_world(app: Controlled, payload: Any) -> Any:
    app.store.load(payload, keep_clock=True)
    app.quotas.clear()
    return app.store.dump()


def _add_faults(app: Controlled, payload: Any) -> Any:
    app.faults.add(payload)
    return app.faults.snapshot()


def _get_faults(app: Controlled, payload: Any) -> Any:
    return app.faults.snapshot()


def _clear_faults(app: Controlled, payload: Any) -> Any:
    app.faults.clear()
    return {}


def _get_journal(app: Controlled, payload: Any) -> Any:
    return {"entries": app.journal.render(app.store.clock.start)}


def _clear_journal(app: Controlled, payload: Any) -> Any:
    app.journal.clear()
    return {}


def _advance_clock(app: Controlled, payload: Any) -> Any:
    app.store.clock.advance(float(payload.get("advance_s", 0)))
    return {"now": format_rfc3339(app.store.clock.now())}


def _get_clock(app: Controlled, payload: Any) -> Any:
    clock = app.store.clock
    return {"now": format_rfc3339(clock.now()), "time_scale": clock.time_scale}


# Every endpoint answers 200 with its payload; bad input raises and becomes a 400.
ENDPOINTS: dict[tuple[str, str], Callable[[Controlled, Any], Any]] = {
    ("POST", "reset"): _reset,
    ("GET", "world"): _get_world,
    ("PUT", "world"): _put_world,
    ("POST", "faults"): _add_faults,
    ("GET", "faults"): _get_faults,
    ("DELETE", "faults"): _clear_faults,
    ("GET", "journal"): _get_journal,
    ("DELETE", "journal"): _clear_journal,
    ("POST", "clock"): _advance_clock,
    ("GET", "clock"): _get_clock,
}

"""The control API under /_emulator/ (no auth, loopback clients only): reset, world get/put,
faults add/list/clear, journal get/clear, clock advance. Control calls are not journaled.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bootstrap.emulator.clock import format_rfc3339

if TYPE_CHECKING:
    from bootstrap.emulator.app import EmulatorApp

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message}}


def control(app: EmulatorApp, scope: dict[str, Any], path: str, body: bytes) -> tuple[int, Any]:
    client = scope.get("client")
    if client and client[0] not in LOOPBACK:
        return _error(403, "the control API answers loopback clients only")
    method = scope["method"]
    name = path.removeprefix("/_emulator/").strip("/")
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError as exc:
        return _error(400, f"invalid JSON: {exc}")
    try:
        return _dispatch(app, method, name, payload)
    except (ValueError, KeyError, TypeError) as exc:
        return _error(400, f"{type(exc).__name__}: {exc}")


def _dispatch(app: EmulatorApp, method: str, name: str, payload: Any) -> tuple[int, Any]:
    store = app.store
    if (method, name) == ("POST", "reset"):
        app.reset()
        return 200, {}
    if (method, name) == ("GET", "world"):
        return 200, store.dump()
    if (method, name) == ("PUT", "world"):
        store.load(payload, keep_clock=True)
        app.quotas.clear()
        return 200, store.dump()
    if (method, name) == ("POST", "faults"):
        app.faults.add(payload)
        return 200, app.faults.snapshot()
    if (method, name) == ("GET", "faults"):
        return 200, app.faults.snapshot()
    if (method, name) == ("DELETE", "faults"):
        app.faults.clear()
        return 200, {}
    if (method, name) == ("GET", "journal"):
        return 200, {"entries": app.journal.render(store.clock.start)}
    if (method, name) == ("DELETE", "journal"):
        app.journal.clear()
        return 200, {}
    if (method, name) == ("POST", "clock"):
        store.clock.advance(float(payload.get("advance_s", 0)))
        return 200, {"now": format_rfc3339(store.clock.now())}
    if (method, name) == ("GET", "clock"):
        return 200, {"now": format_rfc3339(store.clock.now()), "time_scale": store.clock.time_scale}
    return _error(404, f"no control endpoint {method} /_emulator/{name}")

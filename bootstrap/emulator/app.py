"""The ASGI application: routing, authentication, quotas, faults, latency, journal and the
request log around the per-API backends, plus the control API under /_emulator/.

Kept as a plain ASGI callable (no per-request framework objects) because it must serve
thousands of requests per second on two cores; handlers stay HTTP-free.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from bootstrap.emulator import (
    asset,
    asset_iam,
    asset_orgpolicy,
    billing,
    cloudquotas,
    crm,
    field_mask,
    folders,
    google_errors,
    iamcredentials,
    operations,
    orgpolicy,
    serviceusage,
    vertex,
)
from bootstrap.emulator.calls import Call, Reply, Route
from bootstrap.emulator.control import control
from bootstrap.emulator.faults import Action, Faults, Phase, Rule
from bootstrap.emulator.journal import Journal
from bootstrap.emulator.quotas import QuotaBuckets
from bootstrap.emulator.state import Store
from bootstrap.emulator.transport import reset_connection

Send = Callable[[dict[str, Any]], Any]
Receive = Callable[[], Any]
JSON_TYPE = b"application/json; charset=UTF-8"
NO_RESPONSE = 0  # journal status for reset and endless stalls


class EmulatorApp:
    def __init__(
        self, store: Store, *, faults: Faults, latency_ms: float = 0, quiet: bool = True
    ) -> None:
        self.store = store
        self.faults = faults
        self.journal = Journal()
        self.quotas = QuotaBuckets()
        self.latency_ms = latency_ms
        self.quiet = quiet
        self.routes: dict[str, list[tuple[re.Pattern[str], Route]]] = {}
        for route in (
            crm.ROUTES
            + folders.ROUTES
            + operations.ROUTES
            + serviceusage.ROUTES
            + billing.ROUTES
            + vertex.ROUTES
            + orgpolicy.ROUTES
            + cloudquotas.ROUTES
            + iamcredentials.ROUTES
            + asset.ROUTES
            + asset_orgpolicy.ROUTES
            + asset_iam.ROUTES
        ):
            self.routes.setdefault(route.method, []).append(
                (re.compile(route.pattern + r"/?"), route)
            )

    def reset(self) -> None:
        self.store.load(self.store.initial)
        self.faults.clear()
        self.journal.clear()
        self.quotas.clear()

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for pattern, route in self.routes.get(method, ()):
            found = pattern.fullmatch(path)
            if found:
                return route, found.groupdict()
        return None, {}

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        if path.startswith("/_emulator/"):
            status, payload = control(self, scope, path, body)
            await _send_json(send, status, payload)
            return
        started = time.perf_counter()
        status, email, mutating = await self.serve_api(scope, receive, send, body)
        query = scope["query_string"].decode("latin-1")
        self.journal.append(
            (self.store.clock.elapsed(), scope["method"], path, query, status, email, mutating)
        )
        if not self.quiet:
            took = (time.perf_counter() - started) * 1000
            print(
                f"{scope['method']} {path} -> {status or 'dropped'} [{email or '-'}] {took:.1f}ms",
                file=sys.stderr,
            )

    async def serve_api(
        self, scope: dict[str, Any], receive: Receive, send: Send, body: bytes
    ) -> tuple[int, str, bool]:
        """Answer one API request. Returns the status sent (0: none), the caller's email and
        whether the route mutates, for the journal."""
        method, path = scope["method"], scope["path"]
        route, params = self.resolve(method, path)
        mutating = bool(route and route.mutating)
        rule = self.faults.pick(method, path, body) if self.faults.rules else None
        outcome = await self._fault_at(Phase.BEFORE, rule, scope, receive, send)
        if outcome is not None:
            return outcome, _email(self.store, scope), mutating
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        reply, email = self.handle(route, params, scope, body)
        outcome = await self._fault_at(Phase.AFTER, rule, scope, receive, send)
        if outcome is not None:
            return outcome, email, mutating
        if reply.events is not None:
            await self.stream(reply, send, receive, scope, rule)
        else:
            await _send_json(send, reply.status, reply.body, reply.headers)
        return reply.status, email, mutating

    def handle(
        self, route: Route | None, params: dict[str, str], scope: dict[str, Any], body: bytes
    ) -> tuple[Reply, str]:
        """Authenticate, charge the quota and run the backend; API errors become error replies.
        Returns the reply and the caller's email ('' when authentication did not get that far)."""
        email = ""
        try:
            if route is None:
                raise google_errors.not_found(
                    f"The requested URL {scope['path']} was not found on this server."
                )
            service = f"{route.api}.googleapis.com"
            principal = self.store.principal(_bearer(scope), service=service)
            email = principal.email
            self.quotas.charge(
                self.store.world.quotas,
                route,
                principal=email,
                now=self.store.clock.elapsed(),
                consumer=self._consumer(params, email),
                retry_info=self.store.world.behaviour.retry_info_on_429,
                organization=asset.organization_of(self.store, params.get("scope", "")),
            )
            query = parse_qs(scope["query_string"].decode("latin-1"))
            call = Call(scope["method"], scope["path"], params, query, _json(body), principal)
            return _masked(
                route.handler(self.store, call), _header(scope, b"x-goog-fieldmask")
            ), email
        except google_errors.ApiError as exc:
            error: Any = exc.body()
            # Row 16 (reported): the chat route may wrap its error in a one-element array.
            if route is not None and route.pattern.endswith("/chat/completions"):
                error = [error] if self.store.world.chat.array_errors else error
            return Reply(status=exc.http, body=error), email

    def _consumer(self, params: dict[str, str], email: str) -> str:
        """Google names the consumer project by number (row 21), whatever the caller used."""
        if "p" not in params:
            return email
        project = self.store.project(params["p"])
        return f"projects/{project.number if project else params['p']}"

    async def _fault_at(
        self, phase: Phase, rule: Rule | None, scope: dict[str, Any], receive: Receive, send: Send
    ) -> int | None:
        """Apply a rule due at this phase; SSE rules act while streaming instead (see stream)."""
        if rule is None or rule.phase != phase or rule.action.startswith("sse_"):
            return None
        return await self.apply_fault(rule, scope, receive, send)

    async def apply_fault(
        self, rule: Rule, scope: dict[str, Any], receive: Receive, send: Send
    ) -> int | None:
        """Act on a non-SSE rule. Returns the status sent (0: none), or None to serve normally."""
        if rule.action == Action.DELAY:
            await asyncio.sleep(rule.delay_ms / 1000)
            return None
        if rule.action == Action.RESET:
            await reset_connection(scope)
            return NO_RESPONSE
        if rule.action == Action.STALL:
            if rule.delay_ms > 0:
                await asyncio.sleep(rule.delay_ms / 1000)
                return None
            await _wait_disconnect(receive)
            return NO_RESPONSE
        await _send_raw(send, rule.status, rule.body, rule.headers)
        return rule.status

    async def stream(
        self, reply: Reply, send: Send, receive: Receive, scope: dict[str, Any], rule: Rule | None
    ) -> None:
        assert reply.events is not None
        sse = rule if rule is not None and rule.action.startswith("sse_") else None
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        headers += [(k.encode(), v.encode()) for k, v in (sse.headers if sse else {}).items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        gone = asyncio.ensure_future(_wait_disconnect(receive))
        sent = 0
        try:
            async for event in reply.events:
                if gone.done():
                    return
                if sse is not None and sent >= sse.events:
                    await self._break(sse, send, scope)
                    return
                if (
                    sse is not None
                    and sse.action == Action.SSE_NO_DONE
                    and event.startswith(b"data: [DONE]")
                ):
                    break
                await send({"type": "http.response.body", "body": event, "more_body": True})
                sent += 1
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()

    async def _break(self, rule: Rule, send: Send, scope: dict[str, Any]) -> None:
        if rule.action == Action.SSE_BREAK_AFTER:
            await reset_connection(scope)
            return
        if rule.action == Action.SSE_ERROR_AFTER:
            error = rule.body if rule.body is not None else {
                "error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}
            }  # fmt: skip
            event = b"data: " + json.dumps(error).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _email(store: Store, scope: dict[str, Any]) -> str:
    token = _bearer(scope) or ""
    principal = store.principals_by_token.get(token) or store.minted.get(token, (None,))[0]
    return principal.email if principal else ""


def _header(scope: dict[str, Any], wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _bearer(scope: dict[str, Any]) -> str | None:
    scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _masked(reply: Reply, mask: str | None) -> Reply:
    """The answer with only the fields an `X-Goog-FieldMask` names (emulator/field_mask.py)."""
    if mask is None or reply.events is not None or reply.status >= 400:
        return reply
    return replace(reply, body=field_mask.apply(reply.body, field_mask.parse(mask)))


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise google_errors.invalid_argument(f"Invalid JSON payload received. {exc}") from exc


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _send_json(
    send: Send, status: int, payload: Any, headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else b"{}"
    raw = [(b"content-type", JSON_TYPE), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


async def _send_raw(send: Send, status: int, body: Any, headers: dict[str, str]) -> None:
    """A fault's answer: JSON for dicts and lists, bytes as-is for strings, nothing for None."""
    if body is None:
        data, kind = b"", JSON_TYPE
    elif isinstance(body, str):
        data, kind = body.encode(), b"text/plain; charset=UTF-8"
    else:
        data, kind = json.dumps(body).encode(), JSON_TYPE
    raw = [(b"content-type", kind), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})

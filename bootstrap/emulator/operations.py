"""The operations.get routes (`/v3/operations/...` and `/v1/operations/...`). Resource Manager v1
and Service Usage share `/v1/operations/{id}` on one port, so one handler serves every
operation and hands it to the API that started it, chosen by the operation's kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bootstrap.emulator import crm, google_errors, serviceusage
from bootstrap.emulator.calls import Call, Reply, Route
from bootstrap.emulator.state import Store

Renderer = Callable[[Store, dict[str, Any]], dict[str, Any]]

# Service Usage renders every kind Resource Manager does not claim, including kinds a
# hand-written world names, as its batch operation.
RENDERERS: dict[str, Renderer] = {kind: crm.operation_json for kind in crm.OPERATION_KINDS}


def render(store: Store, op: dict[str, Any]) -> dict[str, Any]:
    return RENDERERS.get(op["kind"], serviceusage.operation_json)(store, op)


def get_operation(store: Store, call: Call) -> Reply:
    name = f"operations/{call.params['op']}"
    if name == serviceusage.NOOP and not store.world.behaviour.noop_operation_get_404:
        return Reply(
            body={
                "name": name,
                "done": True,
                "response": {"@type": "type.googleapis.com/google.protobuf.Empty"},
            }
        )
    op = store.poll(name)
    if op is None:
        raise google_errors.not_found(f"Operation '{name}' not found.")
    return Reply(body=render(store, op))


ROUTES = [
    Route("GET", r"/v3/operations/(?P<op>.+)", get_operation, crm.API),
    Route("GET", r"/v1/operations/(?P<op>[^/]+)", get_operation, "operations"),
]

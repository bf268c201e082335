"""Replay exchanges recorded against real GCP and compare the emulator's answers with them.

The exchanges (tests/emulator/recorded/exchanges.json) come from GoogleCloudPlatform/
k8s-config-connector's `_http.log` files (its `source` field names each one). Ids differ between
the recording and the emulator, so the comparison is by shape: the HTTP status, every field name
(recursively; a list by its first item), and the values that are contracts rather than ids:
`@type`, `state`, `status`, `lifecycleState`, `done`, `code`, `message` of errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from bootstrap.emulator.inprocess import Emulator

RECORDED = json.loads((Path(__file__).parent / "recorded" / "exchanges.json").read_text())
KEPT_VALUES = {"@type", "state", "status", "lifecycleState", "done", "code"}
PROJECT = "replay-proj"


def shape(value: Any, key: str = "") -> Any:
    """The comparable shape of a JSON value: field names and contract values, not ids."""
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0], key)] if value else []
    if key in KEPT_VALUES or (key == "message" and isinstance(value, str) and "caller" in value):
        return value
    return type(value).__name__


@pytest.fixture
def replay_world(emulator: Emulator) -> Emulator:
    """A project like the recording's: no labels, under a folder, billing linked, nothing on."""
    world = emulator.get_world()
    world["projects"].append(
        {
            "project_id": PROJECT, "number": "100000000099", "parent": "folders/345678901234",
            "billing_account": "012345-6789AB-CDEF01", "services": [], "labels": {},
        }
    )  # fmt: skip
    world["timing"]["operation_polls"] = 1  # the recording's first answer is not done yet
    emulator.put_world(world)
    return emulator


def _send(emulator: Emulator, exchange: dict[str, Any], operation: str) -> requests.Response:
    request = exchange["request"]
    path = request["path"].replace("{project}", PROJECT).replace("{operation}", operation)
    return requests.request(
        request["method"],
        f"{emulator.base_url}{path}",
        json=request.get("body"),
        headers={"Authorization": "Bearer emulator-owner"},
        timeout=10,
    )


def test_recorded_exchanges_replay_with_the_same_status_and_fields(replay_world: Emulator) -> None:
    operation = ""
    mismatches = []
    for exchange in RECORDED["exchanges"]:
        answer = _send(replay_world, exchange, operation)
        body = answer.json()
        if isinstance(body, dict) and str(body.get("name", "")).startswith("operations/"):
            operation = body["name"]
        got = (answer.status_code, shape(body))
        want = (exchange["status"], shape(exchange["body"]))
        if got != want:
            mismatches.append(
                f"{exchange['name']} ({exchange['source']}):\n  got  {got}\n  want {want}"
            )
    assert not mismatches, "\n".join(mismatches)


def test_shape_sees_a_missing_field_and_a_wrong_type_url() -> None:
    recorded = RECORDED["exchanges"][3]["body"]
    fewer = json.loads(json.dumps(recorded))
    del fewer["response"]["service"]["parent"]
    assert shape(fewer) != shape(recorded)
    retyped = json.loads(json.dumps(recorded))
    retyped["metadata"]["@type"] = (
        "type.googleapis.com/google.api.serviceusage.v1.OperationMetadata"
    )
    assert shape(retyped) != shape(recorded)

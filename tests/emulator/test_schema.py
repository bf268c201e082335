"""Every control-plane JSON response validates strictly against its method's response schema in
the discovery documents shipped with google-api-python-client: unknown fields rejected, int64 as
decimal strings, enums by name, timestamps with a zone."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import pytest
import requests

from bootstrap.emulator.inprocess import Emulator

HEADERS = {"Authorization": "Bearer emulator-owner"}
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$"


@cache
def discovery(name: str) -> dict[str, Any]:
    documents = resources.files("googleapiclient") / "discovery_cache" / "documents"
    loaded: dict[str, Any] = json.loads((documents / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def to_json_schema(node: dict[str, Any]) -> dict[str, Any]:
    """Discovery schema -> strict JSON Schema (refs point into #/definitions)."""
    if "$ref" in node:
        return {"$ref": f"#/definitions/{node['$ref']}"}
    kind = node.get("type")
    if kind == "object":
        out: dict[str, Any] = {"type": "object"}
        if "properties" in node:
            out["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
            out["additionalProperties"] = False
        elif "additionalProperties" in node:
            out["additionalProperties"] = to_json_schema(node["additionalProperties"])
        return out
    if kind == "array":
        return {"type": "array", "items": to_json_schema(node.get("items", {}))}
    if kind == "string":
        fmt = node.get("format")
        if fmt in ("int64", "uint64"):
            return {"type": "string", "pattern": r"^-?\d+$"}
        if fmt == "google-datetime":
            return {"type": "string", "pattern": TIMESTAMP}
        return {"type": "string", "enum": node["enum"]} if "enum" in node else {"type": "string"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "integer":
        return {"type": "integer"}
    if kind == "number":
        return {"type": "number"}
    return {}


def find_method(doc: dict[str, Any], method_id: str) -> dict[str, Any]:
    stack = [doc]
    while stack:
        node = stack.pop()
        for method in node.get("methods", {}).values():
            if method["id"] == method_id:
                found: dict[str, Any] = method
                return found
        stack.extend(node.get("resources", {}).values())
    raise KeyError(method_id)


def validate(api: str, method_id: str, body: Any) -> None:
    doc = discovery(api)
    response = find_method(doc, method_id)["response"]["$ref"]
    schema = {
        "$ref": f"#/definitions/{response}",
        "definitions": {k: to_json_schema(v) for k, v in doc["schemas"].items()},
    }
    jsonschema.validate(body, schema)


CASES = [
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.get",
        "GET",
        "/v3/projects/demo-ready",
        None,
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.get",
        "GET",
        "/v3/projects/demo-deleting",
        None,
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.search",
        "GET",
        "/v3/projects:search?query=labels.team:ml&pageSize=2",
        None,
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.list",
        "GET",
        "/v3/projects?parent=folders/345678901234",
        None,
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.create",
        "POST",
        "/v3/projects",
        {"projectId": "schema-proj", "parent": "folders/345678901234"},
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.testIamPermissions",
        "POST",
        "/v3/projects/demo-ready:testIamPermissions",
        {"permissions": ["resourcemanager.projects.get"]},
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.projects.getIamPolicy",
        "POST",
        "/v3/projects/demo-ready:getIamPolicy",
        {"options": {"requestedPolicyVersion": 3}},
    ),
    (
        "cloudresourcemanager.v3",
        "cloudresourcemanager.folders.testIamPermissions",
        "POST",
        "/v3/folders/345678901234:testIamPermissions",
        {"permissions": ["a.b.c"]},
    ),
    (
        "cloudresourcemanager.v1",
        "cloudresourcemanager.projects.get",
        "GET",
        "/v1/projects/demo-ready",
        None,
    ),
    (
        "cloudresourcemanager.v1",
        "cloudresourcemanager.projects.list",
        "GET",
        "/v1/projects?filter=lifecycleState:ACTIVE",
        None,
    ),
    (
        "cloudresourcemanager.v1",
        "cloudresourcemanager.projects.create",
        "POST",
        "/v1/projects",
        {"projectId": "schema-v1", "name": "x", "parent": {"type": "folder", "id": "345678901234"}},
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.get",
        "GET",
        "/v1/projects/demo-ready/services/aiplatform.googleapis.com",
        None,
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.list",
        "GET",
        "/v1/projects/demo-ready/services?pageSize=3",
        None,
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.batchGet",
        "GET",
        "/v1/projects/demo-ready/services:batchGet?names=projects/100000000001/services/compute.googleapis.com",
        None,
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.enable",
        "POST",
        "/v1/projects/demo-ready/services/compute.googleapis.com:enable",
        {},
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.enable",
        "POST",
        "/v1/projects/demo-ready/services/aiplatform.googleapis.com:enable",
        {},
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.batchEnable",
        "POST",
        "/v1/projects/demo-ready/services:batchEnable",
        {"serviceIds": ["storage.googleapis.com", "logging.googleapis.com"]},
    ),
    (
        "serviceusage.v1",
        "serviceusage.services.disable",
        "POST",
        "/v1/projects/demo-ready/services/aiplatform.googleapis.com:disable",
        {},
    ),
    (
        "cloudbilling.v1",
        "cloudbilling.projects.getBillingInfo",
        "GET",
        "/v1/projects/demo-ready/billingInfo",
        None,
    ),
    (
        "cloudbilling.v1",
        "cloudbilling.projects.updateBillingInfo",
        "PUT",
        "/v1/projects/demo-no-billing/billingInfo",
        {"billingAccountName": "billingAccounts/012345-6789AB-CDEF01"},
    ),
    (
        "cloudbilling.v1",
        "cloudbilling.billingAccounts.get",
        "GET",
        "/v1/billingAccounts/012345-6789AB-CDEF01",
        None,
    ),
    ("cloudbilling.v1", "cloudbilling.billingAccounts.list", "GET", "/v1/billingAccounts", None),
    (
        "cloudbilling.v1",
        "cloudbilling.billingAccounts.projects.list",
        "GET",
        "/v1/billingAccounts/012345-6789AB-CDEF01/projects",
        None,
    ),
    (
        "cloudbilling.v1",
        "cloudbilling.billingAccounts.testIamPermissions",
        "POST",
        "/v1/billingAccounts/012345-6789AB-CDEF01:testIamPermissions",
        {"permissions": ["billing.accounts.get"]},
    ),
    (
        "aiplatform.v1beta1",
        "aiplatform.publishers.models.get",
        "GET",
        "/v1beta1/publishers/openai/models/gpt-oss-120b-maas",
        None,
    ),
    (
        "aiplatform.v1beta1",
        "aiplatform.projects.modelGardenEula.check",
        "POST",
        "/v1beta1/projects/demo-ready/modelGardenEula:check",
        {"publisherModel": "publishers/openai/models/gpt-oss-120b-maas"},
    ),
]


@pytest.mark.parametrize(
    ("api", "method_id", "verb", "path", "body"), CASES, ids=[f"{c[1]}:{c[3][:40]}" for c in CASES]
)
def test_response_matches_discovery_schema(
    emulator: Emulator, api: str, method_id: str, verb: str, path: str, body: Any
) -> None:
    answer = requests.request(
        verb, emulator.base_url + path, json=body, headers=HEADERS, timeout=10
    )
    assert answer.status_code == 200, answer.text
    validate(api, method_id, answer.json())


def test_operations_get_matches_schema(emulator: Emulator) -> None:
    created = requests.post(
        f"{emulator.base_url}/v1/projects/demo-ready/services/compute.googleapis.com:enable",
        json={},
        headers=HEADERS,
        timeout=10,
    ).json()
    polled = requests.get(
        f"{emulator.base_url}/v1/{created['name']}", headers=HEADERS, timeout=10
    ).json()
    assert polled["done"] is True
    validate("serviceusage.v1", "serviceusage.operations.get", polled)
    created = requests.post(
        f"{emulator.base_url}/v3/projects",
        json={"projectId": "schema-op"},
        headers=HEADERS,
        timeout=10,
    ).json()
    validate(
        "cloudresourcemanager.v3",
        "cloudresourcemanager.operations.get",
        requests.get(
            f"{emulator.base_url}/v3/{created['name']}", headers=HEADERS, timeout=10
        ).json(),
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(surprise=1),  # unknown field
        lambda b: b.update(createTime="2026-11-25T12:00:00"),  # timestamp without a zone
        lambda b: b.update(state=1),  # enum as an int
    ],
)
def test_schema_rejects_wrong_bodies(emulator: Emulator, mutate: Any) -> None:
    body = requests.get(
        f"{emulator.base_url}/v3/projects/demo-ready", headers=HEADERS, timeout=10
    ).json()
    mutate(body)
    with pytest.raises(jsonschema.ValidationError):
        validate("cloudresourcemanager.v3", "cloudresourcemanager.projects.get", body)


def test_int64_must_be_string(emulator: Emulator) -> None:
    body = requests.get(
        f"{emulator.base_url}/v1/projects/demo-ready", headers=HEADERS, timeout=10
    ).json()
    body["projectNumber"] = int(body["projectNumber"])
    with pytest.raises(jsonschema.ValidationError):
        validate("cloudresourcemanager.v1", "cloudresourcemanager.projects.get", body)

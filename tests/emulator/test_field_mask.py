"""The X-Goog-FieldMask system parameter (a partial response) on the emulator's JSON answers:
through GAPIC's metadata as bootstrap sends it on the policy analysis, and over raw HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from google.cloud import asset_v1

from bootstrap.emulator.field_mask import parse
from bootstrap.emulator.inprocess import Emulator
from tests.emulator.test_asset_orgpolicy import MODELS, ORG, names, policy, with_policies

Make = Callable[..., Any]
MASK = (
    "governedContainers.fullResourceName,governedContainers.consolidatedPolicy.rules,nextPageToken"
)


def test_a_masked_analysis_keeps_the_named_fields_and_pages_as_before(
    gapic: Make, emulator: Emulator
) -> None:
    with_policies(emulator, policy(ORG, allowed_values=["publishers/openai/models/x:predict"]))
    client = gapic(asset_v1.AssetServiceClient)
    request = {"scope": ORG, "constraint": MODELS, "page_size": 2}
    whole = list(client.analyze_org_policy_governed_containers(request=request))
    masked = list(
        client.analyze_org_policy_governed_containers(
            request=request, metadata=(("x-goog-fieldmask", MASK),)
        )
    )
    assert len(whole) > 2 and names(masked) == names(whole)  # every page, the token kept
    assert [c.consolidated_policy.rules for c in masked] == [
        c.consolidated_policy.rules for c in whole
    ]
    assert all(c.policy_bundle and c.organization for c in whole)
    assert not any(c.policy_bundle or c.parent or c.organization for c in masked)


def _get(emulator: Emulator, path: str, mask: str | None) -> dict[str, Any]:
    headers = {"Authorization": "Bearer emulator-owner"}
    if mask is not None:
        headers["X-Goog-FieldMask"] = mask
    answer = requests.get(emulator.base_url + path, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_any_json_answer_keeps_only_the_masked_fields(emulator: Emulator) -> None:
    whole = _get(emulator, "/v3/projects/demo-ready", None)
    assert {"projectId", "state", "name"} <= set(whole)
    assert _get(emulator, "/v3/projects/demo-ready", "projectId,state") == {
        "projectId": whole["projectId"],
        "state": whole["state"],
    }


def test_a_path_ending_at_a_field_keeps_all_of_it() -> None:
    assert parse("a.b,a") == {"a": {}} == parse("a,a.b")
    assert parse(" a.b , c ") == {"a": {"b": {}}, "c": {}}

"""World keys for the data-plane guards (`org_policies`, `vpc_sc`, `model_quotas`): validated like
the rest of the world schema (unknown keys rejected) and round-tripped by world_to_dict."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.emulator.world import world_from_dict, world_to_dict

GUARDS: dict[str, Any] = {
    "org_policies": [
        {
            "resource": "organizations/123456789012",
            "constraint": "constraints/vertexai.allowedModels",
            "allowed_values": ["publishers/openai/models/gpt-oss-120b-maas:predict"],
            "denied_values": [],
            "allow_all": False,
            "deny_all": False,
            "inherit_from_parent": True,
            "reset": False,
        }
    ],
    "vpc_sc": {"perimeter_projects": ["acme-app"], "allowed_principals": ["a@example.com"]},
    "model_quotas": [
        {
            "project": "acme-app",
            "location": "global",
            "model": "m",
            "requests_per_minute": 0,
            "tokens_per_minute": 1000,
        }
    ],
}


def test_guard_keys_round_trip() -> None:
    dumped = world_to_dict(world_from_dict(GUARDS))
    assert {k: dumped[k] for k in GUARDS} == GUARDS
    assert world_to_dict(world_from_dict(dumped)) == dumped


def test_guard_keys_default_to_no_guard() -> None:
    dumped = world_to_dict(world_from_dict({}))
    assert dumped["org_policies"] == [] and dumped["model_quotas"] == []
    assert dumped["vpc_sc"] == {"perimeter_projects": [], "allowed_principals": []}


@pytest.mark.parametrize(
    "bad",
    [
        {"org_policies": [{**GUARDS["org_policies"][0], "allow_everything": True}]},
        {"org_policies": [{**GUARDS["org_policies"][0], "resource": "acme-app"}]},
        {"org_policies": [{**GUARDS["org_policies"][0], "constraint": "vertexai.allowedModels"}]},
        {"vpc_sc": {"perimeter": ["acme-app"]}},
        {"model_quotas": [{**GUARDS["model_quotas"][0], "tokens": 5}]},
        {"model_quotas": [{"project": "acme-app", "location": "global"}]},
        {"model_quotas": [{**GUARDS["model_quotas"][0], "tokens_per_minute": "many"}]},
        {"model_quotas": [{**GUARDS["model_quotas"][0], "requests_per_minute": -1}]},
    ],
)
def test_bad_guard_keys_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        world_from_dict(bad)

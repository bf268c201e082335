"""GcpCloud.get_effective_policy against the emulator: the GAPIC answer read as values, one
request per constraint, and a missing permission classified (never retried)."""

from __future__ import annotations

import pytest

from bootstrap.cloud.org_policy import ALLOWED_MODELS, RESTRICT_SERVICE_USAGE, PolicyRule
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import GcpCloud

GPT = "publishers/openai/models/gpt-oss-120b-maas:predict"


def test_effective_policy_is_read_as_values(cloud: GcpCloud, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["org_policies"] = [
        {
            "resource": "organizations/123456789012",
            "constraint": ALLOWED_MODELS,
            "allowed_values": [f"is:{GPT}"],
        },
        {
            "resource": "projects/demo-ready",
            "constraint": ALLOWED_MODELS,
            "inherit_from_parent": True,
            "denied_values": ["under:publishers/meta"],
        },
        {
            "resource": "folders/345678901234",
            "constraint": RESTRICT_SERVICE_USAGE,
            "deny_all": True,
        },
    ]
    emulator.put_world(world)
    models = cloud.get_effective_policy("demo-ready", ALLOWED_MODELS)
    assert models.constraint == ALLOWED_MODELS
    assert models.rules == (
        PolicyRule(allowed_values=(f"is:{GPT}",), denied_values=("under:publishers/meta",)),
    )
    services = cloud.get_effective_policy("demo-ready", RESTRICT_SERVICE_USAGE)
    assert services.rules == (PolicyRule(deny_all=True),)
    assert cloud.get_effective_policy("demo-no-billing", "constraints/compute.x").rules == ()
    assert cloud.stats.requests == {"orgpolicy.policies.getEffectivePolicy": 3}


def test_a_missing_permission_is_classified_and_not_retried(
    cloud: GcpCloud, emulator: Emulator
) -> None:
    world = emulator.get_world()
    owner = next(p for p in world["principals"] if "emulator-owner" in p["tokens"])
    owner["grants"] = {"*": ["resourcemanager.projects.get"]}
    emulator.put_world(world)
    with pytest.raises(BootstrapError) as caught:
        cloud.get_effective_policy("demo-ready", ALLOWED_MODELS)
    failure = caught.value.failure
    assert failure.cause is Cause.PERMISSION_DENIED and failure.http_status == 403
    assert "orgpolicy.policy.get" in failure.message
    assert cloud.stats.requests == {"orgpolicy.policies.getEffectivePolicy": 1}

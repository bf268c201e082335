"""GcpCloud.get_project_iam_policy against the emulator: values out, failures classified."""

from __future__ import annotations

from typing import Any

import pytest

from bootstrap.cloud.observed import IamBinding
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import GcpCloud
from tests.iam_support import with_project_policy

SA = "serviceAccount:app@demo-ready.iam.gserviceaccount.com"


def test_policy_is_read_as_values(cloud: GcpCloud, emulator: Emulator) -> None:
    world = emulator.get_world()
    stored: dict[str, Any] = {
        "bindings": [
            {"role": "roles/aiplatform.user", "members": [SA]},
            {"role": "roles/owner", "members": [SA], "condition": {"expression": "true"}},
        ],
        "etag": "BwXhqDhD1QI=",
    }
    with_project_policy(world, "demo-ready", stored)
    emulator.put_world(world)
    policy = cloud.get_project_iam_policy("demo-ready")
    assert policy.version == 3 and policy.etag == "BwXhqDhD1QI="
    assert policy.bindings == (
        IamBinding(role="roles/aiplatform.user", members=(SA,)),
        IamBinding(role="roles/owner", members=(SA,), condition="true"),
    )


def test_missing_project_raises_a_classified_failure(cloud: GcpCloud) -> None:
    with pytest.raises(BootstrapError) as caught:
        cloud.get_project_iam_policy("nope-nope")
    assert caught.value.failure.http_status == 403
    assert caught.value.failure.cause in (
        Cause.PERMISSION_DENIED,
        Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN,
    )

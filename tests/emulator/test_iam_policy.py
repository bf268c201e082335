"""CRM v3 projects.getIamPolicy through the official GAPIC client: the world's policy, conditions
by requested version, and the permission it checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import resourcemanager_v3

from bootstrap.emulator.inprocess import Emulator
from tests.iam_support import with_project_policy

Make = Callable[..., Any]
SA = "serviceAccount:app@demo-ready.iam.gserviceaccount.com"
CONDITION = {"expression": "request.time < timestamp('2027-01-01T00:00:00Z')", "title": "until"}


def with_policy(emulator: Emulator, policy: dict[str, Any] | None) -> None:
    world = emulator.get_world()
    with_project_policy(world, "demo-ready", policy)
    emulator.put_world(world)


def get(client: Any, version: int, project: str = "demo-ready") -> Any:
    return client.get_iam_policy(
        request={
            "resource": f"projects/{project}",
            "options": {"requested_policy_version": version},
        }
    )


def test_version_3_returns_bindings_and_conditions(gapic: Make, emulator: Emulator) -> None:
    with_policy(
        emulator,
        {
            "bindings": [
                {"role": "roles/aiplatform.user", "members": [SA]},
                {
                    "role": "roles/editor",
                    "members": ["group:ml@example.com"],
                    "condition": CONDITION,
                },
            ],
            "etag": "BwXhqDhD1QI=",
        },
    )
    policy = get(gapic(resourcemanager_v3.ProjectsClient), 3)
    assert policy.version == 3 and policy.etag == b"\x07\x05\xe1\xa88C\xd5\x02"
    user, editor = policy.bindings
    assert (user.role, list(user.members), user.HasField("condition")) == (
        "roles/aiplatform.user",
        [SA],
        False,
    )
    assert editor.condition.expression == CONDITION["expression"]
    assert editor.condition.title == "until"


def test_version_1_renames_conditional_roles(gapic: Make, emulator: Emulator) -> None:
    with_policy(
        emulator,
        {"bindings": [{"role": "roles/editor", "members": [SA], "condition": CONDITION}]},
    )
    policy = get(gapic(resourcemanager_v3.ProjectsClient), 1)
    assert policy.version == 1 and len(policy.etag) == 8  # derived when the world gives none
    (binding,) = policy.bindings
    assert binding.role.startswith("roles/editor_withcond_")
    assert not binding.HasField("condition")


def test_no_policy_is_empty_and_stable(gapic: Make) -> None:
    client = gapic(resourcemanager_v3.ProjectsClient)
    first, second = get(client, 3), get(client, 3)
    assert list(first.bindings) == [] and first.etag == second.etag != b""


def test_permission_and_missing_project_are_403(gapic: Make) -> None:
    viewer = gapic(resourcemanager_v3.ProjectsClient, token="emulator-viewer")
    with pytest.raises(exceptions.Forbidden) as caught:
        get(viewer, 3)
    assert caught.value.metadata["permission"] == "resourcemanager.projects.getIamPolicy"
    with pytest.raises(exceptions.Forbidden):
        get(gapic(resourcemanager_v3.ProjectsClient), 3, project="nope-nope")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"bindings": [{"role": "aiplatform.user", "members": [SA]}]}, "not a role name"),
        ({"bindings": [{"role": "roles/owner", "members": []}]}, "non-empty members"),
        ({"bindings": [{"role": "roles/owner", "members": [SA], "condition": {}}]}, "expression"),
        ({"bindings": [], "etag": "not base64!"}, "not base64"),
        ({"bindings": [], "version": 2}, "1 or 3"),
        ({"bindings": [], "audit": []}, "unknown keys"),
        ({"resource": "projects/a/b", "bindings": []}, "is not projects/ID"),
    ],
)
def test_world_policies_are_validated(policy: dict[str, Any], message: str) -> None:
    from bootstrap.emulator.world import world_from_dict

    with pytest.raises(ValueError, match=message):
        world_from_dict({"iam_policies": [{"resource": "projects/demo-one", **policy}]})

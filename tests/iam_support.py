"""Reading and writing a project's allow policy in an emulator world dump (`iam_policies`)."""

from __future__ import annotations

from typing import Any


def with_project_policy(
    world: dict[str, Any], project_id: str, policy: dict[str, Any] | None
) -> None:
    """Set (or with None, remove) the allow policy of `projects/<project_id>` in a world dump."""
    resource = f"projects/{project_id}"
    kept = [p for p in world.get("iam_policies", []) if p["resource"] != resource]
    world["iam_policies"] = kept + (
        [{"resource": resource, **policy}] if policy is not None else []
    )


def project_policy(world: dict[str, Any], project_id: str) -> dict[str, Any]:
    """The allow policy of `projects/<project_id>` in a world dump (KeyError when none)."""
    resource = f"projects/{project_id}"
    return next(p for p in world["iam_policies"] if p["resource"] == resource)

"""Projects found under a parent (`audit --parent`), filtered by labels, as desired projects."""

from __future__ import annotations

from collections.abc import Sequence

from bootstrap.cloud.protocol import Cloud
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.manifest.desired import DesiredModel, DesiredProject


def discover_projects(
    cloud: Cloud,
    *,
    parent: str,
    labels: dict[str, str],
    models: Sequence[DesiredModel],
) -> list[DesiredProject]:
    """The parent's direct child projects matching every label, with the readiness policy.

    projects.search matches ANY of several terms, so labels are filtered here as AND. Finding
    nothing is an error (an audit of nothing must not pass): `NothingFound` says why.
    """
    children = [p for p in cloud.search_projects(parent=parent) if p.parent in (None, parent)]
    found = [
        DesiredProject(
            project_id=project.project_id, models=tuple(models), source=f"{parent} (discovered)"
        )
        for project in children
        if all(project.labels.get(key) == value for key, value in labels.items())
    ]
    if not found:
        raise NothingFound(parent, children=len(children), labels=labels)
    return sorted(found, key=lambda p: p.project_id)


class NothingFound(BootstrapError):
    """No project to audit under the parent: the parent is empty, unreadable, or filtered out."""

    def __init__(self, parent: str, *, children: int, labels: dict[str, str]) -> None:
        if children:
            wanted = ", ".join(f"{key}={value}" for key, value in labels.items())
            message = (
                f"none of the {children} projects directly under {parent} has the labels {wanted}"
            )
            remedy = "check the --label values (all must match), or drop them"
        else:
            message = (
                f"no project found directly under {parent}: it may not exist, the caller may "
                "lack resourcemanager.projects.list on it, or its projects sit in sub-folders "
                "(--parent does not search them)"
            )
            remedy = (
                f"check the id with `gcloud resource-manager folders describe` (or organizations), "
                f"grant roles/browser on {parent}, or pass a sub-folder; --allow-empty accepts an "
                "empty audit"
            )
        super().__init__(
            Failure(
                cause=Cause.INVALID_INPUT,
                message=message,
                remedy=remedy,
                disposition=Disposition.FIX_INPUT,
            )
        )

"""Projects found under a parent (`audit --parent`), filtered by labels, as desired projects."""

from __future__ import annotations

from collections.abc import Sequence

from bootstrap.cloud.protocol import Cloud
from bootstrap.manifest.desired import DesiredModel, DesiredProject


def discover_projects(
    cloud: Cloud,
    *,
    parent: str,
    labels: dict[str, str],
    models: Sequence[DesiredModel],
) -> list[DesiredProject]:
    """The parent's direct child projects matching every label, with the readiness policy.

    projects.search matches ANY of several terms, so labels are filtered here as AND.
    """
    found = []
    for project in cloud.search_projects(parent=parent):
        if project.parent not in (None, parent):
            continue
        if all(project.labels.get(key) == value for key, value in labels.items()):
            found.append(
                DesiredProject(
                    project_id=project.project_id,
                    models=tuple(models),
                    source=f"{parent} (discovered)",
                )
            )
    return sorted(found, key=lambda p: p.project_id)

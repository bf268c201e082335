"""Projects found under a parent (`audit --parent`), filtered by labels, as desired projects.

By default the whole tree below the parent is walked (folders.list, breadth first, a few
folders at a time), so projects in sub-folders are not silently left out; a folder that cannot
be listed makes the discovery partial, and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bootstrap.cloud.observed import ObservedProject
from bootstrap.cloud.protocol import Cloud
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.manifest.desired import DesiredModel, DesiredProject


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    projects: list[DesiredProject]
    unlisted: tuple[str, ...] = ()  # folders whose sub-folders could not be listed

    def warnings(self) -> list[str]:
        return [
            f"discovery is partial: the sub-folders of {folder} could not be listed (grant "
            f"resourcemanager.folders.list on it, e.g. roles/browser); their projects are not "
            "in this report"
            for folder in self.unlisted
        ]


def discover_projects(
    cloud: Cloud,
    *,
    parent: str,
    labels: dict[str, str],
    models: Sequence[DesiredModel],
    nested: bool = True,
    concurrency: int = 8,
) -> Discovery:
    """The projects under `parent` (and, when `nested`, under every folder below it) matching
    every label, with the readiness policy.

    projects.search matches ANY of several terms, so labels are filtered here as AND. Finding
    nothing is an error (an audit of nothing must not pass): `NothingFound` says why.
    """
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="discover") as pool:
        containers, unlisted = _walk(cloud, parent, pool) if nested else ([parent], [])
        pages = pool.map(lambda c: _children(cloud, c), containers)
        children = {p.project_id: p for page in pages for p in page}
    found = [
        DesiredProject(
            project_id=project.project_id, models=tuple(models), source=f"{parent} (discovered)"
        )
        for project in children.values()
        if all(project.labels.get(key) == value for key, value in labels.items())
    ]
    if not found:
        raise NothingFound(parent, children=len(children), labels=labels)
    return Discovery(
        projects=sorted(found, key=lambda p: p.project_id), unlisted=tuple(sorted(unlisted))
    )


def _walk(cloud: Cloud, parent: str, pool: ThreadPoolExecutor) -> tuple[list[str], list[str]]:
    """`parent` and every folder below it, breadth first; folders that could not be listed."""
    containers, unlisted, level = [parent], [], [parent]
    while level:
        listed = list(pool.map(lambda folder: _sub_folders(cloud, folder), level))
        unlisted += [folder for folder, subs in zip(level, listed, strict=True) if subs is None]
        level = [sub for subs in listed if subs for sub in subs if sub not in containers]
        containers += level
    return containers, unlisted


def _sub_folders(cloud: Cloud, folder: str) -> list[str] | None:
    try:
        return cloud.list_folders(folder)
    except BootstrapError:
        return None  # reported as partial discovery, not as "no folders"


def _children(cloud: Cloud, container: str) -> list[ObservedProject]:
    return [p for p in cloud.search_projects(parent=container) if p.parent in (None, container)]


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
                f"no project found under {parent}: it may not exist, the caller may lack "
                "resourcemanager.projects.list on it, or (with --direct-only) its projects sit "
                "in sub-folders"
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

"""The planner's project step: the `project` check and maybe `create_project`.

An existing project's labels and display name are reported, never changed.
"""

from __future__ import annotations

from bootstrap import remedies
from bootstrap.checks import PROJECT, CheckStatus
from bootstrap.cloud.observed import ProjectState
from bootstrap.errors import Cause
from bootstrap.plan.draft import Draft, unreadable
from bootstrap.plan.model import Action, Change


def plan_project_step(d: Draft) -> bool:
    """The `project` check and maybe `create_project`. False: nothing else can be planned."""
    project = d.observed.project
    if project is None:
        unreadable(d, PROJECT, "could not be read")
        return False
    if project.state is ProjectState.DELETE_REQUESTED:
        d.check(
            PROJECT,
            CheckStatus.FAILED,
            f"Project {d.pid} is scheduled for deletion (DELETE_REQUESTED); nothing will be changed.",
            cause=Cause.PROJECT_DELETE_REQUESTED,
            remedy=remedies.undelete_project(d.pid),
        )
        return False
    if project.state is ProjectState.NOT_FOUND:
        return _missing_project(d)
    _project_differences(d)
    return True


def _missing_project(d: Draft) -> bool:
    if not d.desired.create:
        d.check(
            PROJECT,
            CheckStatus.FAILED,
            f"Project {d.pid} does not exist or the caller cannot see it, and the manifest does "
            "not say create: true.",
            cause=Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN,
            remedy="Check the project id, grant roles/browser on it, or set create: true.",
        )
        return False
    where = f" under {d.desired.parent}" if d.desired.parent else ""
    d.changes.append(
        Change(
            action=Action.CREATE_PROJECT,
            target=f"projects/{d.pid}",
            reason=f"Project {d.pid} does not exist and the manifest says create: true{where}.",
            project_id=d.pid,
            parent=d.desired.parent,
            display_name=d.desired.display_name,
            labels=dict(d.desired.labels),
        )
    )
    d.creating = True
    d.pending(
        PROJECT,
        finding=f"Project {d.pid} does not exist; apply creates it{where} (create: true).",
        change=f"Project {d.pid} will be created{where}.",
    )
    return True


def _project_differences(d: Draft) -> None:
    """Labels and display name are reported, never changed, on an existing project."""
    project = d.observed.project
    assert project is not None
    notes: list[str] = []
    wanted = d.desired.display_name
    if wanted is not None and project.display_name is not None and wanted != project.display_name:
        notes.append(f"display name is {project.display_name!r}, the manifest says {wanted!r}")
    differing = sorted(
        key for key, value in d.desired.labels.items() if project.labels.get(key) != value
    )
    if differing:
        notes.append("labels differ: " + ", ".join(differing))
    if notes:
        d.check(
            PROJECT,
            CheckStatus.WARNING,
            f"Project {d.pid}: " + "; ".join(notes) + " (informational; existing projects are "
            "never modified).",
        )
    else:
        d.check(PROJECT, CheckStatus.OK, f"Project {d.pid} is ACTIVE.")

"""What each project looked like before its recent changes, so the Cloud Asset inventory can show
the world as it was `timing.inventory_lag_s` seconds ago.

Only the three things the inventory serves and the APIs change are kept: the billing link, the
enabled services and the lifecycle state. Every change appends the project's view from just
before it, stamped with the virtual time of the change; a project never changed since the world
was loaded has no entries and is seen as it is. Creation needs no entry: a project created after
the load is absent from any view older than its `create_time`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.emulator.world import Project


@dataclass(frozen=True, slots=True)
class ProjectView:
    billing_account: str | None
    services: tuple[str, ...]
    state: str


def view_of(project: Project) -> ProjectView:
    return ProjectView(project.billing_account, tuple(project.services), str(project.state))


class History:
    """Per project number: (virtual time of a change, the view just before it), oldest first."""

    def __init__(self) -> None:
        self.changes: dict[str, list[tuple[float, ProjectView]]] = {}

    def remember(self, project: Project, now: float) -> None:
        """Call just before changing the project's billing, services or state."""
        self.changes.setdefault(project.number, []).append((now, view_of(project)))

    def as_of(self, project: Project, moment: float) -> tuple[ProjectView, float | None]:
        """The project's view at virtual time `moment`, and when that view began (None: as
        loaded, never changed before `moment`)."""
        began: float | None = None
        for changed_at, before in self.changes.get(project.number, ()):
            if changed_at > moment:
                return before, began
            began = changed_at
        return view_of(project), began

"""Resource Manager v3: get, create (LRO), search, getIamPolicy, an additive setIamPolicy and
testIamPermissions on projects and parents, and the folders under a parent.

Resource Manager answers 403 for a project that is missing *or* forbidden, so `get` reports both
as ProjectState.NOT_FOUND. testIamPermissions "returns an empty set, not NOT_FOUND" for a missing
resource and may fail open; a 403 on it is reported the same way (empty = "missing or no access")
and the real call stays authoritative.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from google.cloud import resourcemanager_v3

from bootstrap.causes.context import CallContext
from bootstrap.clock import Clock
from bootstrap.cloud.observed import IamBinding, ObservedIamPolicy, ObservedProject, ProjectState
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.operations import OpState, wait_operation
from bootstrap.gcp.ratelimit import CREATE_PROJECT_WEIGHT

_READ = "resourcemanager.read"
_WRITE = "resourcemanager.write"
_SEARCH = "resourcemanager.search"
_DELETE_REQUESTED = resourcemanager_v3.Project.State.DELETE_REQUESTED
# How many times a grant re-reads and re-applies its addition after a failed setIamPolicy (an
# etag conflict answers 409 ABORTED) before giving up.
GRANT_REREADS = 3


def observed_project(project: Any, project_id: str | None = None) -> ObservedProject:
    """A v3 Project (proto-plus) as an ObservedProject."""
    state = (
        ProjectState.DELETE_REQUESTED if project.state == _DELETE_REQUESTED else ProjectState.ACTIVE
    )
    return ObservedProject(
        project_id=project.project_id or project_id or "",
        state=state,
        number=project.name.rpartition("/")[2] or None,
        parent=project.parent or None,
        display_name=project.display_name or None,
        labels=dict(project.labels),
    )


def observed_policy(policy: Any) -> ObservedIamPolicy:
    """An iam_policy_pb2.Policy as an ObservedIamPolicy (the etag as base64, as JSON shows it)."""
    bindings = tuple(
        IamBinding(
            role=binding.role,
            members=tuple(binding.members),
            condition=binding.condition.expression if binding.HasField("condition") else "",
        )
        for binding in policy.bindings
    )
    etag = base64.b64encode(policy.etag).decode("ascii")
    return ObservedIamPolicy(bindings=bindings, etag=etag, version=policy.version)


def op_state(operation: Any) -> OpState:
    """An operations_pb2.Operation as the OpState the poller reads."""
    has_error = operation.HasField("error")
    return OpState(
        name=operation.name,
        done=operation.done,
        error_code=operation.error.code if has_error else None,
        error_message=operation.error.message if has_error else "",
        has_response=operation.HasField("response"),
    )


class Projects:
    def __init__(
        self,
        *,
        projects: resourcemanager_v3.ProjectsClient,
        folders: resourcemanager_v3.FoldersClient,
        organizations: resourcemanager_v3.OrganizationsClient,
        caller: Caller,
        clock: Clock,
        operation_deadline_s: float,
    ) -> None:
        self._projects = projects
        self._folders = folders
        self._organizations = organizations
        self._caller = caller
        self._clock = clock
        self._operation_deadline_s = operation_deadline_s

    def get(self, project_id: str) -> ObservedProject:
        """The project, or state NOT_FOUND on 403/404 (missing or forbidden)."""
        context = CallContext(project_id=project_id)
        try:
            project = self._caller.call(
                "resourcemanager.projects.get",
                lambda t: self._projects.get_project(
                    name=f"projects/{project_id}", retry=None, timeout=t
                ),
                bucket=_READ,
                context=context,
            )
        except BootstrapError as err:
            if err.failure.http_status in (403, 404):
                return ObservedProject(project_id=project_id, state=ProjectState.NOT_FOUND)
            raise
        return observed_project(project, project_id)

    def create(
        self, *, project_id: str, parent: str, display_name: str | None, labels: dict[str, str]
    ) -> ObservedProject:
        """Create the project and wait for its operation, then read it back.

        A lost answer is not re-sent blindly: the project is read first and, when it exists, the
        create counts as done. A 409 (already exists) is answered the same way, since the plan
        only creates projects it saw missing: a visible project now is one a concurrent or lost
        attempt created.
        """
        project = resourcemanager_v3.Project(
            project_id=project_id, parent=parent, display_name=display_name or "", labels=labels
        )
        context = CallContext(project_id=project_id)
        try:
            first = self._send_create(project_id, project, context)
        except BootstrapError as err:
            found = self.get(project_id) if err.failure.http_status == 409 else None
            if found is None or found.state is ProjectState.NOT_FOUND:
                raise
            return found
        wait_operation(
            first,
            self._poll(context),
            clock=self._clock,
            deadline_s=self._operation_deadline_s,
            what=f"creating project {project_id}",
            in_flight=self._caller.in_flight,
        )
        return self.get(project_id)

    def _send_create(
        self, project_id: str, project: resourcemanager_v3.Project, context: CallContext
    ) -> OpState:
        """projects.create; after a lost answer, a project that now reads back counts as created."""

        def recover(_attempts: int) -> OpState | None:
            if self.get(project_id).state is ProjectState.NOT_FOUND:
                return None
            return OpState(name="", done=True, has_response=True)  # no operation: re-read

        return self._caller.call(
            "resourcemanager.projects.create",
            lambda t: op_state(
                self._projects.create_project(project=project, retry=None, timeout=t).operation
            ),
            bucket=_WRITE,
            weight=CREATE_PROJECT_WEIGHT,
            context=context,
            recover=recover,
        )

    def _poll(self, context: CallContext) -> Callable[[str], OpState]:
        def poll(name: str) -> OpState:
            return self._caller.call(
                "resourcemanager.operations.get",
                lambda t: op_state(
                    self._projects.get_operation(request={"name": name}, retry=None, timeout=t)
                ),
                bucket=_READ,
                context=context,
            )

        return poll

    def search(self, *, parent: str) -> Iterator[ObservedProject]:
        """Every project directly under `parent` (query `parent:<parent>`), page by page."""
        for page in self._caller.pages(
            "resourcemanager.projects.search",
            lambda r, t: self._projects.search_projects(request=r, retry=None, timeout=t),
            {"query": f"parent:{parent}"},
            bucket=_SEARCH,
            context=CallContext(),
        ):
            for project in page.projects:
                yield observed_project(project)

    def list_folders(self, parent: str) -> list[str]:
        """The names (`folders/N`) of the active folders directly under `parent`, every page."""
        pages = self._caller.pages(
            "resourcemanager.folders.list",
            lambda r, t: self._folders.list_folders(request=r, retry=None, timeout=t),
            {"parent": parent},
            bucket=_READ,
            context=CallContext(),
        )
        return [folder.name for page in pages for folder in page.folders]

    def get_iam_policy(self, project_id: str) -> ObservedIamPolicy:
        """projects.getIamPolicy, asking for policy version 3 so conditional bindings come back."""
        return observed_policy(self._read_policy(project_id))

    def _read_policy(self, project_id: str) -> Any:
        request = {
            "resource": f"projects/{project_id}",
            "options": {"requested_policy_version": 3},
        }
        return self._caller.call(
            "resourcemanager.projects.getIamPolicy",
            lambda t: self._projects.get_iam_policy(request=request, retry=None, timeout=t),
            bucket=_READ,
            context=CallContext(project_id=project_id),
        )

    def grant_role(self, project_id: str, member: str, role: str) -> ObservedIamPolicy:
        """Add `member` to the unconditional binding of `role`: read-modify-write with the etag.

        The policy sent is the one just read (every other binding, condition, audit config, the
        version and the etag as read) plus the member. A failed send (a 409 ABORTED etag
        conflict, a lost answer) is never re-sent as is: the policy is read again, the addition
        re-applied to it, and that is sent (at most GRANT_REREADS times); when the re-read
        already names the member, nothing more is sent.
        """
        latest = self._read_policy(project_id)
        for _ in range(GRANT_REREADS):
            if not add_member(latest, member, role):
                return observed_policy(latest)  # already there: send nothing
            try:
                return observed_policy(self._send_policy(project_id, latest, member, role))
            except BootstrapError as err:
                if err.failure.http_status != 409:
                    raise
            latest = self._read_policy(project_id)  # an etag conflict: re-read, re-apply
        raise BootstrapError(_grant_conflict(project_id, member, role))

    def _send_policy(self, project_id: str, policy: Any, member: str, role: str) -> Any:
        """One setIamPolicy; after a lost answer or a retryable failure, the policy is read again
        and the addition re-applied before any re-send (never the same policy re-sent)."""
        pending = [policy]

        def recover(_attempts: int) -> Any:
            fresh = self._read_policy(project_id)
            if not add_member(fresh, member, role):
                return fresh  # the earlier send took effect
            pending[0] = fresh
            return None

        return self._caller.call(
            "resourcemanager.projects.setIamPolicy",
            lambda t: self._projects.set_iam_policy(
                request={"resource": f"projects/{project_id}", "policy": pending[0]},
                retry=None,
                timeout=t,
            ),
            bucket=_WRITE,
            context=CallContext(project_id=project_id),
            recover=recover,
        )

    def test_permissions(self, project_id: str, permissions: Sequence[str]) -> frozenset[str]:
        """The subset held on the project; empty on 403 (missing or no access)."""
        return self._test(
            "resourcemanager.projects.testIamPermissions",
            self._projects,
            f"projects/{project_id}",
            permissions,
            CallContext(project_id=project_id),
        )

    def test_parent_permissions(self, parent: str, permissions: Sequence[str]) -> frozenset[str]:
        """The subset held on `folders/N` or `organizations/N`; empty on 403."""
        kind = parent.partition("/")[0]
        client: Any = self._folders if kind == "folders" else self._organizations
        return self._test(
            f"resourcemanager.{kind}.testIamPermissions",
            client,
            parent,
            permissions,
            CallContext(),
        )

    def _test(
        self,
        method: str,
        client: Any,
        resource: str,
        permissions: Sequence[str],
        context: CallContext,
    ) -> frozenset[str]:
        request = {"resource": resource, "permissions": list(permissions)}
        try:
            response = self._caller.call(
                method,
                lambda t: client.test_iam_permissions(request=request, retry=None, timeout=t),
                bucket=_READ,
                context=context,
            )
        except BootstrapError as err:
            if err.failure.http_status in (403, 404):
                return frozenset()
            raise
        return frozenset(response.permissions)


def add_member(policy: Any, member: str, role: str) -> bool:
    """Add `member` to `role`'s unconditional binding of an iam_policy_pb2.Policy, in place
    (creating the binding when absent); False when it is already there. Nothing else changes."""
    for binding in policy.bindings:
        if binding.role == role and not binding.HasField("condition"):
            if member in binding.members:
                return False
            binding.members.append(member)
            return True
    policy.bindings.add(role=role, members=[member])
    return True


def _grant_conflict(project_id: str, member: str, role: str) -> Failure:
    return Failure(
        cause=Cause.UNAVAILABLE,
        message=f"Project {project_id}: granting {role} to {member} kept failing after "
        f"{GRANT_REREADS} re-reads of the IAM policy (it keeps changing, or the call fails).",
        remedy="Rerun apply; if another tool rewrites the policy constantly, grant it by hand: "
        f"gcloud projects add-iam-policy-binding {project_id} --member={member} --role={role}",
        disposition=Disposition.RETRY,
    )

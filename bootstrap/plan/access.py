"""The planner's access step: one `access:<member>` check per principal the manifest names.

Read from the project's IAM policy (version 3) alone, so only what the policy proves counts: an
unconditional binding of `principal_role`, or of a predefined role known to contain
`aiplatform.endpoints.predict`, that names the member is ok. A binding the member reaches only
under a condition, or only through a group, domain or principal set, cannot be judged from the
policy (unknown: only a call as the principal can prove it, and nothing is planned). No binding
at all plans a `grant_role` change: apply adds the member to the role's unconditional binding.
"""

from __future__ import annotations

from bootstrap import remedies
from bootstrap.checks import PROJECT, CheckStatus, access_check
from bootstrap.cloud.observed import IamBinding, ObservedIamPolicy
from bootstrap.errors import Cause
from bootstrap.plan.draft import Draft, not_run
from bootstrap.plan.model import Action, Change

POLICY_READ = "iam_policy"  # the observer's name for the getIamPolicy read
# Predefined roles that contain aiplatform.endpoints.predict, besides the manifest's own role.
PREDICT_ROLES = ("roles/aiplatform.user", "roles/aiplatform.admin", "roles/owner", "roles/editor")
# Members that stand for others: a principal may be granted through one of them.
_INDIRECT = ("group:", "principalSet://", "domain:")
_EMAIL_KINDS = ("serviceAccount:", "user:", "group:")


def plan_access_step(d: Draft) -> None:
    for member in d.desired.principals:
        name = access_check(member)
        if d.creating:
            not_run(d, name, PROJECT)
        elif d.observed.iam_policy is None:
            _unreadable(d, name)
        else:
            _judge(d, member, d.observed.iam_policy)


def granting_roles(principal_role: str) -> tuple[str, ...]:
    """The roles whose binding lets a member call the models, the manifest's own first."""
    return tuple(dict.fromkeys((principal_role, *PREDICT_ROLES)))


def same_member(a: str, b: str) -> bool:
    """IAM members compare exactly, except the email of a user, group or service account."""
    if a.startswith(_EMAIL_KINDS) and b.startswith(_EMAIL_KINDS):
        return a.partition(":")[0] == b.partition(":")[0] and a.lower() == b.lower()
    return a == b


def _judge(d: Draft, member: str, policy: ObservedIamPolicy) -> None:
    name = access_check(member)
    role = d.desired.principal_role
    grant = remedies.add_project_binding(d.pid, member, role)
    roles = granting_roles(role)
    bindings = [b for b in policy.bindings if b.role in roles]
    direct = [b for b in bindings if any(same_member(m, member) for m in b.members)]
    if plain := next((b for b in direct if not b.condition), None):
        d.check(name, CheckStatus.OK, f"Project {d.pid}: {member} holds {plain.role}.")
        return
    if direct:
        why = f"{member} holds {direct[0].role} only under the condition {direct[0].condition!r}"
        _cannot_tell(d, name, f"{why}: a condition decides", grant)
        return
    if via := _through(bindings, member):
        why = f"{member} is not named; it may hold {via.role} through {_indirect(via, member)}"
        _cannot_tell(d, name, f"{why}, which the policy does not expand", grant)
        return
    _grant(d, member, role)


def _grant(d: Draft, member: str, role: str) -> None:
    """No binding names the member: plan adding it to the role's unconditional binding."""
    d.changes.append(
        Change(
            action=Action.GRANT_ROLE,
            target=f"projects/{d.pid}",
            reason=f"Project {d.pid}: {member} lacks {role}.",
            project_id=d.pid,
            member=member,
            role=role,
        )
    )
    d.pending(
        access_check(member),
        finding=f"Project {d.pid}: {member} holds neither {role} nor a role that contains "
        "aiplatform.endpoints.predict; its calls to the models would be denied (403); "
        "apply grants it.",
        change=f"Project {d.pid}: will grant {role} to {member} (added to the policy).",
    )


def _through(bindings: list[IamBinding], member: str) -> IamBinding | None:
    """The first binding whose members include a group, domain or principal set (not `member`)."""
    return next((b for b in bindings if _indirect(b, member)), None)


def _indirect(binding: IamBinding, member: str) -> str:
    return next((m for m in binding.members if m.startswith(_INDIRECT) and m != member), "")


def _cannot_tell(d: Draft, name: str, why: str, grant: str) -> None:
    d.check(
        name,
        CheckStatus.UNKNOWN,
        f"Project {d.pid}: {why}; only a call as the principal can prove it.",
        cause=Cause.UNKNOWN,
        remedy=f"To be sure without a call, grant the role unconditionally: {grant}",
    )


def _unreadable(d: Draft, name: str) -> None:
    failure = d.observed.failures.get(POLICY_READ)
    d.check(
        name,
        CheckStatus.UNKNOWN,
        failure.message if failure else f"Project {d.pid}: its IAM policy could not be read.",
        cause=failure.cause if failure else Cause.UNKNOWN,
        remedy=failure.remedy
        if failure
        else remedies.grant_permission(
            "resourcemanager.projects.getIamPolicy", f"projects/{d.pid}"
        ),
    )

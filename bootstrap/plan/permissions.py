"""The IAM permissions each command needs, by resource: the source of the least-privilege roles.

Reads (audit, plan) come from the calls the reconciler makes to observe a project; apply adds the
permissions the planner's preflight tests before each change (`plan.required_permissions`, so the
two cannot drift); smoke needs only the data-plane call. docs/permissions.md and
examples/roles/*.yaml are generated from nothing but checked against this module by a test.
Pure values, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import Action, Change, ProjectPlan
from bootstrap.plan.preflight import UNVERIFIED_PERMISSIONS, required_permissions
from bootstrap.remedies import role_for


class Scope(StrEnum):
    """Where a permission is checked, hence where its role is granted."""

    PROJECT = "project"  # on each project (or a folder/organization above them, inherited)
    # On the folder or organization that new projects go under (apply), or that
    # `--inventory asset` searches (audit, plan).
    PARENT = "parent"
    BILLING_ACCOUNT = "billing_account"  # on the billing account
    SERVICE_ACCOUNT = "service_account"  # on the service account a smoke test runs as


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    permission: str
    scope: Scope
    calls: str  # the API calls that need it
    when: str = ""  # empty: always
    predefined_role: str = ""  # when remedies.role_for does not know the permission
    # False when Google does not confirm the call needs it (evidence row 18: enableModel's).
    verified: bool = True

    @property
    def role(self) -> str:
        """The smallest predefined role that grants it."""
        return self.predefined_role or role_for(self.permission)


# The calls that need no permission of their own are listed for the docs, not granted.
NO_PERMISSION_CALLS = (
    "projects.testIamPermissions and billingAccounts.testIamPermissions (the preflight): "
    "they answer the subset of the permissions asked for that the caller holds",
    "publishers/*/models/* get (the model's lifecycle in Model Garden): a public resource",
)

_OBSERVE = (
    Need(
        permission="resourcemanager.projects.get",
        scope=Scope.PROJECT,
        calls="projects.get, projects.search (audit --parent), projects.getBillingInfo",
    ),
    Need(
        permission="serviceusage.services.get",
        scope=Scope.PROJECT,
        calls="services.batchGet",
    ),
    Need(
        permission="billing.accounts.get",
        scope=Scope.BILLING_ACCOUNT,
        calls="billingAccounts.get (is the manifest's billing account open?)",
        when="a manifest names a billing_account",
    ),
    Need(
        permission="resourcemanager.projects.getIamPolicy",
        scope=Scope.PROJECT,
        calls="projects.getIamPolicy (the access:<member> checks)",
        when="a manifest names principals",
    ),
    # Spelled as the IAM role index lists it for Org Policy Viewer (singular "policy").
    Need(
        permission="orgpolicy.policy.get",
        scope=Scope.PROJECT,
        calls="projects.policies.getEffectivePolicy, one per constraint (the policy check)",
        when="unless audit --skip policy; without it the policy check is a warning",
        predefined_role="roles/orgpolicy.policyViewer",
    ),
    # The Cloud Quotas reference lists this one permission for quotaInfos.list and get.
    Need(
        permission="cloudquotas.quotas.get",
        scope=Scope.PROJECT,
        calls="quotaInfos.list of aiplatform.googleapis.com, one paged list per project (the "
        "quota:<alias>@<location> checks)",
        when="unless audit --skip quota; without it the quota checks are warnings",
        predefined_role="roles/cloudquotas.viewer",
    ),
)
# `--inventory asset` (or auto above 500 projects): the fleet in pages. Without them the run
# reads every project directly and says so (jobs/inventory.py).
_INVENTORY = (
    Need(
        permission="cloudasset.assets.searchAllResources",
        scope=Scope.PARENT,
        calls="searchAllResources of Projects and enabled Services, and (on the organization) "
        "analyzeOrgPolicyGovernedContainers of each org-policy constraint (--inventory asset)",
        when="with --inventory asset, or auto above 500 projects; without it every project "
        "is read directly",
        predefined_role="roles/cloudasset.viewer",
    ),
    Need(
        permission="cloudasset.assets.searchAllIamPolicies",
        scope=Scope.PARENT,
        calls="searchAllIamPolicies of Projects (--inventory asset; the access:<member> checks)",
        when="with --inventory asset, or auto above 500 projects, when a manifest names "
        "principals; without it each project's IAM policy is read directly",
        predefined_role="roles/cloudasset.viewer",
    ),
    Need(
        permission="billing.resourceAssociations.list",
        scope=Scope.BILLING_ACCOUNT,
        calls="billingAccounts.projects.list (--inventory asset)",
        when="with --inventory asset, or auto above 500 projects; without it each project's "
        "billing is read directly",
        predefined_role="roles/billing.viewer",
    ),
)
_PROBE = Need(
    permission="aiplatform.endpoints.predict",
    scope=Scope.PROJECT,
    calls="chat completion with max_tokens 1 (the model probe)",
    when="unless --no-probe",
)
_SMOKE = Need(
    permission="aiplatform.endpoints.predict",
    scope=Scope.PROJECT,
    calls="streaming chat completion (the smoke test)",
)
_SMOKE_AFTER = replace(_SMOKE, when="unless --no-smoke")
# A smoke test run as a workload (smoke_as, --smoke-as) streams with a token minted for it.
_SMOKE_AS = Need(
    permission="iam.serviceAccounts.getAccessToken",
    scope=Scope.SERVICE_ACCOUNT,
    calls="serviceAccounts.generateAccessToken (IAM Credentials: the smoke test's token)",
    when="only for projects with smoke_as, or with --smoke-as",
)
# `bootstrap smoke` reads no state first; after a vague refusal (SERVICE_DISABLED, BILLING_
# DISABLED, not found) it reads the project, its billing and its APIs once to say which
# (jobs/smoke_state.py). Without these the data plane's own words stay.
_SMOKE_EXPLAIN = (
    Need(
        permission="resourcemanager.projects.get",
        scope=Scope.PROJECT,
        calls="projects.get, projects.getBillingInfo (to explain a refused stream)",
        when="only after a stream is refused as if billing or an API were off",
    ),
    Need(
        permission="serviceusage.services.get",
        scope=Scope.PROJECT,
        calls="services.batchGet (to explain a refused stream)",
        when="only after a stream is refused as if billing or an API were off",
    ),
)
_POLL_SERVICE_OPERATIONS = Need(
    permission="serviceusage.operations.get",
    scope=Scope.PROJECT,
    calls="operations.get (waiting for services.enable / batchEnable)",
    when="when an API is enabled",
    predefined_role="roles/serviceusage.serviceUsageViewer",
)
_WHEN = {
    Action.CREATE_PROJECT: "only for projects with create: true",
    Action.LINK_BILLING: "only with link_billing: true",
    Action.ENABLE_SERVICES: "when an API is disabled",
    Action.ENABLE_MODEL: "only for models with enable: true",
    Action.GRANT_ROLE: "when a manifest principal lacks its role",
}
_CALLS = {
    Action.CREATE_PROJECT: "projects.create",
    Action.LINK_BILLING: "projects.updateBillingInfo",
    Action.ENABLE_SERVICES: "services.enable / batchEnable",
    Action.ENABLE_MODEL: "publishers/*/models/*:enableModel",
    Action.GRANT_ROLE: "projects.getIamPolicy + projects.setIamPolicy (additive grant)",
}


def _every_change() -> list[Change]:
    """One change of each kind, on an existing project and on one apply creates."""
    return [
        Change(
            action=Action.LINK_BILLING,
            target="billingAccounts/ACCOUNT",
            reason="",
            project_id="p",
            billing_account="ACCOUNT",
        ),
        Change(action=Action.ENABLE_SERVICES, target="", reason="", project_id="p"),
        Change(action=Action.ENABLE_MODEL, target="", reason="", project_id="p"),
        Change(action=Action.GRANT_ROLE, target="", reason="", project_id="p"),
    ]


def _apply_needs() -> list[Need]:
    """What the preflight tests before apply's changes, read from the planner itself."""
    existing = ProjectPlan(project_id="p", changes=tuple(_every_change()))
    created = ProjectPlan(
        project_id="p",
        changes=(Change(action=Action.CREATE_PROJECT, target="", reason="", project_id="p"),),
    )
    desired = DesiredProject(project_id="p", parent="folders/1")
    needs: list[Need] = []
    for plan in (created, existing):
        for resource, permissions in required_permissions(plan, desired):
            kind = resource.partition("/")[0]
            scope = {"projects": Scope.PROJECT, "billingAccounts": Scope.BILLING_ACCOUNT}.get(
                kind, Scope.PARENT
            )
            for permission in permissions:
                action = _action_for(permission, scope)
                needs.append(
                    Need(
                        permission=permission,
                        scope=scope,
                        calls=_CALLS[action],
                        when=_WHEN[action],
                        verified=permission not in UNVERIFIED_PERMISSIONS,
                    )
                )
    return needs


def _action_for(permission: str, scope: Scope) -> Action:
    if scope is Scope.PARENT:
        return Action.CREATE_PROJECT
    if scope is Scope.BILLING_ACCOUNT or "BillingAssignment" in permission:
        return Action.LINK_BILLING
    if permission.startswith("serviceusage."):
        return Action.ENABLE_SERVICES
    if permission.endswith(".setIamPolicy"):
        return Action.GRANT_ROLE
    return Action.ENABLE_MODEL


def _unique(needs: list[Need]) -> tuple[Need, ...]:
    """One entry per permission and scope; a permission two calls need lists both (the probe and
    the smoke test both call the model), needed always if either always needs it."""
    seen: dict[tuple[str, Scope], Need] = {}
    for need in needs:
        key = (need.permission, need.scope)
        first = seen.get(key)
        if first is None:
            seen[key] = need
            continue
        when = "" if not (first.when and need.when) else f"{first.when}; {need.when}"
        seen[key] = replace(first, calls=f"{first.calls}; {need.calls}", when=when)
    return tuple(seen.values())


COMMANDS = ("audit", "plan", "apply", "smoke")


def needs_for(command: str) -> tuple[Need, ...]:
    """Every permission `command` may need, in the order its calls are made."""
    if command in ("audit", "plan"):
        smoke = [_SMOKE_AFTER, _SMOKE_AS] if command == "audit" else []
        return _unique([*_OBSERVE, *_INVENTORY, _PROBE, *smoke])
    if command == "apply":
        return _unique(
            [*_OBSERVE, _PROBE, *_apply_needs(), _POLL_SERVICE_OPERATIONS, _SMOKE_AFTER, _SMOKE_AS]
        )
    if command == "smoke":
        return (_SMOKE, *_SMOKE_EXPLAIN, _SMOKE_AS)
    raise ValueError(f"unknown command {command!r}; expected one of {', '.join(COMMANDS)}")


def permissions_for(command: str, scope: Scope | None = None) -> tuple[str, ...]:
    """The permission names, sorted, optionally only those checked on `scope`."""
    return tuple(sorted({n.permission for n in needs_for(command) if scope in (None, n.scope)}))

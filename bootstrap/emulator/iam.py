"""IAM in the emulator: which roles hold which permissions, and who holds a role where.

A principal may act on a resource through a direct grant (the world's `principals[].grants`,
the emulator's shortcut) or through an allow policy (the world's `iam_policies`) on the resource
or any ancestor whose unconditional binding names the principal with a role that holds the
permission. Conditional bindings grant nothing here: the emulator does not evaluate CEL, so a
condition is never assumed true (docs/emulator.md). Groups are not expanded either.

The role table lists the predefined roles the docs and examples use, as permission patterns
(`fnmatch`): `roles/viewer` holds every `*.get` and `*.list`, and so on. These are the emulator's
summary of Google's role reference, not a copy of it; a role not listed grants nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

_READ = ("*.get", "*.list")

# role -> (permission patterns it holds, patterns excluded again).
ROLE_PERMISSIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "roles/owner": (("*",), ("iam.serviceAccounts.getAccessToken",)),
    "roles/editor": (
        ("*",),
        (
            "*.setIamPolicy",
            "iam.serviceAccounts.getAccessToken",
            "resourcemanager.projects.createBillingAssignment",
            "resourcemanager.projects.deleteBillingAssignment",
            "billing.*",
        ),
    ),
    "roles/viewer": ((*_READ, "resourcemanager.projects.getIamPolicy"), ()),
    "roles/browser": (
        (
            "resourcemanager.projects.get",
            "resourcemanager.projects.list",
            "resourcemanager.projects.getIamPolicy",
            "resourcemanager.folders.get",
            "resourcemanager.folders.list",
            "resourcemanager.organizations.get",
        ),
        (),
    ),
    "roles/aiplatform.user": (
        ("aiplatform.*", "resourcemanager.projects.get", "resourcemanager.projects.list"),
        ("aiplatform.*.delete", "aiplatform.*.setIamPolicy"),
    ),
    "roles/aiplatform.admin": (
        ("aiplatform.*", "resourcemanager.projects.get", "resourcemanager.projects.list"),
        (),
    ),
    "roles/serviceusage.serviceUsageAdmin": (("serviceusage.*",), ()),
    "roles/serviceusage.serviceUsageConsumer": (
        ("serviceusage.services.use", "serviceusage.services.get", "serviceusage.services.list"),
        (),
    ),
    "roles/serviceusage.serviceUsageViewer": (
        ("serviceusage.services.get", "serviceusage.services.list"),
        (),
    ),
    "roles/billing.user": (
        ("billing.accounts.get", "billing.resourceAssociations.create"),
        (),
    ),
    "roles/billing.viewer": (("billing.*.get", "billing.*.list"), ()),
    "roles/billing.projectManager": (
        (
            "resourcemanager.projects.createBillingAssignment",
            "resourcemanager.projects.deleteBillingAssignment",
        ),
        (),
    ),
    "roles/resourcemanager.projectIamAdmin": (
        ("resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"),
        (),
    ),
    "roles/resourcemanager.projectCreator": (("resourcemanager.projects.create",), ()),
    "roles/orgpolicy.policyViewer": (("orgpolicy.*.get", "orgpolicy.*.list"), ()),
    "roles/cloudquotas.viewer": (("cloudquotas.*.get", "cloudquotas.*.list"), ()),
    # Cloud Asset Viewer: the inventory reads (search, the org policy analyses), not exports.
    "roles/cloudasset.viewer": (
        (
            "cloudasset.assets.searchAllResources",
            "cloudasset.assets.searchAllIamPolicies",
            "cloudasset.assets.analyzeOrgPolicy",
            "cloudasset.assets.analyzeIamPolicy",
            "cloudasset.feeds.get",
            "cloudasset.feeds.list",
        ),
        (),
    ),
    "roles/iam.serviceAccountTokenCreator": (
        (
            "iam.serviceAccounts.getAccessToken",
            "iam.serviceAccounts.getOpenIdToken",
            "iam.serviceAccounts.signBlob",
            "iam.serviceAccounts.signJwt",
            "iam.serviceAccounts.get",
        ),
        (),
    ),
}


def role_holds(role: str, permission: str) -> bool:
    """Whether the predefined `role` holds `permission` (an unknown role holds nothing)."""
    patterns = ROLE_PERMISSIONS.get(role)
    if patterns is None:
        return False
    held, excluded = patterns
    return any(fnmatchcase(permission, p) for p in held) and not any(
        fnmatchcase(permission, p) for p in excluded
    )


def member_names(email: str) -> tuple[str, ...]:
    """The IAM member strings that name a principal of the world, lowercased (members compare
    case-insensitively)."""
    kind = "serviceaccount" if email.lower().endswith(".gserviceaccount.com") else "user"
    return (f"{kind}:{email.lower()}",)


def binding_grants(binding: dict[str, Any], members: tuple[str, ...], permission: str) -> bool:
    """An unconditional binding whose role holds `permission` and that names one of `members`."""
    if "condition" in binding or not role_holds(str(binding.get("role", "")), permission):
        return False
    return any(str(m).lower() in members for m in binding.get("members") or [])


def policy_grants(bindings: list[dict[str, Any]], email: str, permission: str) -> bool:
    members = member_names(email)
    return any(binding_grants(b, members, permission) for b in bindings)


@dataclass(frozen=True, slots=True)
class PolicyView:
    """The bindings the data plane still enforces while a change propagates (until `until`)."""

    bindings: list[dict[str, Any]]
    until: float

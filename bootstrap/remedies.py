"""One-line remedies: the command, role or console link that fixes each kind of failure.

Shared by the error classifier, the planner and the smoke test so the same problem always gets
the same advice. Pure string building; no I/O.
"""

from __future__ import annotations

# Credentials missing, expired or rejected: log in again (Application Default Credentials).
LOGIN = "gcloud auth application-default login"

# The smallest predefined role that grants each permission the tool uses
# (shared/reference/reliability-notes.md §3.1).
ROLE_FOR_PERMISSION: dict[str, str] = {
    "resourcemanager.projects.get": "roles/browser",
    "resourcemanager.projects.getIamPolicy": "roles/browser",
    "resourcemanager.projects.setIamPolicy": "roles/resourcemanager.projectIamAdmin",
    "resourcemanager.projects.create": "roles/resourcemanager.projectCreator",
    "resourcemanager.projects.createBillingAssignment": "roles/billing.projectManager",
    "billing.resourceAssociations.create": "roles/billing.user",
    "billing.accounts.get": "roles/billing.viewer",
    "serviceusage.services.get": "roles/serviceusage.serviceUsageViewer",
    "serviceusage.services.list": "roles/serviceusage.serviceUsageViewer",
    "serviceusage.services.enable": "roles/serviceusage.serviceUsageAdmin",
    "aiplatform.endpoints.predict": "roles/aiplatform.user",
    "consumerprocurement.consents.grant": "roles/consumerprocurement.entitlementManager",
    "iam.serviceAccounts.getAccessToken": "roles/iam.serviceAccountTokenCreator",
}


def role_for(permission: str) -> str:
    return ROLE_FOR_PERMISSION.get(permission, "a role that includes it")


def grant_permission(permission: str, resource: str, principal: str = "YOUR_PRINCIPAL") -> str:
    """How to grant the role holding `permission` on `resource` (projects/..., folders/..., ...)."""
    role = role_for(permission)
    kind, _, ident = resource.partition("/")
    if kind == "projects":
        return f"gcloud projects add-iam-policy-binding {ident} --member={principal} --role={role}"
    if kind == "folders":
        return f"gcloud resource-manager folders add-iam-policy-binding {ident} --member={principal} --role={role}"
    if kind == "organizations":
        return f"gcloud organizations add-iam-policy-binding {ident} --member={principal} --role={role}"
    if kind == "billingAccounts":
        return f"gcloud billing accounts add-iam-policy-binding {ident} --member={principal} --role={role}"
    return f"grant {role} on {resource}"


def add_project_binding(project_id: str, member: str, role: str) -> str:
    """The additive grant of `role` to `member` on one project."""
    return f"gcloud projects add-iam-policy-binding {project_id} --member={member} --role={role}"


def allow_token_creation(account: str, principal: str = "YOUR_PRINCIPAL") -> str:
    """Let `principal` mint tokens for the service account `account` (Token Creator on it)."""
    return (
        f"gcloud iam service-accounts add-iam-policy-binding {account} --member={principal} "
        "--role=roles/iam.serviceAccountTokenCreator"
    )


def enable_api(project_id: str, service: str) -> str:
    return f"gcloud services enable {service} --project={project_id}"


def activation_url(project: str, service: str) -> str:
    return f"https://console.cloud.google.com/apis/api/{service}/overview?project={project}"


def link_billing(project_id: str, account_id: str | None) -> str:
    account = account_id or "BILLING_ACCOUNT_ID"
    return f"gcloud billing projects link {project_id} --billing-account={account}"


def undelete_project(project_id: str) -> str:
    """Possible for 30 days after the deletion request (then the project is gone for good)."""
    return f"gcloud projects undelete {project_id}"


def billing_console(project_id: str) -> str:
    return f"https://console.cloud.google.com/billing/linkedaccount?project={project_id}"


def enable_model_rest(project_id: str, publisher_model: str) -> str:
    """The REST call equivalent to clicking Enable on the Model Garden card."""
    return (
        'curl -X POST -H "Authorization: Bearer $(gcloud auth print-access-token)" '
        f"https://aiplatform.googleapis.com/v1beta1/projects/{project_id}/{publisher_model}:enableModel"
    )


BILLING_QUOTA_INCREASE = "https://support.google.com/code/contact/billing_quota_increase"

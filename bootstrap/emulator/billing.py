"""Cloud Billing v1: project billing info (get, link, unlink, with a read-after-write lag) and
billing accounts (get, list, projects, testIamPermissions), with link quotas and closed accounts.
"""

from __future__ import annotations

from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, QuotaKind, Reply, Route, page, page_size
from bootstrap.emulator.state import BillingView, Store
from bootstrap.emulator.world import BillingAccount, Project, ProjectState

DOMAIN = "cloudbilling.googleapis.com"
API = "cloudbilling"


def account_json(account: BillingAccount) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"billingAccounts/{account.id}",
        "open": account.open,
        "displayName": account.display_name,
        "masterBillingAccount": "",
        "currencyCode": account.currency_code,
    }
    if account.parent:
        body["parent"] = account.parent
    return body


def info_json(store: Store, project: Project, account_id: str | None) -> dict[str, Any]:
    account = store.accounts.get(account_id or "")
    return {
        "name": f"projects/{project.project_id}/billingInfo",
        "projectId": project.project_id,
        "billingAccountName": f"billingAccounts/{account_id}" if account_id else "",
        "billingEnabled": bool(account and account.open),
    }


def _project(store: Store, call: Call, permission: str) -> Project:
    key = call.params["p"]
    project = store.project(key)
    if project is None:
        raise google_errors.permission_denied(permission, f"projects/{key}", domain=DOMAIN)
    store.require(call.principal, permission, f"projects/{project.project_id}", domain=DOMAIN)
    return project


def get_info(store: Store, call: Call) -> Reply:
    project = _project(store, call, "resourcemanager.projects.get")
    view = store.stale_billing.get(project.number)
    if view is not None and store.clock.elapsed() < view.until:
        return Reply(body=info_json(store, project, view.account))
    return Reply(body=info_json(store, project, project.billing_account))


def update_info(store: Store, call: Call) -> Reply:
    project = _project(store, call, "resourcemanager.projects.createBillingAssignment")
    if project.state != ProjectState.ACTIVE:
        raise google_errors.failed_precondition(
            f"Project {project.project_id} is pending deletion."
        )
    raw = call.field("billingAccountName", "billing_account_name") or ""
    account_id = str(raw).removeprefix("billingAccounts/") or None
    if account_id is not None:
        resource = f"billingAccounts/{account_id}"
        account = store.accounts.get(account_id)
        if account is None or not store.allowed(
            call.principal, "billing.resourceAssociations.create", resource
        ):
            raise google_errors.permission_denied(
                "billing.resourceAssociations.create", resource, domain=DOMAIN
            )
        linked = [
            p for p in store.world.projects if p.billing_account == account_id and p is not project
        ]
        if project.billing_account != account_id and len(linked) >= account.link_quota:
            raise google_errors.failed_precondition(
                "Precondition check failed.",
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "subject": resource,
                            "description": "Cloud billing quota exceeded: "
                            "https://support.google.com/code/contact/billing_quota_increase",
                        }
                    ],
                },
            )
    previous = project.billing_account
    if previous != account_id:
        store.history.remember(project, store.clock.elapsed())
    project.billing_account = account_id
    lag = float(store.world.timing.billing_propagation_s)
    if previous != account_id and lag > 0:
        store.stale_billing[project.number] = BillingView(previous, store.clock.elapsed() + lag)
    return Reply(body=info_json(store, project, account_id))


def _account(store: Store, call: Call, permission: str) -> BillingAccount:
    account_id = call.params["a"]
    account = store.accounts.get(account_id)
    resource = f"billingAccounts/{account_id}"
    if account is None or not store.allowed(call.principal, permission, resource):
        raise google_errors.permission_denied(permission, resource, domain=DOMAIN)
    return account


def get_account(store: Store, call: Call) -> Reply:
    return Reply(body=account_json(_account(store, call, "billing.accounts.get")))


def list_accounts(store: Store, call: Call) -> Reply:
    parent = call.arg("parent")
    wanted = call.arg("filter").replace(" ", "").lower()
    found = [
        a
        for a in store.world.billing_accounts
        if store.allowed(call.principal, "billing.accounts.get", f"billingAccounts/{a.id}")
        and (not parent or a.parent == parent)
        and (wanted not in ("open=true", "open:true") or a.open)
        and (wanted not in ("open=false", "open:false") or not a.open)
    ]
    size = page_size(call.arg("pageSize"), default=100, maximum=100)
    items, token = page(found, size=size, token=call.arg("pageToken"))
    body: dict[str, Any] = {}
    if items:
        body["billingAccounts"] = [account_json(a) for a in items]
    body["nextPageToken"] = token or ""  # row 25: captured answers carry an empty token
    return Reply(body=body)


def list_account_projects(store: Store, call: Call) -> Reply:
    account = _account(store, call, "billing.resourceAssociations.list")
    linked = [p for p in store.world.projects if p.billing_account == account.id]
    size = page_size(call.arg("pageSize"), default=100, maximum=100)
    items, token = page(linked, size=size, token=call.arg("pageToken"))
    body: dict[str, Any] = {}
    if items:
        body["projectBillingInfo"] = [info_json(store, p, p.billing_account) for p in items]
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


def test_account_permissions(store: Store, call: Call) -> Reply:
    resource = f"billingAccounts/{call.params['a']}"
    if call.params["a"] not in store.accounts:
        raise google_errors.permission_denied("billing.accounts.get", resource, domain=DOMAIN)
    wanted = call.field("permissions") or []
    held = [p for p in wanted if store.allowed(call.principal, p, resource)]
    return Reply(body={"permissions": held} if held else {})


A = r"/v1/billingAccounts/(?P<a>[^/:]+)"
ROUTES = [
    Route("GET", r"/v1/projects/(?P<p>[^/:]+)/billingInfo", get_info, API),
    Route(
        "PUT",
        r"/v1/projects/(?P<p>[^/:]+)/billingInfo",
        update_info,
        API,
        QuotaKind.WRITE,
        mutating=True,
    ),
    Route("GET", r"/v1/billingAccounts", list_accounts, API),
    Route("GET", A, get_account, API),
    Route("GET", A + r"/projects", list_account_projects, API),
    Route("POST", A + r":testIamPermissions", test_account_permissions, API),
]

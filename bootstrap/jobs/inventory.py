"""The inventory prefetch of one run (`--inventory auto|direct|asset`): whether to read the
fleet in pages, the reads themselves, discovery from them, and what the report says about them.

With `asset`, one Cloud Asset sweep of the organization or folder (projects, and the wanted
services that are ENABLED) plus `billingAccounts.projects.list` for each billing account named
(in the manifests, or by a direct read of a project's billing when none is named) stand in for
three reads per project, and one Cloud Asset analysis of the organization per org-policy
constraint stands in for the effective-policy reads; the observer trusts only compliant views
(reconcile/inventory.py).
Missing permissions are not an error: the run reads every project directly and says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bootstrap.checks import ACCESS_PREFIX, BILLING, POLICY, PROJECT, SERVICES
from bootstrap.cloud.inventory import (
    ANALYZE_POLICY_PERMISSION,
    AUTO_MIN_PROJECTS,
    BILLING_LIST_PERMISSION,
    IAM_SEARCH_PERMISSION,
    SEARCH_PERMISSION,
    Inventory,
    InventoryMode,
    InventorySearch,
)
from bootstrap.cloud.observed import ObservedBilling, ObservedIamPolicy
from bootstrap.cloud.org_policy import EffectivePolicy
from bootstrap.cloud.protocol import Cloud
from bootstrap.errors import BootstrapError
from bootstrap.jobs.discovery import Discovery, NothingFound
from bootstrap.manifest.desired import DesiredModel, DesiredProject
from bootstrap.reconcile.observer import org_policy_constraints
from bootstrap.reconcile.results import ProjectResult

# Projects whose billing is read directly to learn accounts worth listing, when the manifests
# name none (audit --parent): most fleets bill to one or two accounts.
ACCOUNT_SAMPLES = 3
INVENTORY_CHECKS = (PROJECT, BILLING, SERVICES)
# The stats keys of billingAccounts.projects.list and of the policy analysis (gcp/asset.py),
# to count their pages.
BILLING_LIST_METHOD = "cloudbilling.billingAccounts.projects.list"
ANALYZE_METHOD = "cloudasset.analyzeOrgPolicyGovernedContainers"
IAM_SEARCH_METHOD = "cloudasset.searchAllIamPolicies"


NO_SCOPE = (
    "--inventory asset needs one organization or folder: the projects name different parents "
    "(or none); every project is read directly. Set `parent` in the manifest defaults or audit "
    "with --parent."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prefetch:
    mode: InventoryMode = InventoryMode.AUTO  # what --inventory asked for
    inventory: Inventory | None = None
    warnings: tuple[str, ...] = ()


def wanted(mode: InventoryMode, project_count: int) -> bool:
    return mode is InventoryMode.ASSET or (
        mode is InventoryMode.AUTO and project_count > AUTO_MIN_PROJECTS
    )


def common_scope(projects: Sequence[DesiredProject]) -> str | None:
    """The one folder or organization every project names as its parent, if there is one."""
    parents = {p.parent for p in projects}
    if len(parents) != 1:
        return None
    (parent,) = parents
    return parent if parent and parent.split("/")[0] in ("folders", "organizations") else None


def services_of(projects: Sequence[DesiredProject]) -> tuple[str, ...]:
    return tuple(sorted({s for p in projects for s in p.services}))


def fallback_warning(scope: str, error: BootstrapError) -> str:
    return (
        f"--inventory asset: the Cloud Asset inventory of {scope} could not be read "
        f"({error.failure.message}); every project is read directly instead. To read the fleet "
        f"in pages, grant {SEARCH_PERMISSION} on {scope} (roles/cloudasset.viewer) and "
        f"{BILLING_LIST_PERMISSION} on the billing accounts (roles/billing.viewer)."
    )


def search(
    cloud: Cloud, scope: str, services: Sequence[str]
) -> tuple[InventorySearch | None, str | None]:
    """The sweep, or None and the warning that says why the run reads directly."""
    try:
        return cloud.search_inventory(scope, services=services), None
    except BootstrapError as error:
        return None, fallback_warning(scope, error)


def prefetch(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    *,
    mode: InventoryMode,
    scope: str | None,
    swept: InventorySearch | None = None,
    org_policy: bool = True,
) -> Prefetch:
    """The run's inventory, when the mode and the fleet call for one (else `Prefetch()`)."""
    if not projects or not wanted(mode, len(projects)):
        return Prefetch(mode=mode)
    if scope is None:
        # AUTO: the projects span several parents, nothing to sweep; ASSET: say why not.
        return Prefetch(mode=mode, warnings=() if mode is InventoryMode.AUTO else (NO_SCOPE,))
    if swept is None:
        swept, warning = search(cloud, scope, services_of(projects))
        if swept is None:
            return Prefetch(mode=mode, warnings=(warning or "",))
    before = _bulk_requests(cloud)
    billing, accounts, warnings = _billing_links(cloud, projects, swept)
    constraints = _constraints(projects) if org_policy else ()
    policies, policy_warning = _policies(cloud, swept, constraints)
    wants_iam = any(p.principals for p in projects)
    iam, iam_warning = _iam_policies(cloud, swept) if wants_iam else (None, None)
    inventory = Inventory(
        search=swept,
        billing=billing,
        accounts=tuple(accounts),
        policies=policies,
        iam_policies=iam,
        requests=swept.requests + _bulk_requests(cloud) - before,
    )
    warnings += [w for w in (policy_warning, iam_warning) if w]
    return Prefetch(mode=mode, inventory=inventory, warnings=tuple(warnings))


def _bulk_requests(cloud: Cloud) -> int:
    """Billing list, policy analysis and IAM search pages sent so far (the resource search
    counts its own)."""
    methods = (BILLING_LIST_METHOD, ANALYZE_METHOD, IAM_SEARCH_METHOD)
    return sum(cloud.stats.requests.get(method, 0) for method in methods)


def _iam_policies(
    cloud: Cloud, swept: InventorySearch
) -> tuple[dict[str, ObservedIamPolicy] | None, str | None]:
    """Every project's own IAM policy under the scope, by project id; None (and the warning
    saying why) when the search cannot be read: then each project's is read directly."""
    try:
        found = cloud.search_iam_policies(swept.scope)
    except BootstrapError as error:
        return None, (
            f"--inventory asset: the IAM policies under {swept.scope} could not be searched "
            f"({error.failure.message}); each project's is read directly instead. To read them "
            f"in pages, grant {IAM_SEARCH_PERMISSION} on {swept.scope} (roles/cloudasset.viewer)."
        )
    ids = _project_ids(swept)
    return {ids.get(name, name): policy for name, policy in found.items()}, None


def _project_ids(swept: InventorySearch) -> dict[str, str]:
    """`projects/NUMBER` (how Cloud Asset names a project) to its id, for the projects swept."""
    return {
        f"projects/{r.project.number}": pid for pid, r in swept.records.items() if r.project.number
    }


def _constraints(projects: Sequence[DesiredProject]) -> tuple[str, ...]:
    """Every constraint some project's effective policy is read for, in a stable order."""
    return tuple(sorted({c for p in projects for c in org_policy_constraints(p)}))


def _policies(
    cloud: Cloud, swept: InventorySearch, constraints: Sequence[str]
) -> tuple[dict[str, dict[str, EffectivePolicy]], str | None]:
    """One analysis of the organization per constraint, by constraint then project id; nothing
    (and the warning saying why) when one cannot be read: then every project reads its own,
    so no project's policy check mixes the two paths."""
    organization = swept.organization
    if not constraints or organization is None:
        return {}, None
    ids = _project_ids(swept)
    policies: dict[str, dict[str, EffectivePolicy]] = {}
    for constraint in constraints:
        try:
            analyzed = cloud.analyze_org_policies(organization, constraint)
        except BootstrapError as error:
            return {}, policy_fallback_warning(organization, error)
        policies[constraint] = {ids.get(name, name): policy for name, policy in analyzed.items()}
    return policies, None


def policy_fallback_warning(organization: str, error: BootstrapError) -> str:
    return (
        f"--inventory asset: the organization policies of {organization} could not be analyzed "
        f"in bulk ({error.failure.message}); each project's effective policy is read directly "
        f"instead. To analyze them in pages, grant {ANALYZE_POLICY_PERMISSION} (or "
        f"{SEARCH_PERMISSION}) on {organization} (roles/cloudasset.viewer); without Security "
        "Command Center on the organization, Policy Analyzer answers 20 queries a day."
    )


def _billing_links(
    cloud: Cloud, projects: Sequence[DesiredProject], swept: InventorySearch
) -> tuple[dict[str, ObservedBilling], list[str], list[str]]:
    """Every listed account's links; accounts named by the manifests, else learnt from a few
    projects' own billing reads."""
    billing: dict[str, ObservedBilling] = {}
    accounts: list[str] = []
    warnings: list[str] = []

    def listed(account: str) -> None:
        if account in accounts:
            return
        accounts.append(account)
        try:
            billing.update(cloud.list_billing_links(account))
        except BootstrapError as error:
            warnings.append(
                f"--inventory asset: the projects of billing account {account} could not be "
                f"listed ({error.failure.message}); their billing is read project by project. "
                f"Grant {BILLING_LIST_PERMISSION} on billingAccounts/{account} "
                "(roles/billing.viewer)."
            )

    for account in sorted({p.billing_account for p in projects if p.billing_account}):
        listed(account)
    if any(p.billing_account is None for p in projects):
        unknown = [p.project_id for p in projects if p.project_id in swept.records]
        for _ in range(ACCOUNT_SAMPLES):
            sample = next((pid for pid in unknown if pid not in billing), None)
            if sample is None:
                break
            try:
                found = cloud.get_billing(sample)
            except BootstrapError:
                break
            billing[sample] = found
            if found.account is None:
                continue
            listed(found.account)
    return billing, accounts, warnings


def discover(
    swept: InventorySearch,
    *,
    parent: str,
    labels: dict[str, str],
    models: Sequence[DesiredModel],
    nested: bool = True,
) -> Discovery:
    """`audit --parent` from the sweep: every project under the parent (nested folders
    included unless `nested` is false), matching every label: the folder walk's answer, from
    the inventory's pages."""
    found = [
        DesiredProject(
            project_id=record.project.project_id,
            models=tuple(models),
            source=f"{parent} (discovered)",
        )
        for record in swept.records.values()
        if (nested or record.project.parent == parent)
        and all(record.project.labels.get(key) == value for key, value in labels.items())
    ]
    if not found:
        raise NothingFound(parent, children=len(swept.records), labels=labels)
    return Discovery(projects=sorted(found, key=lambda p: p.project_id))


def judged_checks(inventory: Inventory | None) -> tuple[str, ...]:
    """The checks (names, or `access:` for every principal's) an inventory view answers:
    project, billing, services, the org policies when the organization's were analyzed, the
    principals' access when the IAM policies were searched."""
    checks: tuple[str, ...] = INVENTORY_CHECKS
    if inventory is not None and inventory.policies:
        checks = (*checks, POLICY)
    if inventory is not None and inventory.iam_policies is not None:
        checks = (*checks, ACCESS_PREFIX)
    return checks


def marked(
    results: Sequence[ProjectResult],
    judged: frozenset[str],
    checks: Sequence[str] = INVENTORY_CHECKS,
) -> list[ProjectResult]:
    """Results whose `checks` (`judged_checks`) rest on the inventory say so in those checks'
    metrics (`observed_from: inventory`)."""
    out = []
    for result in results:
        if result.project_id not in judged:
            out.append(result)
            continue
        plan_checks = tuple(
            replace(c, metrics={**c.metrics, "observed_from": "inventory"})
            if c.name in checks or (ACCESS_PREFIX in checks and c.name.startswith(ACCESS_PREFIX))
            else c
            for c in result.plan.checks
        )
        out.append(replace(result, plan=replace(result.plan, checks=plan_checks)))
    return out


def metrics(prefetch: Prefetch | None, judged: frozenset[str]) -> dict[str, float | int | str]:
    """The run-wide words: which path observed, how many projects the inventory judged, how
    many requests it cost, and how old its data could be where the API says. Nothing when
    `auto` chose the direct path (as before --inventory existed)."""
    inventory = prefetch.inventory if prefetch else None
    if prefetch is None or inventory is None:
        asked = prefetch is not None and prefetch.mode is not InventoryMode.AUTO
        return {"inventory": InventoryMode.DIRECT.value} if asked else {}
    out: dict[str, float | int | str] = {
        "inventory": InventoryMode.ASSET.value,
        "inventory_projects": len(judged),
        "inventory_requests": inventory.requests,
    }
    if inventory.policies:
        out["inventory_org_policies"] = ", ".join(sorted(inventory.policies))
    newest = inventory.search.newest_update
    if newest is not None:
        stamp = dt.datetime.fromtimestamp(newest, dt.UTC).isoformat().replace("+00:00", "Z")
        out["inventory_newest_update"] = stamp
        out["inventory_stale_at_most_s"] = round(inventory.stale_at_most_s() or 0.0, 1)
    return out

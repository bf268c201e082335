"""Bulk inventory reads as values: what Cloud Asset Inventory and Cloud Billing's per-account
project lists say about many projects at once (`Cloud.search_inventory`, `Cloud.list_billing_links`).

An inventory trails the resources it indexes (minutes, on Google), so a record is a hint, never
proof of a problem: the reconciler re-reads directly any project whose inventory view is not
compliant (`bootstrap.reconcile.inventory`). Timestamps are seconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.cloud.observed import ObservedBilling, ObservedIamPolicy, ObservedProject
from bootstrap.cloud.org_policy import EffectivePolicy

SEARCH_PERMISSION = "cloudasset.assets.searchAllResources"
BILLING_LIST_PERMISSION = "billing.resourceAssociations.list"
# analyzeOrgPolicyGovernedContainers accepts this or SEARCH_PERMISSION on the organization.
ANALYZE_POLICY_PERMISSION = "cloudasset.assets.analyzeOrgPolicy"
IAM_SEARCH_PERMISSION = "cloudasset.assets.searchAllIamPolicies"


class InventoryMode(StrEnum):
    """`--inventory`: where projects, billing links and enabled services are read from."""

    AUTO = "auto"  # asset for more than AUTO_MIN_PROJECTS under one organization or folder
    DIRECT = "direct"  # per-project reads (projects.get, getBillingInfo, services.batchGet)
    ASSET = "asset"  # Cloud Asset searchAllResources + billingAccounts.projects.list


# `auto` picks the inventory above this many projects: below it the per-project reads cost
# little and prove everything directly.
AUTO_MIN_PROJECTS = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryRecord:
    """One project as the inventory shows it."""

    project: ObservedProject
    enabled: frozenset[str] = frozenset()  # ENABLED services among those the search asked for
    updated: float | None = None  # the newest updateTime of the project's records


@dataclass(frozen=True, slots=True, kw_only=True)
class InventorySearch:
    """One searchAllResources sweep of a scope: its projects and their enabled services."""

    scope: str  # organizations/N, folders/N
    services: tuple[str, ...]  # the services the query asked about
    organization: str | None = None  # the organizations/N the projects found belong to
    records: Mapping[str, InventoryRecord] = field(default_factory=dict)  # by project id
    read_at: float = 0.0  # when the search began
    requests: int = 0  # pages read

    @property
    def newest_update(self) -> float | None:
        stamps = [r.updated for r in self.records.values() if r.updated is not None]
        return max(stamps) if stamps else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """A search plus the billing links of the accounts listed: everything one run prefetched."""

    search: InventorySearch
    billing: Mapping[str, ObservedBilling] = field(default_factory=dict)  # by project id
    accounts: tuple[str, ...] = ()  # the billing accounts whose projects were listed
    # Effective org policies from one analysis of the organization per constraint, by
    # constraint then project id (only the projects some policy governs); empty when they were
    # not analyzed, and then every project's are read directly.
    policies: Mapping[str, Mapping[str, EffectivePolicy]] = field(default_factory=dict)
    # Each project's own IAM policy from searchAllIamPolicies, by project id; None when it was
    # not searched (no principals named, or the search failed): then getIamPolicy per project.
    iam_policies: Mapping[str, ObservedIamPolicy] | None = None
    requests: int = 0  # search pages, billing list pages, policy analysis and IAM search pages

    def iam_policy(self, project_id: str) -> ObservedIamPolicy | None:
        """The project's own IAM policy as the search found it; None when not searched or not
        found there (then it is read directly)."""
        return None if self.iam_policies is None else self.iam_policies.get(project_id)

    def policy(self, constraint: str, project_id: str) -> EffectivePolicy | None:
        """The project's effective policy for `constraint` when the organization's was analyzed
        (a project no policy governs gets the constraint's default: no rules); else None."""
        analyzed = self.policies.get(constraint)
        if analyzed is None:
            return None
        return analyzed.get(project_id) or EffectivePolicy(constraint=constraint)

    def stale_at_most_s(self) -> float | None:
        """How old the data can be, as far as the API says: searchAllResources states no read
        time, but its newest updateTime proves the inventory had caught up to that moment. None
        when no record carries one."""
        newest = self.search.newest_update
        return None if newest is None else max(0.0, self.search.read_at - newest)

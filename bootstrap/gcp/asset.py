"""Bulk reads for org-scale audits: Cloud Asset Inventory `searchAllResources` (projects and
their enabled services under an organization or folder) and Cloud Billing
`billingAccounts.projects.list` (every project linked to an account).

Both are paged at the maximum page size (500 results for the search, 100 for the billing list)
so a 10,000-project organization costs a few dozen requests instead of three per project.
`analyzeOrgPolicyGovernedContainers` (200 per page) answers the effective org policy of every
project a policy governs, one analysis of the organization per constraint, instead of one
getEffectivePolicy per project per constraint; `searchAllIamPolicies` (500 per page) answers
every project's IAM policy instead of one getIamPolicy per project. The
service query names only the services asked about (`state:ENABLED AND (name:A OR name:B)`), and
a read mask keeps the pages small. The search has its own quota (`cloudasset.search` in
gcp/ratelimit.py); the billing list counts against Cloud Billing's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from google.cloud import asset_v1, billing_v1
from google.protobuf.timestamp_pb2 import Timestamp

from bootstrap.causes.context import CallContext
from bootstrap.cloud.inventory import InventoryRecord, InventorySearch
from bootstrap.cloud.observed import (
    ObservedBilling,
    ObservedIamPolicy,
    ObservedProject,
    ProjectState,
)
from bootstrap.cloud.org_policy import EffectivePolicy
from bootstrap.gcp.billing import observed_billing
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.orgpolicy import policy_rules
from bootstrap.gcp.partial import field_mask, raw
from bootstrap.gcp.projects import observed_policy

_SEARCH = "cloudasset.search"
_BILLING_READ = "cloudbilling.read"
PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
SERVICE_TYPE = "serviceusage.googleapis.com/Service"
PAGE_SIZE = 500  # the API's cap
BILLING_PAGE_SIZE = 100
_CRM = "//cloudresourcemanager.googleapis.com/"
_PROJECT_MASK = (
    "name,state,displayName,labels,parentFullResourceName,additionalAttributes,updateTime,"
    "organization"
)
ANALYZE_PAGE_SIZE = 200  # analyzeOrgPolicyGovernedContainers' cap
# What the analysis is read for (a partial response, the X-Goog-FieldMask system parameter):
# each container's name and consolidated rules. Its policy bundle, ancestors and tags are most
# of a page otherwise, and parsing them most of the page's CPU.
_ANALYZE_FIELDS = field_mask(
    "governedContainers.fullResourceName",
    "governedContainers.consolidatedPolicy.rules",
    "nextPageToken",
)
_SERVICE_MASK = "name,project,state,updateTime"


def service_query(services: Sequence[str]) -> str:
    """Enabled services among `services`; `name:` matches the words of the resource name, so
    the answer is filtered again by exact name."""
    names = " OR ".join(f"name:{s}" for s in services)
    return f"state:ENABLED AND ({names})" if len(services) > 1 else f"state:ENABLED AND {names}"


def _epoch(stamp: Timestamp) -> float | None:
    """A protobuf Timestamp's seconds since the epoch, or None when unset."""
    return stamp.seconds + stamp.nanos / 1e9 if stamp.seconds > 0 else None


def _project(result: Any) -> ObservedProject:
    """A `ResourceSearchResult` (protobuf) of a project, as the direct read would observe it."""
    attributes = result.additional_attributes.fields
    parent = result.parent_full_resource_name.removeprefix(_CRM)
    return ObservedProject(
        project_id=attributes["projectId"].string_value if "projectId" in attributes else "",
        state=ProjectState.DELETE_REQUESTED
        if result.state == "DELETE_REQUESTED"
        else ProjectState.ACTIVE,
        number=result.name.rpartition("/")[2] or None,
        parent=parent or None,
        display_name=result.display_name or None,
        labels=dict(result.labels),
    )


class _Sweep:
    """What the search's pages say, page by page: each project, its enabled wanted services and
    the newest updateTime of its records."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[ObservedProject, set[str], float | None]] = {}
        self._by_number: dict[str, str] = {}
        self.organization: str | None = None
        self.pages = 0

    def add_projects(self, results: list[Any]) -> None:
        self.pages += 1
        for result in results:
            project = _project(result)
            if not project.project_id:
                continue
            self._found[project.project_id] = (project, set(), _epoch(result.update_time))
            if project.number:
                self._by_number[project.number] = project.project_id
            self.organization = self.organization or result.organization or None

    def add_services(self, results: list[Any], *, wanted: set[str]) -> None:
        self.pages += 1
        for result in results:
            name = result.name.rpartition("/services/")[2]
            project_id = self._by_number.get(result.project.rpartition("/")[2])
            if result.state != "ENABLED" or name not in wanted or project_id is None:
                continue
            project, enabled, updated = self._found[project_id]
            enabled.add(name)
            stamp = _epoch(result.update_time)
            if stamp is not None and (updated is None or stamp > updated):
                self._found[project_id] = (project, enabled, stamp)

    def records(self) -> dict[str, InventoryRecord]:
        return {
            pid: InventoryRecord(project=p, enabled=frozenset(e), updated=u)
            for pid, (p, e, u) in self._found.items()
        }


class Asset:
    def __init__(
        self,
        *,
        client: asset_v1.AssetServiceClient,
        billing: billing_v1.CloudBillingClient,
        caller: Caller,
    ) -> None:
        self._client = client
        self._billing = billing
        self._caller = caller

    def _pages(self, request: dict[str, Any]) -> Iterator[list[Any]]:
        """Each page's results of one search, one call through the Caller per page; a page is
        handled before the next is read, so 10,000 projects never sit in memory as protos."""
        for page in self._caller.pages(
            "cloudasset.searchAllResources",
            lambda r, t: self._client.search_all_resources(request=r, retry=None, timeout=t),
            request,
            bucket=_SEARCH,
            context=CallContext(),
        ):
            yield list(raw(page.results))

    def search(self, scope: str, *, services: Sequence[str]) -> InventorySearch:
        """The projects under `scope` (nested folders included) and which of `services` each
        has enabled."""
        read_at = time.time()
        sweep = _Sweep()
        common = {"scope": scope, "page_size": PAGE_SIZE}
        project_pages = {**common, "asset_types": [PROJECT_TYPE], "read_mask": _PROJECT_MASK}
        for results in self._pages(project_pages):
            sweep.add_projects(results)
        service_pages = {
            **common,
            "asset_types": [SERVICE_TYPE],
            "query": service_query(services),
            "read_mask": _SERVICE_MASK,
        }
        for results in self._pages(service_pages) if services else ():
            sweep.add_services(results, wanted=set(services))
        return InventorySearch(
            scope=scope,
            services=tuple(services),
            organization=sweep.organization,
            records=sweep.records(),
            read_at=read_at,
            requests=sweep.pages,
        )

    def governed_policies(self, organization: str, constraint: str) -> dict[str, EffectivePolicy]:
        """analyzeOrgPolicyGovernedContainers: the consolidated (effective) policy of each
        project under `organization` that some policy for `constraint` governs, by
        `projects/NUMBER`; a project not listed is governed by none (the default applies)."""
        found: dict[str, EffectivePolicy] = {}
        pages = self._caller.pages(
            "cloudasset.analyzeOrgPolicyGovernedContainers",
            lambda r, t: self._client.analyze_org_policy_governed_containers(
                request=r, retry=None, timeout=t, metadata=_ANALYZE_FIELDS
            ),
            {"scope": organization, "constraint": constraint, "page_size": ANALYZE_PAGE_SIZE},
            bucket=_SEARCH,
            context=CallContext(),
        )
        for page in pages:
            for container in raw(page.governed_containers):
                name = container.full_resource_name.removeprefix(_CRM)
                if name.startswith("projects/"):
                    rules = policy_rules(container.consolidated_policy.rules)
                    found[name] = EffectivePolicy(constraint=constraint, rules=rules)
        return found

    def iam_policies(self, scope: str) -> dict[str, ObservedIamPolicy]:
        """searchAllIamPolicies of the Projects under `scope`: each project's own IAM policy
        (its bindings; the search answers no etag), by `projects/NUMBER`."""
        pages = self._caller.pages(
            "cloudasset.searchAllIamPolicies",
            lambda r, t: self._client.search_all_iam_policies(request=r, retry=None, timeout=t),
            {"scope": scope, "asset_types": [PROJECT_TYPE], "page_size": PAGE_SIZE},
            bucket=_SEARCH,
            context=CallContext(),
        )
        return {
            result.project: observed_policy(result.policy)
            for page in pages
            for result in page.results
            if result.project
        }

    def billing_links(self, account: str) -> dict[str, ObservedBilling]:
        """Every project linked to `account` (billingAccounts.projects.list), by project id."""
        name = f"billingAccounts/{account.removeprefix('billingAccounts/')}"
        pages = self._caller.pages(
            "cloudbilling.billingAccounts.projects.list",
            lambda r, t: self._billing.list_project_billing_info(request=r, retry=None, timeout=t),
            {"name": name, "page_size": BILLING_PAGE_SIZE},
            bucket=_BILLING_READ,
            context=CallContext(),
        )
        return {
            info.project_id: observed_billing(info)
            for page in pages
            for info in page.project_billing_info
        }

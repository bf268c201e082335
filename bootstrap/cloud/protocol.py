"""The boundary between the reconciler and Google Cloud, as a Protocol with no google imports.

`bootstrap.gcp.GcpCloud` implements it with the official clients (or points them at the emulator);
the reconciler, smoke test and CLI depend only on this module. Every method either returns a value
or raises `BootstrapError` carrying a classified `Failure`; retries, rate limits and operation
polling happen behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bootstrap.cloud.inventory import InventorySearch
from bootstrap.cloud.observed import (
    BillingAccountInfo,
    ModelAccess,
    ObservedBilling,
    ObservedIamPolicy,
    ObservedProject,
    PublisherModelInfo,
    ServiceState,
)
from bootstrap.cloud.org_policy import EffectivePolicy
from bootstrap.cloud.quota import ObservedQuotas
from bootstrap.errors import Failure


class TokenSource(Protocol):
    """Gives a valid access token, refreshing it when it nears expiry."""

    def token(self) -> str: ...

    def refresh(self) -> str:
        """Force a refresh (after a 401) and return the new token."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationOutcome:
    """A finished long-running operation (or several, when a batch was split)."""

    names: tuple[str, ...]
    polls: int = 0
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What the smallest data-plane call said about a model in a location."""

    access: ModelAccess
    failure: Failure | None = None


@dataclass(slots=True)
class CallStats:
    """Counts kept by a Cloud implementation, for reports and benchmarks."""

    requests: dict[str, int] = field(default_factory=dict)  # "<api>.<method>" -> count
    retries: int = 0
    rate_limited: int = 0  # 429 answers seen
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # Counted from many threads, by the cloud layer and by the gates above it: one lock.
    def add_request(self, method: str) -> None:
        with self._lock:
            self.requests[method] = self.requests.get(method, 0) + 1

    def add_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def add_rate_limited(self) -> None:
        with self._lock:
            self.rate_limited += 1

    def take(self) -> StatCounts:
        """The counts so far, as plain values (a worker process sends them back), starting again
        from zero."""
        with self._lock:
            counts = (dict(self.requests), self.retries, self.rate_limited)
            self.requests.clear()
            self.retries = self.rate_limited = 0
        return counts

    def add(self, counts: StatCounts) -> None:
        """Add what `take` gave in another process."""
        requests, retries, rate_limited = counts
        with self._lock:
            for method, count in requests.items():
                self.requests[method] = self.requests.get(method, 0) + count
            self.retries += retries
            self.rate_limited += rate_limited


# CallStats' counts without its lock: requests by method, retries, 429 answers.
StatCounts = tuple[dict[str, int], int, int]


class Cloud(Protocol):
    @property
    def stats(self) -> CallStats: ...

    def divide(self, parts: int) -> None:
        """This process now does one of `parts` equal shares of the run (a forked worker): its
        rate limits and concurrency become that share of the run's."""
        ...

    def vertex_root(self, location: str) -> str:
        """`https://<host>` for the location (or the emulator's root): the openai base URL root."""
        ...

    def tokens(self) -> TokenSource: ...

    def tokens_as(self, service_account: str) -> TokenSource:
        """Tokens that act as `service_account` (IAM Credentials generateAccessToken; the caller
        needs iam.serviceAccounts.getAccessToken on it). Only the smoke test uses them: every
        other call keeps the run's own identity."""
        ...

    # Resource Manager
    def get_project(self, project_id: str) -> ObservedProject:
        """state NOT_FOUND when Resource Manager answers 403/404 (missing or forbidden)."""
        ...

    def create_project(
        self, *, project_id: str, parent: str, display_name: str | None, labels: dict[str, str]
    ) -> ObservedProject:
        """Create and wait for the operation."""
        ...

    def search_projects(self, *, parent: str) -> Iterator[ObservedProject]: ...

    def list_folders(self, parent: str) -> list[str]:
        """The `folders/N` directly under an organization or folder (folders.list)."""
        ...

    def test_project_permissions(
        self, project_id: str, permissions: Sequence[str]
    ) -> frozenset[str]: ...

    def test_parent_permissions(self, parent: str, permissions: Sequence[str]) -> frozenset[str]:
        """`folders/N` or `organizations/N`."""
        ...

    def get_project_iam_policy(self, project_id: str) -> ObservedIamPolicy:
        """projects.getIamPolicy with requested policy version 3 (conditions included)."""
        ...

    def grant_role(self, project_id: str, member: str, role: str) -> ObservedIamPolicy:
        """Add `member` to the unconditional binding of `role` (read-modify-write with the etag,
        nothing else changed; nothing sent when it is already there). Returns the policy after."""
        ...

    # Cloud Billing
    def get_billing(self, project_id: str) -> ObservedBilling: ...

    def get_billing_account(self, account_id: str) -> BillingAccountInfo: ...

    def link_billing(self, project_id: str, account_id: str) -> ObservedBilling:
        """Never called with an empty account: that would unlink billing."""
        ...

    def test_billing_permissions(
        self, account_id: str, permissions: Sequence[str]
    ) -> frozenset[str]: ...

    # Service Usage
    def get_services(self, project_id: str, services: Sequence[str]) -> dict[str, ServiceState]:
        """One services.batchGet (split at 30)."""
        ...

    def enable_services(self, project_id: str, services: Sequence[str]) -> OperationOutcome:
        """services.enable for one, batchEnable (split at 20) for several; waits for the operations."""
        ...

    # Org Policy
    def get_effective_policy(self, project_id: str, constraint: str) -> EffectivePolicy:
        """projects.policies.getEffectivePolicy for one constraint (`constraints/...`): the
        policy merged down the hierarchy."""
        ...

    # Cloud Quotas
    def get_model_quotas(
        self, project_id: str, wanted: Sequence[tuple[str, str]]
    ) -> ObservedQuotas:
        """The per-base-model aiplatform limits of each wanted (publisher model, location): one
        quotaInfos.list of the service, paged."""
        ...

    # Bulk inventory (org-scale audits; bootstrap.cloud.inventory)
    def search_inventory(self, scope: str, *, services: Sequence[str]) -> InventorySearch:
        """Cloud Asset searchAllResources over `scope` (organizations/N or folders/N, nested
        folders included): its projects, and which of `services` each has ENABLED; paged at
        500. 403 when the caller lacks cloudasset.assets.searchAllResources on the scope."""
        ...

    def list_billing_links(self, account_id: str) -> dict[str, ObservedBilling]:
        """billingAccounts.projects.list: every project linked to the account, by project id
        (needs billing.resourceAssociations.list on the account)."""
        ...

    def search_iam_policies(self, scope: str) -> dict[str, ObservedIamPolicy]:
        """Cloud Asset searchAllIamPolicies of the Projects under `scope`: each project's own
        IAM policy (no etag), by `projects/NUMBER`; paged at 500. Needs
        cloudasset.assets.searchAllIamPolicies on the scope."""
        ...

    def analyze_org_policies(
        self, organization: str, constraint: str
    ) -> dict[str, EffectivePolicy]:
        """Cloud Asset analyzeOrgPolicyGovernedContainers over `organization`: the effective
        policy of each project some policy for `constraint` governs, by `projects/NUMBER`
        (others get the constraint's default); paged at 200. Needs
        cloudasset.assets.analyzeOrgPolicy or cloudasset.assets.searchAllResources on it."""
        ...

    # Vertex AI
    def get_publisher_model(self, publisher_model: str) -> PublisherModelInfo | None:
        """None when the publisher model does not exist (404)."""
        ...

    def probe_model(self, project_id: str, location: str, request_model: str) -> ProbeResult:
        """A non-streaming chat completion with max_tokens 1, classified."""
        ...

    def enable_model(self, project_id: str, publisher_model: str) -> str:
        """enableModel; returns the enablementState."""
        ...

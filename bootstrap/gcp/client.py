"""`GcpCloud`: the `bootstrap.cloud.protocol.Cloud` implementation, wired once per run by `connect`.

Clients are built once (GAPIC construction costs milliseconds; per-call construction would
dominate a thousand-project run), all share one credentials object, one Caller (rate limits,
concurrency slots, retry loop, stats), and HTTP connection pools sized to the concurrency. The
sessions' own 401 handling is switched off, because the retry loop owns it (one refresh, one
retry), and urllib3's retries are off for the same reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from google.auth import credentials as auth_credentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import (
    billing_v1,
    cloudquotas_v1,
    orgpolicy_v2,
    resourcemanager_v3,
    service_usage_v1,
)

from bootstrap.catalog import endpoint_host
from bootstrap.cloud.inventory import InventorySearch
from bootstrap.cloud.observed import (
    BillingAccountInfo,
    ObservedBilling,
    ObservedIamPolicy,
    ObservedProject,
    PublisherModelInfo,
    ServiceState,
)
from bootstrap.cloud.org_policy import EffectivePolicy
from bootstrap.cloud.protocol import CallStats, OperationOutcome, ProbeResult, TokenSource
from bootstrap.cloud.quota import ObservedQuotas
from bootstrap.errors import Failure
from bootstrap.gcp.auth import (
    CredentialsTokenSource,
    default_credentials,
    emulator_credentials,
    impersonated,
)
from bootstrap.gcp.billing import Billing
from bootstrap.gcp.calls import Caller
from bootstrap.gcp.inflight import InFlight
from bootstrap.gcp.orgpolicy import OrgPolicies
from bootstrap.gcp.projects import Projects
from bootstrap.gcp.quotas import Quotas
from bootstrap.gcp.ratelimit import RateLimiter
from bootstrap.gcp.services import Services
from bootstrap.gcp.sessions import tune_session
from bootstrap.gcp.settings import DEFAULT_EMULATOR_TOKEN, CloudSettings
from bootstrap.gcp.vertex import Vertex

if TYPE_CHECKING:
    from bootstrap.gcp.asset import Asset

# Against the emulator there is no Google login: the token comes from the environment.
EMULATOR_LOGIN_REMEDY = (
    "set BOOTSTRAP_EMULATOR_TOKEN to a token the emulator's world knows (default emulator-owner)"
)


def _gapic(cls: Any, credentials: auth_credentials.Credentials, settings: CloudSettings) -> Any:
    options = {"api_endpoint": settings.emulator_root} if settings.emulated else None
    client = cls(credentials=credentials, transport="rest", client_options=options)
    tune_session(client._transport._session, settings.concurrency)
    return client


class GcpCloud:
    """Google Cloud (or the emulator) behind the `Cloud` protocol; thread-safe."""

    def __init__(self, settings: CloudSettings, credentials: auth_credentials.Credentials) -> None:
        self.settings = settings
        self._credentials = credentials
        self._tokens = CredentialsTokenSource(credentials)
        self._tokens_as: dict[str, CredentialsTokenSource] = {}
        self._tokens_lock = threading.Lock()
        self._asset_lock = threading.Lock()
        self._asset: Asset | None = None
        self.limiter = RateLimiter(settings.clock, settings.rate_limits, settings.rate_capacities)
        self._caller = Caller(
            clock=settings.clock,
            limiter=self.limiter,
            concurrency=settings.concurrency,
            timeout_s=settings.timeout_s,
            deadline_s=settings.read_deadline_s,
            refresh=self._refresh,
            seed=settings.seed,
            login_remedy=EMULATOR_LOGIN_REMEDY if settings.emulated else None,
            endpoint=settings.endpoint,
            endpoint_remedy=settings.endpoint_remedy,
            notify=settings.on_retry_event,
        )
        self._wire_gapic(credentials)
        session = AuthorizedSession(  # type: ignore[no-untyped-call]
            credentials, refresh_status_codes=()
        )
        tune_session(session, settings.concurrency)
        self._session = session
        self._vertex = Vertex(
            session=session, caller=self._caller, root_for=self.vertex_root, as_of=settings.as_of
        )

    def _wire_gapic(self, credentials: auth_credentials.Credentials) -> None:
        """Resource Manager, Cloud Billing, Service Usage, Org Policy and Cloud Quotas, each on
        its GAPIC REST client (Cloud Asset's is made on first use: `_asset_api`)."""
        settings = self.settings
        self._projects = Projects(
            projects=_gapic(resourcemanager_v3.ProjectsClient, credentials, settings),
            folders=_gapic(resourcemanager_v3.FoldersClient, credentials, settings),
            organizations=_gapic(resourcemanager_v3.OrganizationsClient, credentials, settings),
            caller=self._caller,
            clock=settings.clock,
            operation_deadline_s=settings.operation_deadline_s,
        )
        self._billing_client = _gapic(billing_v1.CloudBillingClient, credentials, settings)
        self._billing = Billing(
            client=self._billing_client, caller=self._caller, clock=settings.clock
        )
        self._services = Services(
            client=_gapic(service_usage_v1.ServiceUsageClient, credentials, settings),
            caller=self._caller,
            clock=settings.clock,
            operation_deadline_s=settings.operation_deadline_s,
            # --no-rate-limit (an empty dict) says quotas are raised: then fewer requests win.
            write_quota_limited=settings.rate_limits != {},
        )
        self._org_policies = OrgPolicies(
            client=_gapic(orgpolicy_v2.OrgPolicyClient, credentials, settings),
            caller=self._caller,
        )
        self._quotas = Quotas(
            client=_gapic(cloudquotas_v1.CloudQuotasClient, credentials, settings),
            caller=self._caller,
        )

    def _refresh(self) -> None:
        self._tokens.refresh()

    @property
    def stats(self) -> CallStats:
        return self._caller.stats

    def divide(self, parts: int) -> None:
        self._caller.divide(parts)

    @property
    def in_flight(self) -> InFlight:
        """Mutations awaiting answers and operations running, for an interrupt's message."""
        return self._caller.in_flight

    @property
    def unreachable(self) -> Failure | None:
        """Set when the endpoint refused the first attempts of the run (nothing more was sent)."""
        return self._caller.reachability.failure

    def vertex_root(self, location: str) -> str:
        if self.settings.emulated:
            return self.settings.emulator_root
        return f"https://{endpoint_host(location)}"

    def tokens(self) -> TokenSource:
        return self._tokens

    def tokens_as(self, service_account: str) -> TokenSource:
        """Tokens that act as `service_account`, minted from this run's credentials through
        IAM Credentials (the emulator's route in emulator mode); one source per account."""
        with self._tokens_lock:
            source = self._tokens_as.get(service_account)
            if source is None:
                credentials = impersonated(
                    self._credentials, service_account, iam_root=self._iam_root()
                )
                source = CredentialsTokenSource(credentials, account=service_account)
                self._tokens_as[service_account] = source
            return source

    def _iam_root(self) -> str | None:
        return self.settings.emulator_root if self.settings.emulated else None

    def get_project(self, project_id: str) -> ObservedProject:
        return self._projects.get(project_id)

    def create_project(
        self, *, project_id: str, parent: str, display_name: str | None, labels: dict[str, str]
    ) -> ObservedProject:
        return self._projects.create(
            project_id=project_id, parent=parent, display_name=display_name, labels=labels
        )

    def search_projects(self, *, parent: str) -> Iterator[ObservedProject]:
        return self._projects.search(parent=parent)

    def list_folders(self, parent: str) -> list[str]:
        return self._projects.list_folders(parent)

    def test_project_permissions(
        self, project_id: str, permissions: Sequence[str]
    ) -> frozenset[str]:
        return self._projects.test_permissions(project_id, permissions)

    def test_parent_permissions(self, parent: str, permissions: Sequence[str]) -> frozenset[str]:
        return self._projects.test_parent_permissions(parent, permissions)

    def get_project_iam_policy(self, project_id: str) -> ObservedIamPolicy:
        return self._projects.get_iam_policy(project_id)

    def grant_role(self, project_id: str, member: str, role: str) -> ObservedIamPolicy:
        return self._projects.grant_role(project_id, member, role)

    def get_billing(self, project_id: str) -> ObservedBilling:
        return self._billing.get(project_id)

    def get_billing_account(self, account_id: str) -> BillingAccountInfo:
        return self._billing.get_account(account_id)

    def link_billing(self, project_id: str, account_id: str) -> ObservedBilling:
        return self._billing.link(project_id, account_id)

    def test_billing_permissions(
        self, account_id: str, permissions: Sequence[str]
    ) -> frozenset[str]:
        return self._billing.test_permissions(account_id, permissions)

    def get_services(self, project_id: str, services: Sequence[str]) -> dict[str, ServiceState]:
        return self._services.get(project_id, services)

    def enable_services(self, project_id: str, services: Sequence[str]) -> OperationOutcome:
        return self._services.enable(project_id, services)

    def _asset_api(self) -> Asset:
        """Cloud Asset, imported and built when a run first uses it: its client library takes
        ~0.3 s to import (a third of the others together), which a run without the inventory
        (`--inventory direct`, a small fleet) would pay in start-up for nothing."""
        with self._asset_lock:
            if self._asset is None:
                from google.cloud import asset_v1

                from bootstrap.gcp.asset import Asset

                client = _gapic(asset_v1.AssetServiceClient, self._credentials, self.settings)
                self._asset = Asset(
                    client=client, billing=self._billing_client, caller=self._caller
                )
            return self._asset

    def get_effective_policy(self, project_id: str, constraint: str) -> EffectivePolicy:
        return self._org_policies.get_effective(project_id, constraint)

    def get_model_quotas(
        self, project_id: str, wanted: Sequence[tuple[str, str]]
    ) -> ObservedQuotas:
        return self._quotas.model_quotas(project_id, wanted)

    def search_inventory(self, scope: str, *, services: Sequence[str]) -> InventorySearch:
        return self._asset_api().search(scope, services=services)

    def search_iam_policies(self, scope: str) -> dict[str, ObservedIamPolicy]:
        return self._asset_api().iam_policies(scope)

    def analyze_org_policies(
        self, organization: str, constraint: str
    ) -> dict[str, EffectivePolicy]:
        return self._asset_api().governed_policies(organization, constraint)

    def list_billing_links(self, account_id: str) -> dict[str, ObservedBilling]:
        return self._asset_api().billing_links(account_id)

    def get_publisher_model(self, publisher_model: str) -> PublisherModelInfo | None:
        return self._vertex.get_publisher_model(publisher_model)

    def probe_model(self, project_id: str, location: str, request_model: str) -> ProbeResult:
        return self._vertex.probe(project_id, location, request_model)

    def enable_model(self, project_id: str, publisher_model: str) -> str:
        return self._vertex.enable_model(project_id, publisher_model)

    def close(self) -> None:
        self._session.close()  # type: ignore[no-untyped-call]


def connect(settings: CloudSettings) -> GcpCloud:
    """A ready GcpCloud: emulator credentials in emulator mode, otherwise ADC (+ impersonation,
    quota project). Raises BootstrapError(UNAUTHENTICATED) when no credentials are found."""
    if settings.emulated:
        credentials = emulator_credentials(settings.emulator_token or DEFAULT_EMULATOR_TOKEN)
        if settings.impersonate_service_account:  # through the emulator's IAM Credentials
            credentials = impersonated(
                credentials, settings.impersonate_service_account, iam_root=settings.emulator_root
            )
    else:
        credentials = default_credentials(
            impersonate_service_account=settings.impersonate_service_account,
            quota_project=settings.quota_project,
        )
    return GcpCloud(settings, credentials)

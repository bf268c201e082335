"""The observed state of one project: what the read-only calls found, as frozen values.

Produced by the reconciler's observe step through `bootstrap.cloud.protocol.Cloud`; consumed by the pure
planner. A read that failed leaves its field `None` and records its `Failure` in `failures` under
the read's name, so the planner can tell "not linked" from "could not read", and say which read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.cloud.org_policy import ObservedOrgPolicy
from bootstrap.cloud.quota import ObservedQuotas
from bootstrap.errors import Failure


class ProjectState(StrEnum):
    ACTIVE = "ACTIVE"
    DELETE_REQUESTED = "DELETE_REQUESTED"
    NOT_FOUND = "NOT_FOUND"  # missing or forbidden: Resource Manager answers 403 for both


class ServiceState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class ModelAccess(StrEnum):
    """What the data-plane probe (or the catalog) says about one model in one location."""

    ENABLED = "ENABLED"  # the probe got an answer
    NOT_ENABLED = "NOT_ENABLED"  # FAILED_PRECONDITION "... not allowed to use Publisher Model"
    BLOCKED = "BLOCKED"  # SERVICE_DISABLED / BILLING_DISABLED: an earlier step is missing
    NOT_OFFERED = "NOT_OFFERED"  # 404 / not in the offer for this location
    RETIRED = "RETIRED"
    NO_ACCESS = "NO_ACCESS"  # permission denied or 404 that the catalog cannot explain
    UNKNOWN = "UNKNOWN"  # not probed (--no-probe) or the probe failed for another reason


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedProject:
    project_id: str
    state: ProjectState
    number: str | None = None
    parent: str | None = None
    display_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedBilling:
    account: str | None  # billing account id without prefix; None when not linked
    enabled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingAccountInfo:
    account_id: str
    open: bool
    display_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublisherModelInfo:
    name: str  # publishers/openai/models/gpt-oss-120b-maas
    launch_stage: str = ""
    version_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedModel:
    publisher_model: str
    alias: str
    location: str
    access: ModelAccess
    failure: Failure | None = None  # why it is not ENABLED, when known


@dataclass(frozen=True, slots=True, kw_only=True)
class PermissionReport:
    """Result of the permission preflight for one resource."""

    resource: str  # projects/ID, folders/N, organizations/N or billingAccounts/ID
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IamBinding:
    """One binding of a project's IAM policy: a role, its members, and its condition if any."""

    role: str
    members: tuple[str, ...] = ()
    condition: str = ""  # the condition's expression; empty when the binding is unconditional


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedIamPolicy:
    """A project's IAM policy as read (getIamPolicy, requested policy version 3)."""

    bindings: tuple[IamBinding, ...] = ()
    etag: str = ""
    version: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """Everything observed about one project."""

    project_id: str
    project: ObservedProject | None = None
    billing: ObservedBilling | None = None
    billing_account: BillingAccountInfo | None = None  # the desired account, read once per run
    services: dict[str, ServiceState] | None = None
    models: tuple[ObservedModel, ...] = ()
    permissions: tuple[PermissionReport, ...] | None = None  # None: preflight not run
    iam_policy: ObservedIamPolicy | None = None  # read only when the manifest names principals
    # Effective org policies for the constraints the manifest can hit; None: not read.
    org_policy: ObservedOrgPolicy | None = None
    # The wanted models' per-base-model quotas (one Cloud Quotas list); None: not read.
    quotas: ObservedQuotas | None = None
    # Why a read failed, by what it read: project, billing, services, billing_account, iam_policy,
    # org_policy, quota.
    failures: dict[str, Failure] = field(default_factory=dict)

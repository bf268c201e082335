"""The world: the emulator's whole mutable state as typed records, and its (de)serialisation.

A world is loaded from YAML or JSON (snake_case keys, every key optional: missing keys take the
defaults below) and dumped back to the same schema, so `GET world` then `PUT world` round-trips
projects and operations created through the APIs. Faults, journal and quota counters are not
part of the world. The records are mutable on purpose: the backend edits them in place on the
event loop thread, which is the only thread that touches them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from bootstrap.emulator.clock import DEFAULT_START

WORLDS_DIR = Path(__file__).parent / "worlds"


class ProjectState(StrEnum):
    ACTIVE = "ACTIVE"
    DELETE_REQUESTED = "DELETE_REQUESTED"


@dataclass(slots=True)
class Principal:
    email: str
    tokens: list[str]
    grants: dict[str, list[str]]


@dataclass(slots=True)
class Organization:
    id: str
    display_name: str = ""


@dataclass(slots=True)
class Folder:
    id: str
    parent: str
    display_name: str = ""


@dataclass(slots=True)
class BillingAccount:
    id: str
    display_name: str = ""
    open: bool = True
    link_quota: int = 100
    parent: str = ""
    currency_code: str = "USD"


@dataclass(slots=True)
class ModelOffer:
    name: str
    locations: list[str]
    launch_stage: str = "GA"
    deprecated_on: str | None = None
    retired_on: str | None = None
    version_id: str = "001"


@dataclass(slots=True)
class ServiceInfo:
    name: str
    title: str
    requires_billing: bool = False


@dataclass(slots=True)
class Project:
    project_id: str
    number: str
    parent: str = ""
    state: ProjectState = ProjectState.ACTIVE
    display_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    billing_account: str | None = None
    services: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    eula_accepted: list[str] = field(default_factory=list)
    create_time: str = DEFAULT_START


@dataclass(slots=True)
class Timing:
    operation_polls: int = 0
    operation_seconds: float = 0.0
    service_propagation_s: float = 0.0
    billing_propagation_s: float = 0.0
    ttft_ms: float = 50.0
    token_interval_ms: float = 5.0
    # How long the data plane (the chat route) keeps enforcing a project's allow policy as it
    # was before a setIamPolicy ("typically 2 minutes, up to 7": IAM access-change propagation).
    iam_propagation_s: float = 0.0
    # How old the Cloud Asset inventory's view is: searchAllResources shows projects, billing
    # links and enabled services as they were this many seconds ago (emulator/asset.py).
    inventory_lag_s: float = 0.0


@dataclass(slots=True)
class Quotas:
    """Per principal and API, per minute; a zero limit means unlimited."""

    enabled: bool = False
    serviceusage_read_per_min: int = 240
    serviceusage_write_per_min: int = 60
    batch_enable_cost: int = 5
    cloudresourcemanager_read_per_min: int = 0
    cloudresourcemanager_write_per_min: int = 0
    cloudbilling_per_min: int = 0
    aiplatform_per_min: int = 0
    # Cloud Asset searchAllResources: per caller project, and per organization searched.
    cloudasset_search_per_min: int = 400
    cloudasset_search_per_org_per_min: int = 1500


@dataclass(slots=True)
class Behaviour:
    """Knobs for behaviours the public evidence leaves open (docs/emulator.md names the row)."""

    batch_enable_single_refused: bool = True  # row 9: UNKNOWN (a Terraform comment only)
    retry_info_on_429: bool = False  # row 21: Google's rate-limit 429s carry no RetryInfo
    noop_operation_get_404: bool = True  # row 1: GET of the noop operation answers 404 (reported)
    # Row 18: the permission enableModel checks is unknown; this is the emulator's guess.
    enable_model_permission: str = "consumerprocurement.consents.grant"
    enable_model_fails: list[str] = field(default_factory=list)  # row 18: ids answered FAILED


@dataclass(slots=True)
class ChatSettings:
    """The OpenAI-compatible chat route's open questions (rows 4, 16, 19, 26)."""

    reasoning_field: str = "reasoning"  # row 19: reasoning | reasoning_content | both
    billing_lag: bool = False  # row 4: BILLING_DISABLED lags a new link by billing_propagation_s
    require_procurement: bool = False  # row 26: UNKNOWN; off
    array_errors: bool = False  # row 16: errors wrapped in a one-element JSON array


REASONING_FIELDS = ("reasoning", "reasoning_content", "both")


@dataclass(slots=True)
class OrgPolicy:
    """A list constraint's policy on a project, folder or organization (evidence row 23): one
    rule (values, `allow_all` or `deny_all`), or `reset` to the default. Resolved down the
    hierarchy by `emulator.orgpolicy.effective`: the nearest policy replaces those above unless
    it says `inherit_from_parent` (then the values merge). `allowed_values` empty: no allow list."""

    resource: str
    constraint: str
    allowed_values: list[str] = field(default_factory=list)
    denied_values: list[str] = field(default_factory=list)
    allow_all: bool = False
    deny_all: bool = False
    inherit_from_parent: bool = False
    reset: bool = False


@dataclass(slots=True)
class VpcSc:
    """One VPC Service Controls perimeter around aiplatform (evidence row 24): a call to a
    project inside it from a principal not allowed in (no ingress rule) is refused."""

    perimeter_projects: list[str] = field(default_factory=list)
    allowed_principals: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ModelQuota:
    """A project's per-base-model quotas in one location (evidence row 22), per minute: served
    by Cloud Quotas (`emulator/cloudquotas.py`) and enforced on the chat route. A limit left out
    is the default (gpt-oss-120b's launch defaults); 0 refuses every call."""

    project: str
    location: str
    model: str  # the base model: the model id, e.g. gpt-oss-120b-maas
    requests_per_minute: int | None = None  # None: DEFAULT_REQUESTS_PER_MINUTE
    tokens_per_minute: int | None = None  # input tokens; None: DEFAULT_TOKENS_PER_MINUTE


# What Cloud Quotas reports for a model and location no `model_quotas` entry names (those are
# not enforced): gpt-oss-120b's launch defaults (vertex-openai-models.md §5).
DEFAULT_REQUESTS_PER_MINUTE = 650
DEFAULT_TOKENS_PER_MINUTE = 790_000


@dataclass(slots=True)
class IamPolicy:
    """An allow policy on a project, folder or organization (evidence row 27). Bindings are
    `{role, members, condition?}`; version 0 means never set (Google answers only an etag)."""

    resource: str
    bindings: list[dict[str, Any]] = field(default_factory=list)
    etag: str = ""
    version: int = 0
    audit_configs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class ServiceAccount:
    """A service account the IAM Credentials API can mint tokens for (`project` owns it)."""

    email: str
    project: str
    token_lifetime_s: int = 3600


@dataclass(slots=True)
class World:
    principals: list[Principal] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    folders: list[Folder] = field(default_factory=list)
    billing_accounts: list[BillingAccount] = field(default_factory=list)
    models: list[ModelOffer] = field(default_factory=list)
    services: list[ServiceInfo] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    timing: Timing = field(default_factory=Timing)
    quotas: Quotas = field(default_factory=Quotas)
    behaviour: Behaviour = field(default_factory=Behaviour)
    chat: ChatSettings = field(default_factory=ChatSettings)
    org_policies: list[OrgPolicy] = field(default_factory=list)
    vpc_sc: VpcSc = field(default_factory=VpcSc)
    model_quotas: list[ModelQuota] = field(default_factory=list)
    iam_policies: list[IamPolicy] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)
    clock_start: str = DEFAULT_START
    operations: list[dict[str, Any]] = field(default_factory=list)


DEFAULT_SERVICES: tuple[tuple[str, str, bool], ...] = (
    ("aiplatform.googleapis.com", "Vertex AI API", True),
    (
        "cloudcommerceconsumerprocurement.googleapis.com",
        "Cloud Commerce Consumer Procurement API",
        False,
    ),
    ("cloudapis.googleapis.com", "Google Cloud APIs", False),
    ("cloudresourcemanager.googleapis.com", "Cloud Resource Manager API", False),
    ("serviceusage.googleapis.com", "Service Usage API", False),
    ("cloudbilling.googleapis.com", "Cloud Billing API", False),
    ("iam.googleapis.com", "Identity and Access Management (IAM) API", False),
    ("compute.googleapis.com", "Compute Engine API", True),
    ("storage.googleapis.com", "Cloud Storage API", False),
    ("storage-api.googleapis.com", "Google Cloud Storage JSON API", False),
    ("logging.googleapis.com", "Cloud Logging API", False),
    ("monitoring.googleapis.com", "Cloud Monitoring API", False),
    ("bigquery.googleapis.com", "BigQuery API", False),
    ("container.googleapis.com", "Kubernetes Engine API", True),
    ("run.googleapis.com", "Cloud Run Admin API", True),
    ("secretmanager.googleapis.com", "Secret Manager API", False),
)


def generated_number(project_id: str, seed: int = 0) -> str:
    """A stable 12-digit project number for worlds that do not give one."""
    digest = hashlib.sha256(f"{seed}:{project_id}".encode()).hexdigest()
    return str(100000000000 + int(digest, 16) % 899999999999)


def _keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")


WORLD_KEYS = {
    "principals", "organizations", "folders", "billing_accounts", "models", "services",
    "projects", "timing", "quotas", "clock", "operations", "behaviour", "chat",
    "org_policies", "vpc_sc", "model_quotas", "iam_policies", "service_accounts",
}  # fmt: skip


def world_from_dict(raw: dict[str, Any] | None, *, seed: int = 0) -> World:
    """Build a World from the snake_case schema; unknown keys are rejected, missing ones defaulted."""
    raw = dict(raw or {})
    _keys(raw, WORLD_KEYS, "world")
    world = World(
        principals=[_principal(p) for p in raw.get("principals", [])],
        organizations=[_organization(o) for o in raw.get("organizations", [])],
        folders=[_folder(f) for f in raw.get("folders", [])],
        billing_accounts=[_billing_account(b) for b in raw.get("billing_accounts", [])],
        models=[_model(m) for m in raw.get("models", [])],
        services=_services(raw.get("services")),
        clock_start=str((raw.get("clock") or {}).get("start", DEFAULT_START)),
    )
    # Projects without a create time were created when the clock started.
    world.projects = [
        _project(p, seed=seed, default_time=world.clock_start) for p in raw.get("projects", [])
    ]
    world.timing = _settings(Timing, raw.get("timing"), "timing")
    world.quotas = _settings(Quotas, raw.get("quotas"), "quotas")
    world.behaviour = _settings(Behaviour, raw.get("behaviour"), "behaviour")
    world.chat = _settings(ChatSettings, raw.get("chat"), "chat")
    if world.chat.reasoning_field not in REASONING_FIELDS:
        raise ValueError(f"chat.reasoning_field: one of {list(REASONING_FIELDS)}")
    world.operations = [dict(op) for op in raw.get("operations", [])]
    world.org_policies = [_org_policy(p) for p in raw.get("org_policies") or []]
    world.vpc_sc = _vpc_sc(raw.get("vpc_sc"))
    world.model_quotas = [_model_quota(q) for q in raw.get("model_quotas") or []]
    world.iam_policies = _iam_policies(raw.get("iam_policies") or [])
    world.service_accounts = [_service_account(a) for a in raw.get("service_accounts") or []]
    return world


def _org_policy(raw: dict[str, Any]) -> OrgPolicy:
    _keys(raw, set(OrgPolicy.__dataclass_fields__), "org_policies")
    resource, constraint = str(raw.get("resource", "")), str(raw.get("constraint", ""))
    if (
        resource.split("/")[0] not in ("projects", "folders", "organizations")
        or "/" not in resource
    ):
        raise ValueError(
            f"org_policies: resource {resource!r} is not projects/, folders/ or organizations/"
        )
    if not constraint.startswith("constraints/"):
        raise ValueError(f"org_policies: constraint {constraint!r} must start with constraints/")
    flags = {
        k: raw.get(k, False) for k in ("allow_all", "deny_all", "inherit_from_parent", "reset")
    }
    if wrong := sorted(k for k, v in flags.items() if not isinstance(v, bool)):
        raise ValueError(f"org_policies {resource} {constraint}: {wrong} must be true or false")
    policy = OrgPolicy(
        resource=resource,
        constraint=constraint,
        allowed_values=[str(v) for v in raw.get("allowed_values") or []],
        denied_values=[str(v) for v in raw.get("denied_values") or []],
        **flags,
    )
    _check_org_policy_rule(policy)
    return policy


def _check_org_policy_rule(policy: OrgPolicy) -> None:
    """One rule per policy, as Google's API accepts them: values, allow_all or deny_all; a reset
    policy has no rule at all."""
    where = f"org_policies {policy.resource} {policy.constraint}"
    values = bool(policy.allowed_values or policy.denied_values)
    if policy.allow_all and policy.deny_all:
        raise ValueError(f"{where}: allow_all and deny_all cannot both be true")
    if (policy.allow_all or policy.deny_all) and values:
        raise ValueError(f"{where}: allow_all/deny_all cannot have allowed or denied values")
    if policy.reset and (values or policy.allow_all or policy.deny_all):
        raise ValueError(f"{where}: reset restores the default, so it takes no rule")
    if policy.reset and policy.inherit_from_parent:
        raise ValueError(f"{where}: reset and inherit_from_parent cannot both be true")


def _vpc_sc(raw: dict[str, Any] | None) -> VpcSc:
    values = raw or {}
    _keys(values, set(VpcSc.__dataclass_fields__), "vpc_sc")
    return VpcSc(
        perimeter_projects=[str(p) for p in values.get("perimeter_projects") or []],
        allowed_principals=[str(p) for p in values.get("allowed_principals") or []],
    )


def _model_quota(raw: dict[str, Any]) -> ModelQuota:
    _keys(raw, set(ModelQuota.__dataclass_fields__), "model_quotas")
    missing = [k for k in ("project", "location", "model") if k not in raw]
    if missing:
        raise ValueError(f"model_quotas: missing keys {missing}")
    limits: dict[str, int | None] = {}
    for key in ("requests_per_minute", "tokens_per_minute"):
        value = raw.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ValueError(f"model_quotas: {key} must be an integer >= 0")
        limits[key] = value
    return ModelQuota(str(raw["project"]), str(raw["location"]), str(raw["model"]), **limits)


def _principal(raw: dict[str, Any]) -> Principal:
    return Principal(email=raw["email"], tokens=list(raw.get("tokens", [])), grants=_grants(raw))


def _grants(principal: dict[str, Any]) -> dict[str, list[str]]:
    grants = principal.get("grants", {})
    return {str(resource): list(perms) for resource, perms in grants.items()}


def _organization(raw: dict[str, Any]) -> Organization:
    return Organization(id=str(raw["id"]), display_name=raw.get("display_name", ""))


def _folder(raw: dict[str, Any]) -> Folder:
    return Folder(
        id=str(raw["id"]), parent=raw.get("parent", ""), display_name=raw.get("display_name", "")
    )


def _billing_account(raw: dict[str, Any]) -> BillingAccount:
    return BillingAccount(
        id=raw["id"],
        display_name=raw.get("display_name", ""),
        open=bool(raw.get("open", True)),
        link_quota=int(raw.get("link_quota", 100)),
        parent=raw.get("parent") or "",
        currency_code=raw.get("currency_code", "USD"),
    )


def _model(raw: dict[str, Any]) -> ModelOffer:
    return ModelOffer(
        name=raw["name"],
        locations=list(raw.get("locations", ["us-central1"])),
        launch_stage=raw.get("launch_stage", "GA"),
        deprecated_on=_date(raw.get("deprecated_on")),
        retired_on=_date(raw.get("retired_on")),
        version_id=str(raw.get("version_id", "001")),
    )


def _services(raw: list[dict[str, Any]] | None) -> list[ServiceInfo]:
    """A world that names no services gets the default catalogue; an empty list means none."""
    if raw is None:
        return [ServiceInfo(n, t, b) for n, t, b in DEFAULT_SERVICES]
    return [
        ServiceInfo(s["name"], s.get("title", s["name"]), bool(s.get("requires_billing")))
        for s in raw
    ]


def _date(value: Any) -> str | None:
    return None if value is None else str(value)


def _project(raw: dict[str, Any], *, seed: int, default_time: str) -> Project:
    allowed = set(Project.__dataclass_fields__)
    _keys(raw, allowed, f"project {raw.get('project_id')}")
    billing = raw.get("billing_account") or None
    return Project(
        project_id=raw["project_id"],
        number=str(raw.get("number") or generated_number(raw["project_id"], seed)),
        parent=raw.get("parent", ""),
        state=ProjectState(raw.get("state", "ACTIVE")),
        display_name=raw.get("display_name") or raw["project_id"],
        labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
        billing_account=billing.removeprefix("billingAccounts/") if billing else None,
        services=list(raw.get("services", [])),
        models=list(raw.get("models", [])),
        eula_accepted=list(raw.get("eula_accepted", [])),
        create_time=str(raw.get("create_time", default_time)),
    )


_CONDITION_KEYS = {"expression", "title", "description", "location"}


_POLICY_RESOURCE = re.compile(
    r"(?:projects/[^/]+(?:/serviceAccounts/[^/]+)?|folders/[^/]+|organizations/[^/]+)"
)


def _iam_policies(raw: list[Any]) -> list[IamPolicy]:
    policies = [_iam_policy(p) for p in raw]
    seen = [p.resource for p in policies]
    if twice := sorted({r for r in seen if seen.count(r) > 1}):
        raise ValueError(f"iam_policies: more than one policy for {twice}")
    return policies


def _iam_policy(raw: Any) -> IamPolicy:
    """An allow policy, checked: bindings with a role, members and an optional condition."""
    if not isinstance(raw, dict):
        raise ValueError("iam_policies: each policy is a mapping with resource and bindings")
    resource = str(raw.get("resource", ""))
    if not _POLICY_RESOURCE.fullmatch(resource):
        raise ValueError(
            f"iam_policies: resource {resource!r} is not projects/ID, folders/N, organizations/N "
            "or projects/ID/serviceAccounts/EMAIL"
        )
    where = f"iam_policies {resource}"
    _keys(raw, {"resource", "bindings", "etag", "version", "audit_configs"}, where)
    bindings = [_binding(b, where) for b in raw.get("bindings") or []]
    version = raw.get("version", 3 if any("condition" in b for b in bindings) else 1)
    if version not in (0, 1, 3):
        raise ValueError(f"{where}: version must be 1 or 3")
    etag = str(raw.get("etag") or "")
    try:
        base64.b64decode(etag, validate=True)
    except ValueError:
        raise ValueError(f"{where}: etag {etag!r} is not base64 (e.g. BwXhqDhD1QI=)") from None
    audit = raw.get("audit_configs") or []
    if not isinstance(audit, list) or not all(isinstance(a, dict) for a in audit):
        raise ValueError(f"{where}: audit_configs is a list of mappings (service, auditLogConfigs)")
    return IamPolicy(resource, bindings, etag, version, [copy.deepcopy(a) for a in audit])


def _service_account(raw: Any) -> ServiceAccount:
    if not isinstance(raw, dict):
        raise ValueError("service_accounts: each account is a mapping with email and project")
    _keys(raw, set(ServiceAccount.__dataclass_fields__), "service_accounts")
    email, project = str(raw.get("email", "")), str(raw.get("project", ""))
    if not email.endswith(".gserviceaccount.com") or "@" not in email:
        raise ValueError(
            f"service_accounts: {email!r} is not a service account email (NAME@PROJECT.iam.gserviceaccount.com)"
        )
    if not project:
        raise ValueError(f"service_accounts: {email} needs the project that owns it")
    lifetime = raw.get("token_lifetime_s", 3600)
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 1 <= lifetime <= 43200:
        raise ValueError(f"service_accounts: {email} token_lifetime_s must be 1..43200 seconds")
    return ServiceAccount(email, project, lifetime)


def _binding(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: each binding is a mapping")
    _keys(raw, {"role", "members", "condition"}, f"{where} binding")
    role, members = raw.get("role"), raw.get("members")
    if not isinstance(role, str) or "roles/" not in role:
        raise ValueError(f"{where}: binding role {role!r} is not a role name")
    if not isinstance(members, list) or not members:
        raise ValueError(f"{where}: binding {role} needs a non-empty members list")
    binding: dict[str, Any] = {"role": role, "members": [str(m) for m in members]}
    condition = raw.get("condition")
    if condition is not None:
        if not isinstance(condition, dict) or not condition.get("expression"):
            raise ValueError(f"{where}: binding {role} condition needs an expression")
        _keys(condition, _CONDITION_KEYS, f"{where} binding condition")
        binding["condition"] = {k: str(v) for k, v in condition.items()}
    return binding


Settings = TypeVar("Settings", Timing, Quotas, Behaviour, ChatSettings)


def _settings(kind: type[Settings], raw: dict[str, Any] | None, where: str) -> Settings:
    """A flat settings record (timing, quotas): every field optional, no unknown keys."""
    values = raw or {}
    _keys(values, set(kind.__dataclass_fields__), where)
    return kind(**values)


def world_to_dict(world: World) -> dict[str, Any]:
    """The inverse of world_from_dict (same schema, every key present)."""
    return {
        "principals": [_principal_dict(p) for p in world.principals],
        "organizations": [
            {"id": o.id, "display_name": o.display_name} for o in world.organizations
        ],
        "folders": [
            {"id": f.id, "parent": f.parent, "display_name": f.display_name} for f in world.folders
        ],
        "billing_accounts": [_billing_account_dict(b) for b in world.billing_accounts],
        "models": [_model_dict(m) for m in world.models],
        "services": [
            {"name": s.name, "title": s.title, "requires_billing": s.requires_billing}
            for s in world.services
        ],
        "projects": [_project_dict(p) for p in world.projects],
        "timing": _settings_dict(world.timing),
        "quotas": _settings_dict(world.quotas),
        "behaviour": _settings_dict(world.behaviour),
        "chat": _settings_dict(world.chat),
        "clock": {"start": world.clock_start},
        "operations": [dict(op) for op in world.operations],
        "org_policies": [_plain(p) for p in world.org_policies],
        "vpc_sc": _plain(world.vpc_sc),
        "model_quotas": [_plain(q) for q in world.model_quotas],
        "iam_policies": [copy.deepcopy(_plain(p)) for p in world.iam_policies],
        "service_accounts": [_plain(a) for a in world.service_accounts],
    }


def _plain(record: OrgPolicy | VpcSc | ModelQuota | IamPolicy | ServiceAccount) -> dict[str, Any]:
    values = {k: getattr(record, k) for k in type(record).__dataclass_fields__}
    return {k: list(v) if isinstance(v, list) else v for k, v in values.items()}


def _principal_dict(principal: Principal) -> dict[str, Any]:
    return {
        "email": principal.email,
        "tokens": list(principal.tokens),
        "grants": dict(principal.grants),
    }


def _billing_account_dict(account: BillingAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "display_name": account.display_name,
        "open": account.open,
        "link_quota": account.link_quota,
        "parent": account.parent or None,
        "currency_code": account.currency_code,
    }


def _model_dict(model: ModelOffer) -> dict[str, Any]:
    return {
        "name": model.name,
        "locations": list(model.locations),
        "launch_stage": model.launch_stage,
        "deprecated_on": model.deprecated_on,
        "retired_on": model.retired_on,
        "version_id": model.version_id,
    }


def _project_dict(project: Project) -> dict[str, Any]:
    return {
        "project_id": project.project_id,
        "number": project.number,
        "parent": project.parent,
        "state": str(project.state),
        "display_name": project.display_name,
        "labels": dict(project.labels),
        "billing_account": project.billing_account,
        "services": list(project.services),
        "models": list(project.models),
        "eula_accepted": list(project.eula_accepted),
        "create_time": project.create_time,
    }


def _settings_dict(settings: Timing | Quotas | Behaviour | ChatSettings) -> dict[str, Any]:
    values = {k: getattr(settings, k) for k in type(settings).__dataclass_fields__}
    return {k: list(v) if isinstance(v, list) else v for k, v in values.items()}


def load_world_source(source: dict[str, Any] | str | Path | None) -> dict[str, Any]:
    """A world given as a dict, a YAML/JSON file path, or None (the default world)."""
    import yaml

    if source is None:
        source = WORLDS_DIR / "default.yaml"
    if isinstance(source, dict):
        return source
    loaded = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{source}: a world file must hold a mapping")
    return loaded

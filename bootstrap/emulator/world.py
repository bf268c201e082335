"""The world: the emulator's whole mutable state as typed records, and its (de)serialisation.

A world is loaded from YAML or JSON (snake_case keys, every key optional: missing keys take the
defaults below) and dumped back to the same schema, so `GET world` then `PUT world` round-trips
projects and operations created through the APIs. Faults, journal and quota counters are not
part of the world. The records are mutable on purpose: the backend edits them in place on the
event loop thread, which is the only thread that touches them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

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


def world_from_dict(raw: dict[str, Any] | None, *, seed: int = 0) -> World:
    """Build a World from the snake_case schema; unknown keys are rejected, missing ones defaulted."""
    raw = dict(raw or {})
    top = {
        "principals", "organizations", "folders", "billing_accounts", "models", "services",
        "projects", "timing", "quotas", "clock", "operations",
    }  # fmt: skip
    _keys(raw, top, "world")
    world = World()
    world.principals = [
        Principal(email=p["email"], tokens=list(p.get("tokens", [])), grants=_grants(p))
        for p in raw.get("principals", [])
    ]
    world.organizations = [
        Organization(id=str(o["id"]), display_name=o.get("display_name", ""))
        for o in raw.get("organizations", [])
    ]
    world.folders = [
        Folder(id=str(f["id"]), parent=f.get("parent", ""), display_name=f.get("display_name", ""))
        for f in raw.get("folders", [])
    ]
    world.billing_accounts = [
        BillingAccount(
            id=b["id"],
            display_name=b.get("display_name", ""),
            open=bool(b.get("open", True)),
            link_quota=int(b.get("link_quota", 100)),
            parent=b.get("parent") or "",
            currency_code=b.get("currency_code", "USD"),
        )
        for b in raw.get("billing_accounts", [])
    ]
    world.models = [
        ModelOffer(
            name=m["name"],
            locations=list(m.get("locations", ["us-central1"])),
            launch_stage=m.get("launch_stage", "GA"),
            deprecated_on=_date(m.get("deprecated_on")),
            retired_on=_date(m.get("retired_on")),
            version_id=str(m.get("version_id", "001")),
        )
        for m in raw.get("models", [])
    ]
    services = raw.get("services")
    world.services = (
        [
            ServiceInfo(s["name"], s.get("title", s["name"]), bool(s.get("requires_billing")))
            for s in services
        ]
        if services is not None
        else [ServiceInfo(n, t, b) for n, t, b in DEFAULT_SERVICES]
    )
    clock = raw.get("clock") or {}
    world.clock_start = str(clock.get("start", DEFAULT_START))
    world.projects = [
        _project(p, seed=seed, default_time=world.clock_start) for p in raw.get("projects", [])
    ]
    timing = raw.get("timing") or {}
    _keys(timing, set(Timing.__dataclass_fields__), "timing")
    world.timing = Timing(**timing)
    quotas = raw.get("quotas") or {}
    _keys(quotas, set(Quotas.__dataclass_fields__), "quotas")
    world.quotas = Quotas(**quotas)
    world.operations = [dict(op) for op in raw.get("operations", [])]
    return world


def _grants(principal: dict[str, Any]) -> dict[str, list[str]]:
    grants = principal.get("grants", {})
    return {str(resource): list(perms) for resource, perms in grants.items()}


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


def world_to_dict(world: World) -> dict[str, Any]:
    """The inverse of world_from_dict (same schema, every key present)."""
    return {
        "principals": [
            {"email": p.email, "tokens": list(p.tokens), "grants": dict(p.grants)}
            for p in world.principals
        ],
        "organizations": [
            {"id": o.id, "display_name": o.display_name} for o in world.organizations
        ],
        "folders": [
            {"id": f.id, "parent": f.parent, "display_name": f.display_name} for f in world.folders
        ],
        "billing_accounts": [
            {
                "id": b.id,
                "display_name": b.display_name,
                "open": b.open,
                "link_quota": b.link_quota,
                "parent": b.parent or None,
                "currency_code": b.currency_code,
            }
            for b in world.billing_accounts
        ],
        "models": [
            {
                "name": m.name,
                "locations": list(m.locations),
                "launch_stage": m.launch_stage,
                "deprecated_on": m.deprecated_on,
                "retired_on": m.retired_on,
                "version_id": m.version_id,
            }
            for m in world.models
        ],
        "services": [
            {"name": s.name, "title": s.title, "requires_billing": s.requires_billing}
            for s in world.services
        ],
        "projects": [
            {
                "project_id": p.project_id,
                "number": p.number,
                "parent": p.parent,
                "state": str(p.state),
                "display_name": p.display_name,
                "labels": dict(p.labels),
                "billing_account": p.billing_account,
                "services": list(p.services),
                "models": list(p.models),
                "eula_accepted": list(p.eula_accepted),
                "create_time": p.create_time,
            }
            for p in world.projects
        ],
        "timing": {k: getattr(world.timing, k) for k in Timing.__dataclass_fields__},
        "quotas": {k: getattr(world.quotas, k) for k in Quotas.__dataclass_fields__},
        "clock": {"start": world.clock_start},
        "operations": [dict(op) for op in world.operations],
    }


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

"""The desired state: what the manifests ask for, merged and validated, as frozen values.

The loader (`bootstrap.manifest.loader`) turns YAML into these; everything downstream (plan, reconcile,
smoke, reports) reads only these, never the YAML or the pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredModel:
    """One model wanted in a project, in one or more locations."""

    ref: str  # as written in the manifest: a catalog alias or publishers/<p>/models/<id>
    alias: str  # the catalog alias, or the model id when the model is not in the catalog
    publisher_model: str  # publishers/openai/models/gpt-oss-120b-maas
    request_model: str  # openai/gpt-oss-120b-maas (the chat request's `model`)
    locations: tuple[str, ...]
    enable: bool = False  # may the tool call enableModel (accepting the publisher's terms)?
    in_catalog: bool = True
    # The input tokens per minute the project needs; a lower quota is a finding (plan/quota.py).
    min_tokens_per_minute: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeSettings:
    enabled: bool = True
    prompt: str = "Reply with the single word: ok"
    max_tokens: int = 512
    reasoning_effort: str = "low"  # low | medium | high
    timeout_s: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredProject:
    """One project after the defaults merge."""

    project_id: str
    display_name: str | None = None
    create: bool = False
    link_billing: bool = False
    billing_account: str | None = None  # 012345-6789AB-CDEF01, without the billingAccounts/ prefix
    parent: str | None = None  # folders/N or organizations/N
    labels: dict[str, str] = field(default_factory=dict)
    extra_services: tuple[str, ...] = ()  # services listed by the user
    models: tuple[DesiredModel, ...] = ()
    principals: tuple[str, ...] = ()  # IAM members that must be able to call the models
    principal_role: str = "roles/aiplatform.user"  # the role they need (or a custom one)
    smoke_as: str | None = None  # serviceAccount:EMAIL the smoke test runs as (a principal)
    source: str = ""  # FILE:LINE of the project entry, for messages

    @property
    def services(self) -> tuple[str, ...]:
        """Every API the project needs: the models' required APIs plus the extra ones, sorted."""
        from bootstrap.catalog import MAAS_REQUIRED_SERVICES, lookup

        wanted: set[str] = set(self.extra_services)
        for model in self.models:
            entry = lookup(model.publisher_model)
            wanted.update(entry.required_services if entry else MAAS_REQUIRED_SERVICES)
        return tuple(sorted(wanted))


@dataclass(frozen=True, slots=True, kw_only=True)
class Desired:
    """Everything the loaded manifests ask for."""

    projects: tuple[DesiredProject, ...]
    smoke: SmokeSettings = SmokeSettings()
    sources: tuple[str, ...] = ()  # the manifest files, in load order

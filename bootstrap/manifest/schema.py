"""The manifest v1 format: pydantic models (the shape) and the value rules (the content).

The models are strict (no type coercion), frozen and forbid unknown keys; they check the shape of
one file and generate `manifest.schema.json`, which editors use to complete and check manifests.
Rules that need a good sentence, a hint or context (project ids, billing accounts, labels,
parents, services) live here as small pure functions that return a `Problem` or None, so the loader
can place them at the right line and tests can call them with plain strings. The loader
(`bootstrap.manifest.loader`) is the only caller that reads YAML.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "https://github.com/bootstrap/bootstrap/manifest.schema.json"

# Shown in the schema so editors flag bad values early; the loader checks the same rules itself
# to give a sentence and a hint instead of "does not match pattern".
NEW_PROJECT_ID_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# gcloud's _VALID_PROJECT_REGEX: accepts legacy domain-scoped ids (example.com:proj) and leading digits.
EXISTING_PROJECT_ID_RE = re.compile(
    r"^(?:(?:[-a-z0-9]{1,63}\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?"
    r"(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)$"
)
RESTRICTED_PROJECT_WORDS = ("google", "null", "undefined", "ssl")
BILLING_ACCOUNT_RE = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
BILLING_PREFIX = "billingAccounts/"
PARENT_RE = re.compile(r"^(folders|organizations)/[1-9][0-9]*$")
SERVICE_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*\.googleapis\.com$")
PUBLISHER_MODEL_RE = re.compile(
    r"^publishers/([a-z0-9][a-z0-9-]*)/models/([A-Za-z0-9][A-Za-z0-9._-]*)$"
)
LOCATION_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
DISPLAY_NAME_RE = re.compile(r"^[A-Za-z0-9\-'\" !]{4,30}$")
MAX_LABELS = 64
EMAIL = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
PRINCIPAL_RE = re.compile(
    rf"^(?:(?:serviceAccount|user|group):{EMAIL}"
    r"|principal(?:Set)?://iam\.googleapis\.com/[^\s]+)$"
)
ROLE_RE = re.compile(
    r"^(?:roles/[A-Za-z0-9_.]+|(?:projects/[a-z0-9:.-]+|organizations/[0-9]+)/roles/[A-Za-z0-9_.]+)$"
)
DEFAULT_PRINCIPAL_ROLE = "roles/aiplatform.user"

_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True)


def _pattern(regex: re.Pattern[str]) -> dict[str, Any]:
    return {"pattern": regex.pattern}


ProjectId = Annotated[
    str,
    Field(
        description=(
            "The project id (not the number). With create: true it must be 6-30 characters, "
            "lower-case letters, digits and hyphens, start with a letter and not end with a "
            "hyphen; verify-only entries may use legacy ids such as example.com:proj."
        ),
        min_length=1,
        json_schema_extra=_pattern(EXISTING_PROJECT_ID_RE),
    ),
]
BillingAccount = Annotated[
    str,
    Field(
        description=(
            "Billing account id, e.g. 012345-6789AB-CDEF01 (upper-case hex); a billingAccounts/ "
            "prefix is accepted and stripped."
        ),
        json_schema_extra={"pattern": r"^(billingAccounts/)?[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$"},
    ),
]
Parent = Annotated[
    str,
    Field(
        description="Where a created project goes: folders/NUMBER or organizations/NUMBER.",
        json_schema_extra=_pattern(PARENT_RE),
    ),
]
Labels = Annotated[
    dict[str, str],
    Field(
        description=(
            "Labels applied when the tool creates a project (an existing project's differences "
            "are only reported). At most 64; keys 1-63 characters starting with a lower-case "
            "letter; values 0-63 characters; lower-case letters, digits, _ and -."
        ),
    ),
]
Services = Annotated[
    list[str],
    Field(
        description=(
            "Extra APIs to enable beyond those the models require (those come from the catalog), "
            "e.g. storage.googleapis.com."
        ),
    ),
]
Principals = Annotated[
    list[str],
    Field(
        description=(
            "Members that must be able to call this project's models, as IAM writes them: "
            "serviceAccount:EMAIL, user:EMAIL, group:EMAIL, principal://iam.googleapis.com/... "
            "or principalSet://iam.googleapis.com/...; a project's list adds to the defaults'."
        ),
        json_schema_extra={"items": {"type": "string", **_pattern(PRINCIPAL_RE)}},
    ),
]
PrincipalRole = Annotated[
    str,
    Field(
        description=(
            "The role principals need (default roles/aiplatform.user); a custom role "
            "projects/P/roles/R or organizations/O/roles/R is allowed."
        ),
        json_schema_extra=_pattern(ROLE_RE),
    ),
]


SmokeAs = Annotated[
    str,
    Field(
        description=(
            "Run this project's smoke test as this service account (serviceAccount:EMAIL, one "
            "of the project's principals) instead of as whoever runs bootstrap: the token is "
            "minted through IAM Credentials, so the caller needs "
            "roles/iam.serviceAccountTokenCreator on the account."
        ),
        json_schema_extra={"pattern": r"^serviceAccount:[^@\s]+@[^@\s]+$"},
    ),
]


class ModelSpec(BaseModel):
    """One model wanted in a project."""

    model_config = _CONFIG

    model: str = Field(
        description=(
            "A catalog alias (gpt-oss-120b) or a full publisher model name "
            "(publishers/<publisher>/models/<id>; its locations cannot be checked)."
        ),
        min_length=1,
        json_schema_extra={"examples": ["gpt-oss-120b"]},
    )
    locations: list[str] = Field(
        description="Vertex AI locations to check and call, e.g. [global] or [global, us-central1].",
        min_length=1,
    )
    enable: bool = Field(
        default=False,
        description=(
            "false (default): only check. true: the tool may enable the model in Model Garden, "
            "which accepts the publisher's terms for this project."
        ),
    )
    min_tokens_per_minute: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Optional: the input tokens per minute the project needs from this model in each of "
            "its locations. A quota below it (read with Cloud Quotas) is reported as a finding; "
            "a quota of 0 always is."
        ),
        json_schema_extra={"examples": [100000]},
    )


Models = Annotated[
    list[ModelSpec],
    Field(description="Models wanted; on a project this list replaces the defaults' list."),
]
Create = Annotated[
    bool,
    Field(description="false (default): verify only. true: create the project if missing."),
]
LinkBilling = Annotated[
    bool,
    Field(
        description=(
            "false (default): only verify billing. true: link billing_account if no account is "
            "linked (never relinks)."
        )
    ),
]


class Defaults(BaseModel):
    """Values applied to every project of this file: scalars are overridden by the project, labels
    merge key by key (the project wins), models on a project replace this list, services and
    principals add up."""

    model_config = _CONFIG

    create: Create | None = None
    link_billing: LinkBilling | None = None
    billing_account: BillingAccount | None = None
    parent: Parent | None = None
    labels: Labels | None = None
    services: Services | None = None
    models: Models | None = None
    principals: Principals | None = None
    principal_role: PrincipalRole | None = None
    smoke_as: SmokeAs | None = None


class ProjectSpec(Defaults):
    """One project: anything not given here comes from `defaults`."""

    project_id: ProjectId
    display_name: str | None = Field(
        default=None,
        description="Display name used only when creating (4-30 characters).",
    )


class SmokeTest(BaseModel):
    """The streaming chat call that proves each model answers."""

    model_config = _CONFIG

    enabled: bool = Field(default=True, description="Run the smoke test after apply.")
    prompt: str = Field(
        default="Reply with the single word: ok", min_length=1, description="The user message."
    )
    max_tokens: int = Field(default=512, ge=1, description="Upper bound on generated tokens.")
    reasoning_effort: Literal["low", "medium", "high"] = Field(
        default="low", description="gpt-oss reasoning effort."
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Seconds before the call fails.")


class Manifest(BaseModel):
    """A bootstrap manifest, version 1."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        title="bootstrap manifest v1",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
        },
    )

    version: int = Field(
        ge=1, le=1, description="Manifest format version; always 1.", json_schema_extra={"const": 1}
    )
    defaults: Defaults | None = Field(default=None, description="Applied to every project below.")
    smoke_test: SmokeTest | None = Field(
        default=None,
        description="Smoke test settings; when several files set them, the first file's win.",
    )
    projects: list[ProjectSpec] = Field(description="The projects this file manages.")


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema, with descriptions where editors look for them."""
    schema = Manifest.model_json_schema()
    for definition in [schema, *schema.get("$defs", {}).values()]:
        for prop in definition.get("properties", {}).values():
            _hoist_description(prop)
    return schema


def _hoist_description(prop: dict[str, Any]) -> None:
    # Optional fields become anyOf[{...description}, {null}]; editors show the property's own
    # description on hover, so copy the branch's up.
    if "description" in prop:
        return
    for branch in prop.get("anyOf", []):
        if "description" in branch:
            prop["description"] = branch["description"]
            return


def json_schema_text() -> str:
    """The schema exactly as `manifest.schema.json` holds it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# --- value rules -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one value, and how to fix it."""

    message: str
    hint: str = ""


def check_project_id(project_id: str, *, create: bool) -> Problem | None:
    """Strict rule for projects the tool may create; gcloud's permissive rule for existing ones."""
    if not create:
        if EXISTING_PROJECT_ID_RE.match(project_id):
            return None
        return Problem(
            f"project_id {project_id!r} is not a valid project id",
            "use the id shown by `gcloud projects list` (lower-case letters, digits, hyphens)",
        )
    reasons = []
    if not 6 <= len(project_id) <= 30:
        reasons.append(f"it has {len(project_id)} characters, not 6-30")
    if not project_id[:1].isascii() or not project_id[:1].islower():
        reasons.append("it must start with a lower-case letter")
    if re.search(r"[^a-z0-9-]", project_id):
        reasons.append("only lower-case letters, digits and hyphens are allowed")
    if project_id.endswith("-"):
        reasons.append("it must not end with a hyphen")
    restricted = [word for word in RESTRICTED_PROJECT_WORDS if word in project_id]
    if restricted:
        reasons.append(f"it contains the restricted word {restricted[0]!r}")
    if not reasons and NEW_PROJECT_ID_RE.match(project_id):
        return None
    return Problem(
        f"project_id {project_id!r} cannot be created: " + "; ".join(reasons or ["invalid form"]),
        "pick an id matching ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ without google, null, undefined or ssl",
    )


def normalize_billing_account(value: str) -> tuple[str, Problem | None]:
    """The account id without the `billingAccounts/` prefix, and what is wrong with it if anything."""
    account = value.removeprefix(BILLING_PREFIX)
    if BILLING_ACCOUNT_RE.match(account):
        return account, None
    if BILLING_ACCOUNT_RE.match(account.upper()):
        return account, Problem(
            f"billing account {value!r} must be upper case",
            f"write {account.upper()}",
        )
    return account, Problem(
        f"billing account {value!r} is not of the form 012345-6789AB-CDEF01",
        "copy the id from `gcloud billing accounts list` (three groups of 6 upper-case hex digits)",
    )


def check_parent(parent: str) -> Problem | None:
    if PARENT_RE.match(parent):
        return None
    return Problem(
        f"parent {parent!r} must be folders/NUMBER or organizations/NUMBER",
        "find the number with `gcloud resource-manager folders list` or `gcloud organizations list`",
    )


def _label_char_ok(char: str, *, first: bool) -> bool:
    category = unicodedata.category(char)
    if category in ("Ll", "Lo"):
        return True
    return not first and (category.startswith("N") or char in "_-")


def check_label(key: str, value: str) -> Problem | None:
    """Google's label rules (keys 1-63 starting with a lower-case letter, values 0-63, < 128 bytes)."""
    allowed = "lower-case letters, digits, _ and - (international letters are allowed)"
    if not 1 <= len(key) <= 63:
        return Problem(f"label key {key!r} has {len(key)} characters; keys have 1-63", "shorten it")
    if not _label_char_ok(key[0], first=True):
        return Problem(
            f"label key {key!r} must start with a lower-case letter",
            f"e.g. {key.lower()!r}" if key[0].isupper() else "start it with a letter",
        )
    bad = [c for c in key if not _label_char_ok(c, first=False)]
    if bad:
        return Problem(f"label key {key!r} contains {bad[0]!r}", f"use only {allowed}")
    if len(value) > 63:
        return Problem(f"label {key!r} value has {len(value)} characters; at most 63", "shorten it")
    bad = [c for c in value if not _label_char_ok(c, first=False)]
    if bad:
        return Problem(f"label {key!r} value {value!r} contains {bad[0]!r}", f"use only {allowed}")
    for what, text in (("key", key), ("value", value)):
        if len(text.encode()) >= 128:
            return Problem(
                f"label {what} {text!r} takes {len(text.encode())} bytes", "keep it < 128"
            )
    return None


def check_service(service: str) -> Problem | None:
    if SERVICE_RE.match(service):
        return None
    return Problem(
        f"service {service!r} is not an API name like storage.googleapis.com",
        "list API names as shown by `gcloud services list --available`",
    )


def check_principal(member: str) -> Problem | None:
    if PRINCIPAL_RE.match(member):
        return None
    kind = member.partition(":")[0]
    hint = (
        "write serviceAccount:EMAIL, user:EMAIL, group:EMAIL, principal://... or principalSet://..."
    )
    if kind in ("serviceAccount", "user", "group"):
        hint = f"{kind}: must be followed by an email address, e.g. {kind}:name@example.com"
    elif kind.lower() in ("serviceaccount", "user", "group"):
        hint = "member types are case sensitive: serviceAccount, user, group"
    elif kind in ("principal", "principalSet"):
        hint = f"{kind} members start with {kind}://iam.googleapis.com/"
    return Problem(f"principal {member!r} is not an IAM member", hint)


def check_smoke_as(member: str, principals: tuple[str, ...]) -> Problem | None:
    """`smoke_as` names a service account that is one of the project's principals."""
    if not member.startswith("serviceAccount:") or check_principal(member):
        return Problem(
            f"smoke_as {member!r} is not a service account member",
            "write serviceAccount:NAME@PROJECT.iam.gserviceaccount.com",
        )
    if member.lower() not in {p.lower() for p in principals}:
        return Problem(
            f"smoke_as {member!r} is not one of the project's principals",
            f"add {member} to principals (on the project or in defaults), so its access is "
            "checked and granted too",
        )
    return None


def check_principal_role(role: str) -> Problem | None:
    if ROLE_RE.match(role):
        return None
    return Problem(
        f"principal_role {role!r} is not a role name",
        "use roles/NAME, projects/P/roles/NAME or organizations/O/roles/NAME",
    )


def check_display_name(name: str) -> Problem | None:
    if DISPLAY_NAME_RE.match(name):
        return None
    return Problem(
        f"display_name {name!r} cannot be used to create a project",
        "use 4-30 letters, digits, spaces, hyphens, quotes or !",
    )

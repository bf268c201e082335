"""What plan, apply and smoke verify, as values every report reads: `Check`, `CheckStatus`, names.

A check is one verified fact about one project. Its name says what it is about: `project`,
`billing`, `policy`, `services`, `permissions`, `access:<member>`, `model:<alias>@<location>`,
`quota:<alias>@<location>`, `smoke:<alias>@<location>` (and `smoke-tools:` / `smoke-json:` for the optional smoke checks).
The builders below are the one place those names are spelled, so a "see check X" always names
a check that can exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.errors import Cause


class CheckStatus(StrEnum):
    """What one check found. Only the three PASSED statuses count as ok; `exitcodes` maps each
    status to each command's exit code, and `junit_element` to a JUnit element."""

    OK = "ok"
    CHANGED = "changed"  # apply fixed it in this run
    WARNING = "warning"  # informational difference, never changed (e.g. labels on a project)
    PENDING = "pending"  # a planned change will fix it
    PROPAGATING = "propagating"  # a change landed but the data plane does not see it yet
    NOT_RUN = "not_run"  # depends on a check that is not ok; the detail names it
    UNKNOWN = "unknown"  # its input could not be read or verified
    ACTION_REQUIRED = "action_required"  # a person must act
    FAILED = "failed"
    SKIPPED = "skipped"  # turned off by the user (--no-smoke, a --check not given)


# A wanted check passed: the only statuses a project may be "ok" with.
PASSED = frozenset({CheckStatus.OK, CheckStatus.CHANGED, CheckStatus.WARNING})
# Not ok, and waiting on something else: pending changes or a dependency.
WAITING = frozenset({CheckStatus.PENDING, CheckStatus.PROPAGATING, CheckStatus.NOT_RUN})


def junit_element(status: CheckStatus, *, planning: bool) -> str:
    """`pass`, `failure` or `skipped`: every not-ok wanted check is a failure, except that a
    plan's pending work (and what waits on it) stays skipped; turned-off checks are skipped."""
    if status in PASSED:
        return "pass"
    if status is CheckStatus.SKIPPED or (planning and status in WAITING):
        return "skipped"
    return "failure"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One verified fact about a project, named by one of the builders below."""

    name: str
    status: CheckStatus
    cause: Cause | None = None
    remedy: str = ""
    detail: str = ""
    duration_ms: float = 0.0
    metrics: dict[str, float | int | str] = field(default_factory=dict)


# The per-project checks, one each.
PROJECT = "project"
BILLING = "billing"
SERVICES = "services"
PERMISSIONS = "permissions"
POLICY = "policy"  # the effective org policies the manifest can hit

ACCESS_PREFIX = "access:"
MODEL_PREFIX = "model:"
QUOTA_PREFIX = "quota:"
SMOKE_PREFIX = "smoke:"


def target_key(alias: str, location: str) -> str:
    """`gpt-oss-120b@global`: one model in one location, the part after a check's prefix."""
    return f"{alias}@{location}"


def access_check(member: str) -> str:
    """`access:serviceAccount:app@p.iam.gserviceaccount.com`: can this member call the models?"""
    return ACCESS_PREFIX + member


def model_check(alias: str, location: str) -> str:
    return MODEL_PREFIX + target_key(alias, location)


def quota_check(alias: str, location: str) -> str:
    """`quota:gpt-oss-120b@global`: the project's per-base-model limits for the model there."""
    return QUOTA_PREFIX + target_key(alias, location)


def smoke_check(key: str, kind: str = "smoke") -> str:
    """`smoke:<key>` for the stream itself, `smoke-<kind>:<key>` for an optional check."""
    prefix = SMOKE_PREFIX if kind == "smoke" else f"smoke-{kind}:"
    return prefix + key


def is_model_check(name: str) -> bool:
    return name.startswith(MODEL_PREFIX)


def depends_on(name: str, status: CheckStatus | None) -> str:
    """The detail of a check not run because check `name` is not ok (`status`, when known)."""
    why = f" ({status.value.replace('_', ' ')})" if status is not None else ""
    return f"not run: depends on {name}{why}"


def is_smoke(name: str) -> bool:
    """The stream itself (`smoke:`), not an optional smoke check."""
    return name.startswith(SMOKE_PREFIX)


def check_kind(name: str) -> str:
    """`model:gpt-oss-120b@global` -> `model`; `billing` -> `billing`."""
    return name.split(":", 1)[0]


def check_target(name: str) -> str:
    """`smoke:gpt-oss-120b@global` -> `gpt-oss-120b@global`; a name without a target is kept."""
    return name.split(":", 1)[1] if ":" in name else name

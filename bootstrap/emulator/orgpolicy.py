"""Org Policy v2 `projects.policies.getEffectivePolicy`, and the one effective-policy resolution
the chat route enforces too (world `org_policies`).

Resolution walks the hierarchy from the organization down to the project (folders in between).
At each resource that has a policy for the constraint:
- `reset: true` restores the constraint's default (for list constraints here: allow all);
- `allow_all` / `deny_all` replace whatever was above (inheritance is ignored for them);
- `inherit_from_parent: true` merges its values into the parent's (allowed and denied values are
  unions; a parent's `deny_all` stays, a parent's `allow_all` keeps allowing all but the denied);
- otherwise its values replace the parent's.
A denied value (or `deny_all`) wins over any allowed one, as Google evaluates them (the "control
model access" page: "any explicit deny value takes precedence over any explicit allow value").

The answer carries the merged rules in `spec.rules` (no etag, no condition, as Google documents
for effective policies); a constraint set nowhere answers an empty spec (inferred).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, Reply, Route
from bootstrap.emulator.state import Store
from bootstrap.emulator.world import OrgPolicy, ProjectState

DOMAIN = "orgpolicy.googleapis.com"
API = "orgpolicy"
GET = "orgpolicy.policy.get"  # the permission Org Policy Viewer grants (no "policies.get")


@dataclass(slots=True)
class Effective:
    """A list constraint's effective rule on one resource. Nothing set: the default (allow)."""

    allow_all: bool = False
    deny_all: bool = False
    allowed: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)


def _policy_at(store: Store, keys: list[str], constraint: str) -> OrgPolicy | None:
    return next(
        (p for p in store.world.org_policies if p.resource in keys and p.constraint == constraint),
        None,
    )


def _merge(above: Effective, policy: OrgPolicy) -> Effective:
    if policy.reset:
        return Effective()
    if policy.allow_all or policy.deny_all:
        return Effective(allow_all=policy.allow_all, deny_all=policy.deny_all)
    if not policy.inherit_from_parent:
        return Effective(allowed=list(policy.allowed_values), denied=list(policy.denied_values))
    denied = above.denied + [v for v in policy.denied_values if v not in above.denied]
    if above.deny_all or above.allow_all:
        return Effective(allow_all=above.allow_all, deny_all=above.deny_all, denied=denied)
    allowed = above.allowed + [v for v in policy.allowed_values if v not in above.allowed]
    return Effective(allowed=allowed, denied=denied)


def effective(store: Store, resource: str, constraint: str) -> Effective:
    """The effective policy of `constraint` on `resource` (`projects/ID or NUMBER`, `folders/N`,
    `organizations/N`), resolved from the organization down."""
    chain = [r for r in store.ancestors(resource) if r != "*"]
    project_keys = [r for r in chain if r.startswith("projects/")]  # by id and by number
    levels = [[r] for r in reversed(chain) if not r.startswith("projects/")]
    if project_keys:
        levels.append(project_keys)
    result = Effective()
    for keys in levels:
        policy = _policy_at(store, keys, constraint)
        if policy is not None:
            result = _merge(result, policy)
    return result


def _matches(entry: str, value: str) -> bool:
    if entry.startswith("under:"):
        root = entry.removeprefix("under:").rstrip("/")
        return value == root or value.startswith((root + "/", root + ":"))
    return entry.removeprefix("is:") == value


def allows(rule: Effective, values: tuple[str, ...]) -> bool:
    """Is any of `values` (equivalent spellings of one thing) allowed? Denials win."""
    if rule.deny_all or any(_matches(e, v) for e in rule.denied for v in values):
        return False
    if rule.allow_all or not rule.allowed:
        return True
    return any(_matches(e, v) for e in rule.allowed for v in values)


def rules_json(rule: Effective) -> list[dict[str, Any]]:
    if rule.allow_all:
        return [{"allowAll": True}]
    if rule.deny_all:
        return [{"denyAll": True}]
    values: dict[str, Any] = {}
    if rule.allowed:
        values["allowedValues"] = list(rule.allowed)
    if rule.denied:
        values["deniedValues"] = list(rule.denied)
    return [{"values": values}] if values else []


def get_effective_policy(store: Store, call: Call) -> Reply:
    key, short = call.params["p"], call.params["c"]
    resource = f"projects/{key}"
    project = store.project(key)
    # A missing project answers like a forbidden one (inferred, as Resource Manager does).
    if (
        project is None
        or project.state != ProjectState.ACTIVE
        or not store.allowed(call.principal, GET, f"projects/{project.project_id}")
    ):
        raise google_errors.permission_denied(GET, resource, domain=DOMAIN)
    rule = effective(store, resource, f"constraints/{short}")
    rules = rules_json(rule)
    body: dict[str, Any] = {"name": f"{resource}/policies/{short}", "spec": {}}
    if rules:
        body["spec"]["rules"] = rules
    return Reply(body=body)


ROUTES = [
    Route(
        "GET",
        r"/v2/projects/(?P<p>[^/]+)/policies/(?P<c>[A-Za-z0-9_.-]+):getEffectivePolicy",
        get_effective_policy,
        API,
    )
]

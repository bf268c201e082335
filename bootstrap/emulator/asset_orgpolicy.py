"""Cloud Asset Inventory v1 `analyzeOrgPolicyGovernedContainers`: one constraint's consolidated
(effective) org policy on every container an organization's policies govern, in pages.

`GET /v1/organizations/N:analyzeOrgPolicyGovernedContainers?constraint=constraints/C` lists the
organization, its folders (nested ones included) and its projects, in that order and by full
resource name within each kind, keeping only the containers that the constraint's policies govern:
those with a policy for it set on themselves or on an ancestor inside the organization (none set
anywhere: an empty answer). Each `GovernedContainer` carries:
- `consolidatedPolicy`: the rules Org Policy's getEffectivePolicy answers for the container (the
  one resolution in emulator/orgpolicy.py, not a second merge), `attachedResource` the nearest
  resource with a policy set, `appliedResource` the container;
- `policyBundle`: the policies set on the container and its ancestors, nearest first, each as set
  (`inheritFromParent`, `reset`, its one rule), applied where attached;
- `folders` (nearest first, a folder container itself included, as `project` names a project
  container itself), `organization`, `project` (projects only), `parent`.

Scope: `organizations/N` only (a folder or project scope is 400 INVALID_ARGUMENT, as the
reference documents no other form); `constraint` is required; `filter` supports
`parent="//cloudresourcemanager.googleapis.com/folders/N"` (the containers whose direct parent
that is) and `consolidated_policy.rules.enforce=true|false` (boolean constraints; the emulator's
are list constraints, so no rule enforces), operator `=` only; anything else is 400.
`pageSize` defaults to 100 and is capped at 200; the list of containers is made at the first
page and its page tokens name it (as search's results), each page reading the policies anew.
The caller needs one or more of `cloudasset.assets.searchAllResources` and
`cloudasset.assets.analyzeOrgPolicy` on the scope.

Inventory lag: the emulator keeps the history of project views (emulator/history.py), not of
org policies, so this answers from the current policies and the current hierarchy whatever
`timing.inventory_lag_s` says (inferred; docs/emulator.md). Quotas: it is a Cloud Asset call
(route api `cloudasset`), so emulator/app.py charges it to the same per-caller and per-
organization buckets as searchAllResources.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.asset import API, CRM, DOMAIN, SEARCH
from bootstrap.emulator.calls import Call, Reply, Route, page, page_size
from bootstrap.emulator.kept_results import KeptResults
from bootstrap.emulator.orgpolicy import Effective, effective, rules_json
from bootstrap.emulator.state import Store
from bootstrap.emulator.world import OrgPolicy

ANALYZE = "cloudasset.assets.analyzeOrgPolicy"
PERMISSIONS = (SEARCH, ANALYZE)  # "one or more of" (the method's reference)
MAX_PAGE = 200
DEFAULT_PAGE = 100
FILTER_FIELDS = "parent, consolidated_policy.rules.enforce"
_FILTER = re.compile(
    r'\s*(parent|consolidated_?[pP]olicy\.rules\.enforce)\s*=\s*("?)([^"]*)\2\s*', re.ASCII
)

Keep = Callable[[str], bool]


def _validated(call: Call) -> tuple[str, str]:
    """The scope (an organization) and the constraint, or the 400 Google answers."""
    scope = call.params["scope"]
    if not re.fullmatch(r"organizations/[0-9]+", scope):
        raise google_errors.invalid_argument(
            f"Invalid scope {scope!r}: analyzeOrgPolicyGovernedContainers accepts only "
            "organizations/{ORGANIZATION_NUMBER}."
        )
    constraint = call.arg("constraint")
    if not constraint:
        raise google_errors.invalid_argument(
            "Missing required field constraint (for example constraints/vertexai.allowedModels)."
        )
    if not constraint.startswith("constraints/"):
        raise google_errors.invalid_argument(
            f"Invalid constraint {constraint!r}: expected constraints/{{CONSTRAINT_NAME}}."
        )
    return scope, constraint


def analyze_governed_containers(store: Store, call: Call) -> Reply:
    scope, constraint = _validated(call)
    known = any(f"organizations/{o.id}" == scope for o in store.world.organizations)
    if not known or not any(store.allowed(call.principal, p, scope) for p in PERMISSIONS):
        # Google names one permission; the method-specific one is the narrower grant to ask for.
        raise google_errors.permission_denied(ANALYZE, scope, domain=DOMAIN)
    keep = _filter(call.arg("filter"), store, constraint)
    set_at = {p.resource: p for p in store.world.org_policies if p.constraint == constraint}
    key, found, offset = _KEPT.find(store, call.arg("pageToken"))
    if found is None:
        found = [c for c in _containers(store, scope) if _governed(store, c, set_at)]
        found = [c for c in found if keep(c)] if keep is not None else found
        key = _KEPT.keep(store, found)
    size = page_size(call.arg("pageSize"), default=DEFAULT_PAGE, maximum=MAX_PAGE)
    items, token = page(found, size=size, token=offset)
    token = f"{key}-{token}" if token else ""
    # A container removed, moved out or no longer governed since the first page is left out.
    items = [c for c in items if scope in store.ancestors(c) and _governed(store, c, set_at)]
    body: dict[str, Any] = {}
    if items:
        body["governedContainers"] = [_container(store, c, constraint, set_at) for c in items]
    body["constraint"] = {
        "googleDefinedConstraint": {
            "name": constraint,
            "constraintDefault": "ALLOW",  # reset restores allow-all (emulator/orgpolicy.py)
            "listConstraint": {"supportsIn": True, "supportsUnder": True},
        }
    }
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


# One call's container list, kept for its next pages; the containers' policies are still read
# at each page (current policies, see the docstring).
_KEPT: KeptResults[str] = KeptResults("g", kept=8)


# -- which containers ----------------------------------------------------------------------


def _containers(store: Store, organization: str) -> list[str]:
    """The organization, then its folders, then its projects (`projects/NUMBER`), each kind by
    full resource name, so that offsets name the same container on every page."""
    folders = sorted(
        f"folders/{f.id}"
        for f in store.world.folders
        if organization in store.ancestors(f"folders/{f.id}")
    )
    projects = sorted(
        f"projects/{p.number}"
        for p in store.world.projects
        if organization in store.ancestors(f"projects/{p.project_id}")
    )
    return [organization, *folders, *projects]


def _levels(store: Store, container: str) -> list[list[str]]:
    """The container's chain, nearest first, one entry per resource (a project under its id and
    its number: a world may set its policy under either)."""
    chain = [r for r in store.ancestors(container) if r != "*"]
    if not container.startswith("projects/"):
        return [[r] for r in chain]
    project = [r for r in chain if r.startswith("projects/")]
    return [project, *([r] for r in chain if not r.startswith("projects/"))]


def _bundle(store: Store, container: str, set_at: dict[str, OrgPolicy]) -> list[OrgPolicy]:
    """The constraint's policies set on the container and its ancestors, nearest first."""
    found = []
    for keys in _levels(store, container):
        policy = next((set_at[k] for k in keys if k in set_at), None)
        if policy is not None:
            found.append(policy)
    return found


def _governed(store: Store, container: str, set_at: dict[str, OrgPolicy]) -> bool:
    return bool(set_at) and bool(_bundle(store, container, set_at))


# -- the answer ----------------------------------------------------------------------------


def _full(store: Store, resource: str) -> str:
    """A resource's full name; projects by number, however the world names them."""
    kind, _, key = resource.partition("/")
    project = store.project(key) if kind == "projects" else None
    return f"{CRM}projects/{project.number}" if project else f"{CRM}{resource}"


def _container(
    store: Store, container: str, constraint: str, set_at: dict[str, OrgPolicy]
) -> dict[str, Any]:
    full = _full(store, container)
    bundle = _bundle(store, container, set_at)
    consolidated: dict[str, Any] = {
        "attachedResource": _full(store, bundle[0].resource),
        "appliedResource": full,
    }
    rules = rules_json(effective(store, container, constraint))
    if rules:
        consolidated["rules"] = rules
    chain = [r for r in store.ancestors(container) if r != "*"]
    parent = next((r for r in chain[1:] if not r.startswith("projects/")), "")
    body: dict[str, Any] = {"fullResourceName": full}
    if parent:
        body["parent"] = f"{CRM}{parent}"
    body["consolidatedPolicy"] = consolidated
    body["policyBundle"] = [_policy_json(store, p) for p in bundle]
    folders = [r for r in chain if r.startswith("folders/")]
    if folders:
        body["folders"] = folders
    body["organization"] = next(r for r in chain if r.startswith("organizations/"))
    if container.startswith("projects/"):
        body["project"] = container
    return body


def _policy_json(store: Store, policy: OrgPolicy) -> dict[str, Any]:
    """One policy as set (its own rule, unmerged), applied where it is attached."""
    where = _full(store, policy.resource)
    body: dict[str, Any] = {"attachedResource": where, "appliedResource": where}
    if not policy.reset:
        rule = Effective(
            allow_all=policy.allow_all,
            deny_all=policy.deny_all,
            allowed=list(policy.allowed_values),
            denied=list(policy.denied_values),
        )
        rules = rules_json(rule)
        if rules:
            body["rules"] = rules
    if policy.inherit_from_parent:
        body["inheritFromParent"] = True
    if policy.reset:
        body["reset"] = True
    return body


# -- filter --------------------------------------------------------------------------------


def _filter(raw: str, store: Store, constraint: str) -> Keep | None:
    """The filter as a predicate on a container (None: keep all); unsupported is 400."""
    if not raw.strip():
        return None
    match = _FILTER.fullmatch(raw)
    if match is None:
        raise google_errors.invalid_argument(
            f"Invalid filter {raw!r}: the supported fields are {FILTER_FIELDS}, with the "
            'operator = only (for example parent="//cloudresourcemanager.googleapis.com/'
            'folders/001").'
        )
    field, value = match.group(1), match.group(3).strip()
    if field == "parent":
        return lambda container: _parent_full(store, container) == value
    if value.lower() not in ("true", "false"):
        raise google_errors.invalid_argument(
            f"Invalid filter {raw!r}: consolidated_policy.rules.enforce takes true or false."
        )
    wanted = value.lower() == "true"

    def enforced(container: str) -> bool:
        rules = rules_json(effective(store, container, constraint))
        return any(bool(r.get("enforce")) for r in rules) == wanted

    return enforced


def _parent_full(store: Store, container: str) -> str:
    chain = [r for r in store.ancestors(container) if r != "*"]
    parent = next((r for r in chain[1:] if not r.startswith("projects/")), "")
    return f"{CRM}{parent}" if parent else ""


ROUTES = [
    Route(
        "GET",
        r"/v1/(?P<scope>[^/:]+/[^/:]+):analyzeOrgPolicyGovernedContainers",
        analyze_governed_containers,
        API,
    ),
]

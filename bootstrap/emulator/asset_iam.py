"""Cloud Asset Inventory v1 `searchAllIamPolicies` for projects, folders and organizations.

`GET /v1/{scope}:searchAllIamPolicies` with scope `organizations/N`, `folders/N` or
`projects/ID|NUMBER` answers, as `IamPolicySearchResult`s, the allow policies set on the
projects, folders (nested ones included) and organization under the scope: the same stored
policies Resource Manager's getIamPolicy answers (the store's `policies`, world key
`iam_policies`), each with the bindings the `query` keeps. A resource whose policy was never set,
or has no binding left, is not listed; neither are service accounts' policies (the emulator does
not serve their asset type). Results come in the order the policies were stored (the world's,
then later writes) unless `orderBy` names `resource`, `assetType` or `project` (` DESC` allowed).

`assetTypes`: exact names or RE2-style regular expressions over the three supported types (one
matching none is 400, as for search). `query`: empty (every binding), or `policy:VALUE` terms
(AND-ed by space or `AND`), each keeping the bindings whose role or a member contains VALUE's
words in order (a trailing `*` a prefix; asset.py's matching); any other form is 400 naming
what is supported. `pageSize` defaults to 100 and is capped at 500; a search's results are made
at its first page and its page tokens name them, as search's are. The caller needs
`cloudasset.assets.searchAllIamPolicies` on the scope (an ancestor's grant counts).

Inventory lag: the emulator keeps the history of project views (emulator/history.py), not of
IAM policies, so this answers from the current policies whatever `timing.inventory_lag_s` says
(inferred; docs/emulator.md). Quotas: a Cloud Asset call (route api `cloudasset`, scope param
`scope`), so emulator/app.py charges the per-caller and per-organization buckets search uses.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.asset import (
    API,
    CRM,
    DOMAIN,
    FOLDER_TYPE,
    ORGANIZATION_TYPE,
    PROJECT_TYPE,
    asset_types,
    parse_query,
)
from bootstrap.emulator.calls import Call, Reply, Route, page, page_size
from bootstrap.emulator.kept_results import KeptResults
from bootstrap.emulator.state import Store
from bootstrap.emulator.world import IamPolicy

SEARCH_IAM = "cloudasset.assets.searchAllIamPolicies"
SUPPORTED = (PROJECT_TYPE, FOLDER_TYPE, ORGANIZATION_TYPE)
MAX_PAGE = 500
DEFAULT_PAGE = 100
SORTABLE = ("resource", "assetType", "project")  # the reference's singular primitive fields
_TERM = r'policy:(?:"[^"]*"|[^\s"()]+)'
_QUERY = re.compile(rf"\s*{_TERM}(?:\s+(?:AND\s+)?{_TERM})*\s*")

Keep = Callable[[dict[str, Any]], bool]


def search_iam_policies(store: Store, call: Call) -> Reply:
    scope = call.params["scope"]
    store.require(call.principal, SEARCH_IAM, scope, domain=DOMAIN)
    types = asset_types(
        call.query.get("assetTypes", []), method="searchAllIamPolicies", supported=SUPPORTED
    )
    keep = _binding_filter(call.arg("query"))
    key, found, offset = _KEPT.find(store, call.arg("pageToken"))
    if found is None:
        found = list(_results(store, scope, types, keep))
        _order(found, call.arg("orderBy"))
        key = _KEPT.keep(store, found)
    size = page_size(call.arg("pageSize"), default=DEFAULT_PAGE, maximum=MAX_PAGE)
    items, token = page(found, size=size, token=offset)
    body: dict[str, Any] = {}
    if items:
        body["results"] = items
    if token:
        body["nextPageToken"] = f"{key}-{token}"
    return Reply(body=body)


# Every page of one search shows the same policies.
_KEPT: KeptResults[dict[str, Any]] = KeptResults("i", kept=4)


# -- the policies ------------------------------------------------------------------------------


def _located(store: Store, resource: str) -> tuple[str, str, list[str]] | None:
    """A policy's asset type, full resource name and ancestor chain (the resource first, a
    project under its id and its number); None for what the search does not list."""
    kind, _, ident = resource.partition("/")
    chain = [r for r in store.ancestors(resource) if r != "*"]
    if kind == "projects" and "/" not in ident:
        project = store.project(ident)
        if project is None:
            return None  # a policy the world keeps for a project it does not have
        return PROJECT_TYPE, f"{CRM}projects/{project.number}", chain
    if kind == "folders" and resource in store.folder_parent:
        return FOLDER_TYPE, f"{CRM}{resource}", chain
    organizations = {f"organizations/{o.id}" for o in store.world.organizations}
    if kind == "organizations" and resource in organizations:
        return ORGANIZATION_TYPE, f"{CRM}{resource}", chain
    return None  # service accounts, and folders or organizations the world does not have


def _results(
    store: Store, scope: str, types: tuple[str, ...], keep: Keep
) -> Iterator[dict[str, Any]]:
    for policy in list(store.policies.values()):
        located = _located(store, policy.resource)
        if located is None or located[0] not in types or scope not in located[2]:
            continue
        bindings = [copy.deepcopy(b) for b in policy.bindings if keep(b)]
        if bindings:
            yield _result(located, policy, bindings)


def _result(
    located: tuple[str, str, list[str]], policy: IamPolicy, bindings: list[dict[str, Any]]
) -> dict[str, Any]:
    kind, full, chain = located
    result: dict[str, Any] = {"resource": full, "assetType": kind}
    if kind == PROJECT_TYPE:
        result["project"] = chain[1]  # projects/NUMBER (the chain names the id, then the number)
    folders = [r for r in chain if r.startswith("folders/")]  # nearest first, a folder itself too
    if folders:
        result["folders"] = folders
    organization = next((r for r in chain if r.startswith("organizations/")), "")
    if organization:
        result["organization"] = organization
    # No etag: the policy may hold only the query's bindings, so no setIamPolicy could use it
    # (Google's examples show none either).
    shown: dict[str, Any] = {"version": policy.version} if policy.version else {}
    shown["bindings"] = bindings
    result["policy"] = shown
    return result


# -- request parameters ------------------------------------------------------------------------


def _binding_filter(query: str) -> Keep:
    """Which bindings a query keeps: all for an empty one; `policy:VALUE` terms match a binding
    whose role or a member contains VALUE (search's word matching, through its parser)."""
    if not query.strip():
        return lambda _binding: True
    if _QUERY.fullmatch(query) is None:
        raise google_errors.invalid_argument(
            f"Invalid query {query!r}: the emulator's searchAllIamPolicies supports an empty "
            "query or policy:VALUE terms joined by spaces or AND (for example "
            "policy:user:amy@example.com or policy:roles/owner)."
        )
    matcher = parse_query(query)

    def keep(binding: dict[str, Any]) -> bool:
        words = [str(binding.get("role", "")), *(str(m) for m in binding.get("members") or [])]
        return matcher({"policy": words})

    return keep


def _order(results: list[dict[str, Any]], order_by: str) -> None:
    keys = [part.split() for part in order_by.split(",") if part.strip()]
    for words in reversed(keys):  # stable sorts, last key first
        if words[0] not in SORTABLE or words[1:] not in ([], ["DESC"], ["desc"]):
            raise google_errors.invalid_argument(
                f"Invalid order_by field: {' '.join(words)} (sortable: {', '.join(SORTABLE)}, "
                "each optionally followed by DESC)."
            )
        results.sort(key=_sort_key(words[0]), reverse=len(words) == 2)


def _sort_key(field: str) -> Callable[[dict[str, Any]], str]:
    return lambda result: str(result.get(field, ""))


ROUTES = [
    Route(
        "GET",
        r"/v1/(?P<scope>(?:organizations|folders|projects)/[^/:]+):searchAllIamPolicies",
        search_iam_policies,
        API,
    ),
]

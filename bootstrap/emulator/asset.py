"""Cloud Asset Inventory v1 `searchAllResources` for projects and their enabled services.

`GET /v1/{scope}:searchAllResources` with scope `organizations/N`, `folders/N` or
`projects/ID|NUMBER` answers the `cloudresourcemanager.googleapis.com/Project` and
`serviceusage.googleapis.com/Service` resources under the scope (nested folders included), as
`ResourceSearchResult`s, filtered by `assetTypes` (exact names or RE2-style regular expressions),
`query` (field terms `field:value` / `field=value`, `AND`, `OR`, `NOT`, parentheses), sorted by
`orderBy`, trimmed by `readMask`, paged (`pageSize` capped at 500). The caller needs
`cloudasset.assets.searchAllResources` on the scope.

The inventory lags: it shows each project as it was `timing.inventory_lag_s` seconds ago
(emulator/history.py keeps the views before each change), as Google's inventory trails the
resources it indexes. Services are listed while ENABLED only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, Reply, Route, page, page_size
from bootstrap.emulator.clock import format_rfc3339, parse_rfc3339
from bootstrap.emulator.history import ProjectView
from bootstrap.emulator.kept_results import KeptResults
from bootstrap.emulator.state import Store
from bootstrap.emulator.world import Project

API = "cloudasset"
DOMAIN = "cloudasset.googleapis.com"
SEARCH = "cloudasset.assets.searchAllResources"
PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
SERVICE_TYPE = "serviceusage.googleapis.com/Service"
FOLDER_TYPE = "cloudresourcemanager.googleapis.com/Folder"
ORGANIZATION_TYPE = "cloudresourcemanager.googleapis.com/Organization"
SUPPORTED = (PROJECT_TYPE, SERVICE_TYPE)
CRM = "//cloudresourcemanager.googleapis.com/"
MAX_PAGE = 500
DEFAULT_PAGE = 100
SORTABLE = {
    "name", "assetType", "project", "displayName", "description", "location", "createTime",
    "updateTime", "state", "parentFullResourceName", "parentAssetType",
}  # fmt: skip


def organization_of(store: Store, scope: str) -> str:
    """The `organizations/N` at the top of a scope's hierarchy ('' when there is none)."""
    if not scope:
        return ""
    for ancestor in store.ancestors(scope):
        if ancestor.startswith("organizations/"):
            return ancestor
    return ""


def search(store: Store, call: Call) -> Reply:
    scope = call.params["scope"]
    store.require(call.principal, SEARCH, scope, domain=DOMAIN)
    types = asset_types(call.query.get("assetTypes", []), method="search")
    key, found, offset = _KEPT.find(store, call.arg("pageToken"))
    if found is None:
        moment = store.clock.elapsed() - float(store.world.timing.inventory_lag_s)
        matcher = parse_query(call.arg("query"))
        found = [r for r in _results(store, scope, types, moment) if matcher(r)]
        order(found, call.arg("orderBy"))
        key = _KEPT.keep(store, found)
    size = page_size(call.arg("pageSize"), default=DEFAULT_PAGE, maximum=MAX_PAGE)
    items, token = page(found, size=size, token=offset)
    token = f"{key}-{token}" if token else ""
    mask = _mask(call.arg("readMask"))
    body: dict[str, Any] = {}
    if items:
        body["results"] = [_masked(r, mask) for r in items]
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


# Every page of one search shows the same moment of the inventory.
_KEPT: KeptResults[dict[str, Any]] = KeptResults("s", kept=4)


# -- the resources ------------------------------------------------------------------------------


def _in_scope(store: Store, project: Project, scope: str) -> bool:
    if scope.startswith("projects/"):
        return store.project(scope.removeprefix("projects/")) is project
    return scope in store.ancestors(f"projects/{project.project_id}")


def _results(
    store: Store, scope: str, types: tuple[str, ...], moment: float
) -> Iterator[dict[str, Any]]:
    loaded = store.clock.start
    for project in store.world.projects:
        if not _in_scope(store, project, scope):
            continue
        if project.create_time != store.world.clock_start:
            created = parse_rfc3339(project.create_time)
            if created > loaded and (created - loaded).total_seconds() > moment:
                continue  # created after the moment the inventory shows
        view, began = store.history.as_of(project, moment)
        updated = (
            format_rfc3339(loaded + timedelta(seconds=began))
            if began is not None
            else project.create_time
        )
        common = _common(store, project, updated)
        if PROJECT_TYPE in types:
            yield _project_result(project, view, common)
        if SERVICE_TYPE in types and view.state == "ACTIVE":
            for service in view.services:
                yield _service_result(project, service, common)


def _common(store: Store, project: Project, updated: str) -> dict[str, Any]:
    chain = store.ancestors(f"projects/{project.project_id}")[2:-1]
    folders = [c for c in chain if c.startswith("folders/")]
    organization = next((c for c in chain if c.startswith("organizations/")), "")
    common: dict[str, Any] = {"project": f"projects/{project.number}", "location": "global"}
    if folders:
        common["folders"] = folders
    if organization:
        common["organization"] = organization
    common["createTime"] = _seconds(project.create_time)
    common["updateTime"] = _seconds(updated)
    return common


def _seconds(stamp: str) -> str:
    """Asset timestamps have whole seconds (the API says nanos are always 0)."""
    return format_rfc3339(parse_rfc3339(stamp)).split(".")[0] + "Z"


def _project_result(project: Project, view: ProjectView, common: dict[str, Any]) -> dict[str, Any]:
    parent = project.parent
    result: dict[str, Any] = {
        "name": f"{CRM}projects/{project.number}",
        "assetType": PROJECT_TYPE,
        **common,
        "displayName": project.display_name,
        "state": view.state,
        "additionalAttributes": {"projectId": project.project_id},
    }
    if project.labels:
        result["labels"] = dict(project.labels)
    if parent:
        result["parentFullResourceName"] = f"{CRM}{parent}"
        kind = parent.partition("/")[0]
        result["parentAssetType"] = FOLDER_TYPE if kind == "folders" else ORGANIZATION_TYPE
    return result


def _service_result(project: Project, service: str, common: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"//serviceusage.googleapis.com/projects/{project.number}/services/{service}",
        "assetType": SERVICE_TYPE,
        **common,
        "displayName": service,
        "state": "ENABLED",
        "parentFullResourceName": f"{CRM}projects/{project.number}",
        "parentAssetType": PROJECT_TYPE,
    }


# -- request parameters ---------------------------------------------------------------------


def asset_types(
    raw: list[str], *, method: str, supported: tuple[str, ...] = SUPPORTED
) -> tuple[str, ...]:
    """The `supported` types the request names (exactly or by regular expression); none named:
    all. A name or expression matching none is INVALID_ARGUMENT, as Google says."""
    wanted = [t for value in raw for t in value.split(",") if t]
    if not wanted:
        return supported
    chosen: list[str] = []
    for item in wanted:
        try:
            pattern = re.compile(item)
        except re.error:
            raise google_errors.invalid_argument(
                f"Invalid asset type regular expression: {item}"
            ) from None
        hits = [t for t in supported if t == item or pattern.fullmatch(t)]
        if not hits:
            raise google_errors.invalid_argument(
                f"Asset type {item} is not supported by the emulator's {method} "
                f"(supported: {', '.join(supported)})."
            )
        chosen += [t for t in hits if t not in chosen]
    return tuple(chosen)


def order(results: list[dict[str, Any]], order_by: str) -> None:
    keys = [part.split() for part in order_by.split(",") if part.strip()]
    for words in reversed(keys):  # stable sorts, last key first
        field = words[0]
        if field not in SORTABLE or len(words) > 2 or words[1:] not in ([], ["DESC"], ["desc"]):
            raise google_errors.invalid_argument(f"Invalid order_by field: {' '.join(words)}")
        results.sort(key=_sort_key(field), reverse=len(words) == 2)


def _sort_key(field: str) -> Callable[[dict[str, Any]], str]:
    return lambda result: str(result.get(field, ""))


def _camel(name: str) -> str:
    head, *rest = name.strip().split("_")
    return head + "".join(word.title() for word in rest)


def _mask(raw: str) -> frozenset[str] | None:
    fields = frozenset(_camel(f) for f in raw.split(",") if f.strip())
    return None if not fields or "*" in fields else fields


def _masked(result: dict[str, Any], mask: frozenset[str] | None) -> dict[str, Any]:
    return result if mask is None else {k: v for k, v in result.items() if k in mask}


# -- the query language (the subset bootstrap and the docs' examples use) ----------------------

Matcher = Callable[[dict[str, Any]], bool]
_TOKEN = re.compile(r'\s*(\(|\)|"[^"]*"|[^\s()"]+(?:"[^"]*")?)')
_WORD = re.compile(r"[a-z0-9]+")


def parse_query(query: str) -> Matcher:
    """`a:b c=d` (AND), `OR`, `NOT`/`-`, parentheses. `field:value` matches the value's words in
    order within the field's words (a trailing `*` is a prefix); `field=value` the whole value;
    a bare word any field. Matching ignores case."""
    tokens = [t for t in _TOKEN.findall(query) if t]
    if not tokens:
        return lambda _result: True
    matcher, rest = _or(tokens)
    if rest:
        raise google_errors.invalid_argument(f"Invalid query: unexpected {rest[0]!r} in {query!r}")
    return matcher


def _or(tokens: list[str]) -> tuple[Matcher, list[str]]:
    left, tokens = _and(tokens)
    parts = [left]
    while tokens and tokens[0] == "OR":
        right, tokens = _and(tokens[1:])
        parts.append(right)
    return (parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)), tokens


def _and(tokens: list[str]) -> tuple[Matcher, list[str]]:
    parts: list[Matcher] = []
    while tokens and tokens[0] not in (")", "OR"):
        if tokens[0] == "AND":
            tokens = tokens[1:]
            continue
        part, tokens = _atom(tokens)
        parts.append(part)
    if not parts:
        raise google_errors.invalid_argument("Invalid query: an operator has no operand.")
    return (parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)), tokens


def _atom(tokens: list[str]) -> tuple[Matcher, list[str]]:
    head = tokens[0]
    if head == "NOT" or (head.startswith("-") and len(head) > 1):
        inner, rest = _atom(tokens[1:] if head == "NOT" else [head[1:], *tokens[1:]])
        return (lambda r: not inner(r)), rest
    if head == "(":
        inner, rest = _or(tokens[1:])
        if not rest or rest[0] != ")":
            raise google_errors.invalid_argument("Invalid query: unbalanced parentheses.")
        return inner, rest[1:]
    return _term(head), tokens[1:]


def _term(text: str) -> Matcher:
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_.]*)\s*(:|=)(.*)", text)
    if match is None:
        value = text.strip('"').lower()
        return lambda r: any(_contains(str(v), value) for v in r.values() if isinstance(v, str))
    field, op, value = match.group(1), match.group(2), match.group(3).strip('"').lower()
    if op == "=":
        return lambda r: any(v.lower() == value for v in _values(r, field))
    return lambda r: any(_contains(v, value) for v in _values(r, field))


def _values(result: dict[str, Any], field: str) -> list[str]:
    """The strings a query field names in a result (`labels.env`, `additionalAttributes.x`)."""
    head, _, key = field.partition(".")
    raw = result.get(_camel(head))
    if key and isinstance(raw, dict):
        raw = raw.get(key)
    elif isinstance(raw, dict):
        return [str(k) for k in raw] + [str(v) for v in raw.values()]
    if raw is None:
        return []
    return [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]


def _contains(text: str, value: str) -> bool:
    """The value's words appear in order among the text's words (last one a prefix with `*`)."""
    prefix = value.endswith("*")
    wanted = _WORD.findall(value.rstrip("*"))
    words = _WORD.findall(text.lower())
    if not wanted:
        return value in ("", "*")
    for start in range(len(words) - len(wanted) + 1):
        window = words[start : start + len(wanted)]
        if window[:-1] == wanted[:-1] and (
            window[-1] == wanted[-1] or (prefix and window[-1].startswith(wanted[-1]))
        ):
            return True
    return False


ROUTES = [
    Route(
        "GET",
        r"/v1/(?P<scope>(?:organizations|folders|projects)/[^/:]+):searchAllResources",
        search,
        API,
    ),
]

"""Cloud Resource Manager v3 (GAPIC) and v1 (gcloud): projects get/create/search/list,
testIamPermissions, v3 getIamPolicy and setIamPolicy (etag-checked), and the rendering of its own (project create) operations.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, QuotaKind, Reply, Route, page, page_size
from bootstrap.emulator.clock import format_rfc3339
from bootstrap.emulator.longrunning import operation_body
from bootstrap.emulator.state import CRM_DOMAIN, Store
from bootstrap.emulator.world import IamPolicy, Project, ProjectState

PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
GET = "resourcemanager.projects.get"
API = "cloudresourcemanager"
T_V3 = "type.googleapis.com/google.cloud.resourcemanager.v3."
T_V1 = "type.googleapis.com/google.cloudresourcemanager.v1."


def v3_json(project: Project) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"projects/{project.number}",
        "projectId": project.project_id,
        "state": str(project.state),
        "displayName": project.display_name,
        "createTime": project.create_time,
        "updateTime": project.create_time,
        "etag": f'W/"{project.number}"',
    }
    if project.parent:
        body["parent"] = project.parent
    if project.labels:
        body["labels"] = dict(project.labels)
    if project.state == ProjectState.DELETE_REQUESTED:
        body["deleteTime"] = project.create_time
    return body


def v1_json(project: Project) -> dict[str, Any]:
    body: dict[str, Any] = {
        "projectNumber": project.number,
        "projectId": project.project_id,
        "lifecycleState": str(project.state),
        "name": project.display_name,
        "createTime": project.create_time,
    }
    if project.labels:
        body["labels"] = dict(project.labels)
    if project.parent:
        kind, _, ident = project.parent.partition("/")
        body["parent"] = {"type": kind.removesuffix("s"), "id": ident}
    return body


def readable_project(store: Store, call: Call, key: str) -> Project:
    """CRM answers 403, never 404, for a project that is missing or not readable."""
    project = store.project(key)
    resource = f"projects/{key}"
    if project is None or not store.allowed(call.principal, GET, resource):
        raise google_errors.permission_denied(GET, f"//{CRM_DOMAIN}/{resource}", domain=CRM_DOMAIN)
    return project


def get_v3(store: Store, call: Call) -> Reply:
    return Reply(body=v3_json(readable_project(store, call, call.params["p"])))


def get_v1(store: Store, call: Call) -> Reply:
    try:
        return Reply(body=v1_json(readable_project(store, call, call.params["p"])))
    except google_errors.ApiError as exc:
        # The recorded v1 answer is the bare message: no ErrorInfo (k8s-config-connector logs).
        exc.message = "The caller does not have permission"
        exc.details = []
        raise


def _create(
    store: Store, call: Call, *, parent: str, project_id: str, display: str, kind: str
) -> Reply:
    if not PROJECT_ID.match(project_id or "") or project_id.endswith("-"):
        raise google_errors.invalid_argument(
            f"field [project_id] has issue [invalid format: {project_id!r}]"
        )
    store.require(
        call.principal, "resourcemanager.projects.create", parent or "*", domain=CRM_DOMAIN
    )
    if store.project(project_id) is not None:
        raise google_errors.ApiError(409, "ALREADY_EXISTS", "Requested entity already exists")
    labels = call.field("labels") or {}
    project = Project(
        project_id=project_id,
        number=store.new_project_number(),
        parent=parent,
        display_name=display or project_id,
        labels={str(k): str(v) for k, v in labels.items()},
        create_time=format_rfc3339(store.clock.now()),
    )
    store.world.projects.append(project)
    store.reindex()
    op = store.new_operation(kind=kind, project=project, payload={"services": []})
    return Reply(body=operation_json(store, op))


def create_v3(store: Store, call: Call) -> Reply:
    return _create(
        store, call, parent=call.field("parent") or "", project_id=call.field("projectId", "project_id"),
        display=call.field("displayName", "display_name") or "", kind="crm_create_v3",
    )  # fmt: skip


def create_v1(store: Store, call: Call) -> Reply:
    raw_parent = call.field("parent") or {}
    parent = f"{raw_parent.get('type', '')}s/{raw_parent.get('id', '')}" if raw_parent else ""
    return _create(
        store, call, parent=parent, project_id=call.field("projectId", "project_id"),
        display=call.field("name") or "", kind="crm_create_v1",
    )  # fmt: skip


def _term_matches(project: Project, term: str) -> bool:
    field, _, value = term.partition(":")
    if not value:
        field, _, value = term.partition("=")
    field, value = field.strip().lower(), value.strip().strip('"').lower()
    candidates: list[str]
    if field in ("id", "projectid"):
        candidates = [project.project_id]
    elif field in ("name", "displayname"):
        candidates = [project.display_name]
    elif field in ("state", "lifecyclestate"):
        candidates = [str(project.state)]
    elif field == "parent":
        candidates = [project.parent]
    elif field == "parent.type":
        candidates = [project.parent.partition("/")[0].removesuffix("s")]
    elif field == "parent.id":
        candidates = [project.parent.partition("/")[2]]
    elif field == "labels":
        candidates = list(project.labels)
    elif field.startswith("labels."):
        key = field.removeprefix("labels.")
        if key not in project.labels:
            return False
        candidates = [project.labels[key]]
    elif field in ("projectnumber", "number"):
        candidates = [project.number]
    else:
        return False
    for candidate in candidates:
        text = candidate.lower()
        if value == "*" or text == value:
            return True
        if value.endswith("*") and text.startswith(value[:-1]):
            return True
        if field == "parent" and value.endswith("/*") and text.startswith(value[:-1]):
            return True
    return False


def matches(project: Project, query: str) -> bool:
    """Space-separated terms match if ANY matches (the documented search semantics)."""
    terms = [t for t in re.split(r"\s+(?:OR\s+)?", query.strip()) if t and t.upper() != "AND"]
    return not terms or any(_term_matches(project, t) for t in terms)


def _visible(store: Store, call: Call, query: str) -> list[Project]:
    return [
        p
        for p in store.world.projects
        if store.allowed(call.principal, GET, f"projects/{p.project_id}") and matches(p, query)
    ]


def search_v3(store: Store, call: Call) -> Reply:
    found = _visible(store, call, call.arg("query"))
    size = page_size(call.arg("pageSize"), default=500, maximum=500)
    items, token = page(found, size=size, token=call.arg("pageToken"))
    body: dict[str, Any] = {}
    if items:
        body["projects"] = [v3_json(p) for p in items]
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


def list_v3(store: Store, call: Call) -> Reply:
    parent = call.arg("parent")
    query = f"parent:{parent}" if parent else ""
    found = [
        p
        for p in _visible(store, call, query)
        if call.arg("showDeleted") == "true" or p.state == ProjectState.ACTIVE
    ]
    items, token = page(
        found,
        size=page_size(call.arg("pageSize"), default=500, maximum=500),
        token=call.arg("pageToken"),
    )
    body: dict[str, Any] = {"projects": [v3_json(p) for p in items]} if items else {}
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


def list_v1(store: Store, call: Call) -> Reply:
    found = _visible(store, call, call.arg("filter"))
    items, token = page(
        found,
        size=page_size(call.arg("pageSize"), default=500, maximum=500),
        token=call.arg("pageToken"),
    )
    body: dict[str, Any] = {"projects": [v1_json(p) for p in items]} if items else {}
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


def test_permissions(store: Store, call: Call) -> Reply:
    resource = call.params["resource"]
    if resource.startswith("projects/"):
        readable_project(store, call, resource.removeprefix("projects/"))
    wanted = call.field("permissions") or []
    held = [p for p in wanted if store.allowed(call.principal, p, resource)]
    return Reply(body={"permissions": held} if held else {})


GET_IAM_POLICY = "resourcemanager.projects.getIamPolicy"
SET_IAM_POLICY = "resourcemanager.projects.setIamPolicy"


def get_iam_policy(store: Store, call: Call) -> Reply:
    """The project's allow policy (v3 and v1 alike); 403 when the project is missing or the
    permission is not held. As recorded (k8s-config-connector iampartialpolicy): a policy never
    set answers only its etag. As documented: a requested version below 3 gets each conditional
    binding as its role plus `_withcond_<hash>`, without the condition, at version 1."""
    policy = _project_policy(store, call, GET_IAM_POLICY)
    options = call.field("options") or {}
    requested = int(
        options.get("requestedPolicyVersion", options.get("requested_policy_version", 0)) or 0
    )
    bindings = [dict(b) for b in policy.bindings]
    version = policy.version
    if requested < 3 and any("condition" in b for b in bindings):
        bindings = [_without_condition(b) for b in bindings]
        version = 1
    return Reply(body=_policy_json(bindings, policy.etag or _etag(policy), version, policy))


def _project_policy(store: Store, call: Call, permission: str) -> IamPolicy:
    """The project's stored policy; 403 when it is missing or `permission` is not held
    (Resource Manager answers both alike)."""
    resource = f"projects/{call.params['p']}"
    if store.project(call.params["p"]) is None or not store.allowed(
        call.principal, permission, resource
    ):
        full = f"//{CRM_DOMAIN}/{resource}"
        raise google_errors.permission_denied(permission, full, domain=CRM_DOMAIN)
    return store.policy(resource)


def set_iam_policy(store: Store, call: Call) -> Reply:
    """Replace the fields the update mask names (default `bindings,etag`, as documented) with the
    policy sent. A stale etag answers 409 ABORTED, as Google does; every write gets a new etag.
    As recorded, the version stored is 3 only when a binding has a condition, else 1."""
    stored = _project_policy(store, call, SET_IAM_POLICY)
    sent = call.field("policy") or {}
    mask = str(call.field("updateMask") or call.field("update_mask") or "bindings,etag")
    current = stored.etag or _etag(stored)
    if sent.get("etag") and sent["etag"] != current:
        raise google_errors.ApiError(
            409, "ABORTED", "There were concurrent policy changes. Please retry the whole "
            "read-modify-write with exponential backoff.",
        )  # fmt: skip
    paths = set(mask.replace(" ", "").split(","))
    kept = (sent.get("bindings") or []) if "bindings" in paths else stored.bindings
    bindings = [dict(b) for b in kept]
    conditional = any("condition" in b for b in bindings)
    if conditional and int(sent.get("version") or 1) < 3:
        raise google_errors.ApiError(
            400, "INVALID_ARGUMENT", "Conditions are only supported in policy version 3; set "
            "the policy's version to 3.",
        )  # fmt: skip
    audit = sent.get("auditConfigs") if "auditConfigs" in paths else stored.audit_configs
    written = IamPolicy(
        resource=stored.resource,
        bindings=bindings,
        version=3 if conditional else 1,
        audit_configs=[dict(a) for a in audit or []],
    )
    written.etag = _etag(written, previous=current)
    store.write_policy(written)
    return Reply(body=_policy_json(bindings, written.etag, written.version, written))


def _policy_json(
    bindings: list[dict[str, Any]], etag: str, version: int, policy: IamPolicy
) -> dict[str, Any]:
    body: dict[str, Any] = {"bindings": bindings} if bindings else {}
    body["etag"] = etag
    if version:
        body["version"] = version
    if policy.audit_configs:
        body["auditConfigs"] = policy.audit_configs
    return body


def _without_condition(binding: dict[str, Any]) -> dict[str, Any]:
    condition = binding.pop("condition", None)
    if condition is None:
        return binding
    digest = hashlib.sha256(json.dumps(condition, sort_keys=True).encode()).hexdigest()[:16]
    return {**binding, "role": f"{binding['role']}_withcond_{digest}"}


def _etag(policy: IamPolicy, *, previous: str = "") -> str:
    """A stable etag for a policy: base64 of 8 bytes, like Google's."""
    content = [policy.resource, policy.bindings, policy.version, policy.audit_configs, previous]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).digest()
    return base64.b64encode(b"\x07" + digest[:7]).decode("ascii")


# Per create kind: the metadata @type, the response @type and the project rendering.
_CREATE_OPERATIONS: dict[str, tuple[str, str, Callable[[Project], dict[str, Any]]]] = {
    "crm_create_v3": (T_V3 + "CreateProjectMetadata", T_V3 + "Project", v3_json),
    "crm_create_v1": (T_V1 + "ProjectCreationStatus", T_V1 + "Project", v1_json),
}
OPERATION_KINDS = tuple(_CREATE_OPERATIONS)


def operation_json(store: Store, op: dict[str, Any]) -> dict[str, Any]:
    """A create operation in the shape and with the @type values its API version's clients need."""
    metadata_type, response_type, render = _CREATE_OPERATIONS[op["kind"]]
    project = store.project(op["project"])
    metadata = {
        "@type": metadata_type,
        "createTime": project.create_time if project else "",
        "gettable": True,
        "ready": bool(op["done"]),
    }
    return operation_body(
        op, project, metadata, lambda created: {"@type": response_type, **render(created)}
    )


W = QuotaKind.WRITE
ROUTES = [
    Route("GET", r"/v3/projects:search", search_v3, API),
    Route("GET", r"/v3/projects", list_v3, API),
    Route("POST", r"/v3/projects", create_v3, API, W, mutating=True, cost=10),
    Route("GET", r"/v3/projects/(?P<p>[^/:]+)", get_v3, API),
    Route("POST", r"/v(?:1|3)/projects/(?P<p>[^/:]+):getIamPolicy", get_iam_policy, API),
    Route(
        "POST",
        r"/v(?:1|3)/projects/(?P<p>[^/:]+):setIamPolicy",
        set_iam_policy,
        API,
        W,
        mutating=True,
    ),
    Route(
        "POST",
        r"/v3/(?P<resource>(?:projects|folders|organizations)/[^/:]+):testIamPermissions",
        test_permissions,
        API,
    ),
    Route("GET", r"/v1/projects", list_v1, API),
    Route("POST", r"/v1/projects", create_v1, API, W, mutating=True, cost=10),
    Route("GET", r"/v1/projects/(?P<p>[^/:]+)", get_v1, API),
    Route("POST", r"/v1/(?P<resource>projects/[^/:]+):testIamPermissions", test_permissions, API),
]

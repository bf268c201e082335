"""Service Usage v1: services get/list/batchGet/enable/batchEnable/disable, with the real
preconditions (billing for paid services, one activation at a time, batch limits), and the
rendering of its operations (which complete after N polls or T virtual seconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.calls import Call, QuotaKind, Reply, Route, page, page_size
from bootstrap.emulator.longrunning import operation_body

if TYPE_CHECKING:
    from bootstrap.emulator.state import Store
    from bootstrap.emulator.world import Project

DOMAIN = "serviceusage.googleapis.com"
API = "serviceusage"
T_SU = "type.googleapis.com/google.api.serviceusage.v1."
NOOP = "operations/noop.DONE_OPERATION"


def service_json(store: Store, project: Project, name: str) -> dict[str, Any]:
    info = store.service_info(name)
    return {
        "name": f"projects/{project.number}/services/{name}",
        "parent": f"projects/{project.number}",
        "config": {
            "name": name,
            "title": info.title,
            "documentation": {"summary": f"{info.title} (emulated)."},
            "usage": {"requirements": ["serviceusage.googleapis.com/tos/cloud"]},
        },
        "state": "ENABLED" if name in project.services else "DISABLED",
    }


def _project(store: Store, call: Call, permission: str) -> Project:
    project = store.active_project(call.params["p"], service=DOMAIN)
    store.require(call.principal, permission, f"projects/{project.project_id}", domain=DOMAIN)
    store.settle(project)
    return project


def _known(store: Store, names: list[str]) -> None:
    unknown = [n for n in names if n not in store.services]
    if unknown:
        raise google_errors.ApiError(
            403,
            "PERMISSION_DENIED",
            f"Not found or permission denied for service(s): {', '.join(unknown)}.",
            [
                google_errors.error_info(
                    "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED",
                    DOMAIN,
                    services=",".join(unknown),
                )
            ],
        )


def get_service(store: Store, call: Call) -> Reply:
    project = _project(store, call, "serviceusage.services.get")
    return Reply(body=service_json(store, project, call.params["s"]))


def list_services(store: Store, call: Call) -> Reply:
    project = _project(store, call, "serviceusage.services.list")
    wanted = call.arg("filter").replace(" ", "")
    if wanted not in ("", "state:ENABLED", "state:DISABLED"):
        raise google_errors.invalid_argument(
            f"Invalid filter: {wanted}. Only state:ENABLED or state:DISABLED."
        )
    names = list(dict.fromkeys([s.name for s in store.world.services] + project.services))
    if wanted == "state:ENABLED":
        names = [n for n in names if n in project.services]
    elif wanted == "state:DISABLED":
        names = [n for n in names if n not in project.services]
    size = page_size(call.arg("pageSize"), default=50, maximum=200)
    items, token = page(names, size=size, token=call.arg("pageToken"))
    body: dict[str, Any] = {}
    if items:
        body["services"] = [service_json(store, project, n) for n in items]
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


def batch_get(store: Store, call: Call) -> Reply:
    project = _project(store, call, "serviceusage.services.get")
    names = call.query.get("names", [])
    if len(names) > 30:
        raise google_errors.invalid_argument(
            "At most 30 services can be requested in one batchGet."
        )
    services = []
    for full in names:
        parent, _, service = full.partition("/services/")
        if store.project(parent.removeprefix("projects/")) is not project:
            raise google_errors.invalid_argument(
                f"Service name {full} does not match parent projects/{call.params['p']}."
            )
        services.append(service_json(store, project, service))
    return Reply(body={"services": services} if services else {})


EMPTY_METADATA = {"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}}


def _metadata(kind: str) -> dict[str, Any]:
    """Row 10 (recorded against real GCP): `:enable` and `:disable` type their metadata as
    protobuf.Empty; batchEnable's OperationMetadata carries no `resourceNames`."""
    if kind == "su_batch":
        return {"@type": T_SU + "OperationMetadata"}
    return dict(EMPTY_METADATA)


def _service_state(project: Project, name: str) -> dict[str, Any]:
    """A service inside a done operation's response: name, parent and state only (row 10)."""
    return {
        "name": f"projects/{project.number}/services/{name}",
        "parent": f"projects/{project.number}",
        "state": "ENABLED" if name in project.services else "DISABLED",
    }


# Per operation kind: the response @type and whether it carries one service or a list.
_RESPONSES: dict[str, tuple[str, bool]] = {
    "su_enable": ("EnableServiceResponse", True),
    "su_disable": ("DisableServiceResponse", True),
}
_BATCH_RESPONSE = ("BatchEnableServicesResponse", False)


def _response(project: Project, kind: str, services: list[str]) -> dict[str, Any]:
    response_type, single = _RESPONSES.get(kind, _BATCH_RESPONSE)
    response: dict[str, Any] = {"@type": T_SU + response_type}
    if single:
        response["service"] = _service_state(project, services[0])
    else:
        response["services"] = [_service_state(project, s) for s in services]
    return response


def operation_json(store: Store, op: dict[str, Any]) -> dict[str, Any]:
    """An enable, disable or batch-enable operation as the Service Usage clients expect it."""
    services: list[str] = op["payload"]["services"]
    project = store.project(op["project"])
    return operation_body(
        op, project, _metadata(op["kind"]), lambda found: _response(found, op["kind"], services)
    )


def _noop(project: Project, services: list[str], kind: str) -> dict[str, Any]:
    """What enabling enabled services (or disabling a disabled one, row 1) answers: an
    operation born done, never stored."""
    return {
        "name": NOOP,
        "metadata": _metadata(kind),
        "done": True,
        "response": _response(project, kind, services),
    }


def _check_enable(store: Store, project: Project, services: list[str]) -> None:
    _known(store, services)
    for service in services:
        if store.activating(project, service):
            raise google_errors.failed_precondition(
                "Another activation or deactivation is in progress for the following "
                f"service(s): {service} and project {project.number}."
            )
    paid = [s for s in services if store.services[s].requires_billing and s not in project.services]
    if paid and not store.billing_enabled(project):
        raise google_errors.billing_required_for_enable(project.number, paid)


def enable(store: Store, call: Call) -> Reply:
    project = _project(store, call, "serviceusage.services.enable")
    service = call.params["s"]
    _check_enable(store, project, [service])
    if service in project.services:
        return Reply(body=_noop(project, [service], "su_enable"))
    op = store.new_operation(kind="su_enable", project=project, payload={"services": [service]})
    return Reply(body=operation_json(store, op))


def batch_enable(store: Store, call: Call) -> Reply:
    project = _project(store, call, "serviceusage.services.enable")
    ids = list(call.field("serviceIds", "service_ids") or [])
    if len(ids) < 2 and store.world.behaviour.batch_enable_single_refused:  # row 9: UNKNOWN
        raise google_errors.invalid_argument(
            "Request contains an invalid argument: batchEnable needs at least two service ids; "
            "enable a single service with services.enable."
        )
    if len(ids) > 20:  # row 8: confirmed message and reason
        raise google_errors.ApiError(
            400,
            "INVALID_ARGUMENT",
            "Number of services must not exceed the maximum batch size (20).",
            [google_errors.error_info("SU_MAX_BATCH_SIZE_EXCEEDED", DOMAIN)],
        )
    _check_enable(store, project, ids)
    if all(s in project.services for s in ids):
        return Reply(body=_noop(project, ids, "su_batch"))
    op = store.new_operation(kind="su_batch", project=project, payload={"services": ids})
    return Reply(body=operation_json(store, op))


def disable(store: Store, call: Call) -> Reply:
    project = _project(store, call, "serviceusage.services.disable")
    service = call.params["s"]
    _known(store, [service])
    if store.activating(project, service):
        raise google_errors.failed_precondition(
            "Another activation or deactivation is in progress for the following "
            f"service(s): {service} and project {project.number}."
        )
    if service not in project.services:
        return Reply(body=_noop(project, [service], "su_disable"))
    op = store.new_operation(kind="su_disable", project=project, payload={"services": [service]})
    return Reply(body=operation_json(store, op))


P = r"/v1/projects/(?P<p>[^/:]+)"
W = QuotaKind.WRITE
ROUTES = [
    Route("GET", P + r"/services", list_services, API),
    Route("GET", P + r"/services:batchGet", batch_get, API),
    Route("POST", P + r"/services:batchEnable", batch_enable, API, W, mutating=True, cost=5),
    Route("GET", P + r"/services/(?P<s>[^/:]+)", get_service, API),
    Route("POST", P + r"/services/(?P<s>[^/:]+):enable", enable, API, W, mutating=True),
    Route("POST", P + r"/services/(?P<s>[^/:]+):disable", disable, API, W, mutating=True),
]

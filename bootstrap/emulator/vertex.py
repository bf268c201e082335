"""Vertex AI: publisher models (get), enableModel, Model Garden EULA check/accept, and the
OpenAI-compatible chat completions route with its precondition chain and paced SSE streaming.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from bootstrap.emulator import cloudquotas, google_errors, orgpolicy
from bootstrap.emulator.calls import Call, QuotaKind, Reply, Route
from bootstrap.emulator.chat import Answer, answer
from bootstrap.emulator.state import Store
from bootstrap.emulator.world import ModelOffer, Project

DOMAIN = "aiplatform.googleapis.com"
PROCUREMENT = "cloudcommerceconsumerprocurement.googleapis.com"
API = "aiplatform"
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9-]*/[A-Za-z0-9][\w.@-]*$")


def publisher_model_json(offer: ModelOffer) -> dict[str, Any]:
    publisher, model = offer.name.split("/")[1], offer.name.split("/")[3]
    return {
        "name": offer.name,
        "versionId": offer.version_id,
        "openSourceCategory": "THIRD_PARTY_OWNED_OSS",
        "launchStage": offer.launch_stage,
        "versionState": "VERSION_STATE_STABLE",
        "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/publishers/"
        f"{publisher}/models/{model}@{offer.version_id}",
        "supportedActions": {
            "viewRestApi": {
                "documentations": [
                    {"title": "OpenAI-compatible chat", "content": "endpoints/openapi"}
                ],
                "title": "View REST API",
            }
        },
    }


def retired(store: Store, offer: ModelOffer) -> bool:
    return bool(offer.retired_on) and store.clock.now().date() >= date.fromisoformat(
        str(offer.retired_on)
    )


def get_publisher_model(store: Store, call: Call) -> Reply:
    name = f"publishers/{call.params['pub']}/models/{call.params['m']}"
    offer = store.models.get(name)
    if offer is None:
        raise google_errors.model_not_found(name)
    return Reply(body=publisher_model_json(offer))


def _project(store: Store, call: Call, permission: str, resource_suffix: str = "") -> Project:
    project = store.active_project(call.params["p"], service=DOMAIN)
    resource = f"projects/{call.params['p']}{resource_suffix}"
    # Chat and probe calls are the data plane: they see an IAM change only after it propagates.
    data_plane = permission == "aiplatform.endpoints.predict"
    scope = f"projects/{project.project_id}"
    if not store.allowed(call.principal, permission, scope, data_plane=data_plane):
        raise google_errors.permission_denied(permission, resource, domain=DOMAIN)
    return project


def _require_service(store: Store, project: Project, service: str, *, with_lag: bool) -> None:
    usable = store.service_usable(project, service) if with_lag else service in project.services
    if not usable:
        raise google_errors.service_disabled(
            service, store.service_info(service).title, project.number
        )


def _require_billing(store: Store, project: Project, *, with_lag: bool = False) -> None:
    """`with_lag` (row 4, world `chat.billing_lag`): the data plane sees a new link late."""
    enabled = store.billing_usable(project) if with_lag else store.billing_enabled(project)
    if not enabled:
        raise google_errors.billing_disabled(project.number, DOMAIN)


def enable_model(store: Store, call: Call) -> Reply:
    """Row 18: the permission is a world setting (Google's is unconfirmed), and a world may make
    a project's enableModel answer 200 with ENABLEMENT_STATE_FAILED (prerequisites unmet)."""
    project = _project(store, call, store.world.behaviour.enable_model_permission)
    store.settle(project)
    _require_service(store, project, DOMAIN, with_lag=False)
    _require_service(store, project, PROCUREMENT, with_lag=False)
    _require_billing(store, project)
    name = f"publishers/{call.params['pub']}/models/{call.params['m']}"
    offer = store.models.get(name)
    if offer is None or retired(store, offer):
        raise google_errors.model_not_found(name)
    failed = project.project_id in store.world.behaviour.enable_model_fails
    if not failed and name not in project.models:
        project.models.append(name)
    location = offer.locations[0] if offer.locations else "global"
    state = "ENABLEMENT_STATE_FAILED" if failed else "ENABLEMENT_STATE_SUCCEEDED"
    return Reply(
        body={
            "enablementState": state,
            "publisherEndpoint": f"projects/{call.params['p']}/locations/{location}/{name}",
        }
    )


def eula(store: Store, call: Call) -> Reply:
    project = _project(store, call, "aiplatform.endpoints.predict")
    _require_service(store, project, DOMAIN, with_lag=False)
    model = str(call.field("publisherModel", "publisher_model") or "")
    if not model.startswith("publishers/"):
        raise google_errors.invalid_argument(
            "publisher_model must look like publishers/{publisher}/models/{model}."
        )
    if call.params["verb"] == "accept" and model not in project.eula_accepted:
        project.eula_accepted.append(model)
    return Reply(
        body={
            "projectNumber": project.number,
            "publisherModel": model,
            "publisherModelEulaAcked": model in project.eula_accepted,
        }
    )


def chat_completions(store: Store, call: Call) -> Reply:
    location = call.params["l"]
    suffix = f"/locations/{location}/endpoints/openapi"
    _require_perimeter(store, call)
    project = _project(store, call, "aiplatform.endpoints.predict", suffix)
    _require_service(store, project, DOMAIN, with_lag=True)
    if store.world.chat.require_procurement:  # row 26: UNKNOWN, off by default
        _require_service(store, project, PROCUREMENT, with_lag=True)
    _require_billing(store, project, with_lag=store.world.chat.billing_lag)
    request = call.body
    if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
        raise google_errors.invalid_argument("Request contains an invalid argument.")
    model_id = _chat_model(store, call, project, request)
    result = answer(request)
    created = int(store.clock.now().timestamp())
    ident = f"chatcmpl-{abs(hash((model_id, created, time.monotonic_ns()))):x}"[:30]
    if request.get("stream"):
        options = request.get("stream_options") or {}
        usage = bool(options.get("include_usage")) if isinstance(options, dict) else False
        return Reply(
            events=_stream(store, result, ident=ident, created=created, model=model_id, usage=usage)
        )
    body = _completion(result, ident=ident, created=created, model=model_id)
    _rename_reasoning(body["choices"][0]["message"], store.world.chat.reasoning_field)
    return Reply(body=body)


def _chat_model(store: Store, call: Call, project: Project, request: dict[str, Any]) -> str:
    """The request's model, checked in the order Vertex answers: id, offer, region, org policy,
    enablement, then the project's quota for it."""
    location = call.params["l"]
    model_id = str(request.get("model") or "")
    if not MODEL_ID.match(model_id):
        raise google_errors.invalid_argument(
            f"Invalid model {model_id!r}: expected '<publisher>/<model>'."
        )
    publisher, model = model_id.split("/", 1)
    name = f"publishers/{publisher}/models/{model}"
    offer = store.models.get(name)
    full = f"projects/{project.number}/locations/{location}/{name}"
    if offer is None or retired(store, offer):
        raise google_errors.model_not_found(full)
    if location not in offer.locations:
        raise google_errors.not_servable(full, location)
    _require_org_policy(store, project, name)
    if name not in project.models:
        raise google_errors.not_allowed_to_use(project.number, call.params["p"], location, name)
    _require_model_quota(store, project, location, model, request)
    return model_id


ALLOWED_MODELS = "constraints/vertexai.allowedModels"


def _require_perimeter(store: Store, call: Call) -> None:
    """Row 24 (world `vpc_sc`): a project inside the perimeter refuses callers without an
    ingress rule, before IAM, with PreconditionFailure VPC_SERVICE_CONTROLS and ErrorInfo
    SECURITY_POLICY_VIOLATED."""
    perimeter = store.world.vpc_sc
    project = store.project(call.params["p"])
    if project is None or not {project.project_id, project.number} & set(
        perimeter.perimeter_projects
    ):
        return
    if call.principal.email in perimeter.allowed_principals:
        return
    uid = hashlib.sha256(f"{project.number}:{call.principal.email}".encode()).hexdigest()[:24]
    raise google_errors.ApiError(
        403,
        "PERMISSION_DENIED",
        f"Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: {uid}",
        [
            {
                "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
                "violations": [{"type": "VPC_SERVICE_CONTROLS", "description": uid}],
            },
            google_errors.error_info("SECURITY_POLICY_VIOLATED", "googleapis.com", uid=uid),
        ],
    )


def _require_org_policy(store: Store, project: Project, name: str) -> None:
    """Row 23 (world `org_policies`): the effective `vertexai.allowedModels` policy, resolved as
    getEffectivePolicy answers it (`orgpolicy.effective`), decides; a 400 names the value to
    allow."""
    value = f"{name}:predict"
    rule = orgpolicy.effective(store, f"projects/{project.project_id}", ALLOWED_MODELS)
    # The bare model name is accepted too, as worlds written before the `:predict` form use it.
    if not orgpolicy.allows(rule, (value, name)):
        raise google_errors.failed_precondition(
            f"Organization Policy constraint {ALLOWED_MODELS} violated for "
            f"`projects/{project.number}` attempting to use a disallowed Gen AI model "
            f"{name}. Please contact your organization administrator to add {value} to the "
            "allowed values of the constraint."
        )


def _require_model_quota(
    store: Store, project: Project, location: str, model: str, request: dict[str, Any]
) -> None:
    """Row 22 (world `model_quotas`): the project's per-base-model requests and input tokens per
    minute there (`emulator/cloudquotas.py`); a limit of 0 refuses every call with the MaaS 429."""
    cloudquotas.charge_chat(
        store, project, location, model, prompt_tokens=answer(request).prompt_tokens
    )


def _rename_reasoning(message: dict[str, Any], field: str) -> None:
    """Row 19: vLLM renamed `reasoning_content` to `reasoning`; the world picks what is sent."""
    text = message.pop("reasoning_content", None)
    if text is None:
        return
    if field in ("reasoning", "both"):
        message["reasoning"] = text
    if field in ("reasoning_content", "both"):
        message["reasoning_content"] = text


def _usage(result: Answer) -> dict[str, Any]:
    completion = result.completion_tokens
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": result.prompt_tokens + completion,
        "completion_tokens_details": {"reasoning_tokens": len(result.reasoning)},
    }


def _completion(result: Answer, *, ident: str, created: int, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(result.content) if result.tool_call is None else None,
        "reasoning_content": "".join(result.reasoning),
    }
    if result.tool_call:
        call = result.tool_call
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
        ]
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": str(result.finish)}
        ],
        "usage": _usage(result),
    }


def _event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


async def _stream(
    store: Store, result: Answer, *, ident: str, created: int, model: str, usage: bool
) -> AsyncIterator[bytes]:
    """The answer as paced chunks: the role after the time to first token, then one delta per
    token interval, the finish reason, the usage if asked for, and [DONE]."""
    timing = store.world.timing
    head = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
    await store.clock.sleep(timing.ttft_ms / 1000)
    yield _chunk(head, {"role": "assistant", "content": ""})
    for delta in _deltas(result):
        await store.clock.sleep(timing.token_interval_ms / 1000)
        _rename_reasoning(delta, store.world.chat.reasoning_field)
        yield _chunk(head, delta)
    yield _chunk(head, {}, str(result.finish))
    if usage:
        yield _event({**head, "choices": [], "usage": _usage(result)})
    yield b"data: [DONE]\n\n"


def _chunk(head: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _event({**head, "choices": [choice]})


def _deltas(result: Answer) -> list[dict[str, Any]]:
    """Reasoning tokens, then content tokens, then the tool call: its header, then its arguments
    in pieces."""
    deltas: list[dict[str, Any]] = [{"reasoning_content": t} for t in result.reasoning]
    deltas += [{"content": t} for t in result.content]
    call = result.tool_call
    if call:
        header = {"index": 0, "id": call.id, "type": "function"}
        deltas.append(
            {"tool_calls": [{**header, "function": {"name": call.name, "arguments": ""}}]}
        )
        deltas += [
            {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
            for piece in _pieces(call.arguments)
        ]
    return deltas


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


P = r"/v1beta1/projects/(?P<p>[^/:]+)"
CHAT = r"/(?:v1|v1beta1)/projects/(?P<p>[^/:]+)/locations/(?P<l>[^/:]+)/endpoints/openapi/chat/completions"
ROUTES = [
    Route(
        "GET",
        r"/(?:v1|v1beta1)/publishers/(?P<pub>[^/:]+)/models/(?P<m>[^/:]+)",
        get_publisher_model,
        API,
    ),
    Route(
        "POST",
        P + r"/publishers/(?P<pub>[^/:]+)/models/(?P<m>[^/:]+):enableModel",
        enable_model,
        API,
        QuotaKind.WRITE,
        mutating=True,
    ),
    Route("POST", P + r"/modelGardenEula:(?P<verb>check)", eula, API),
    Route(
        "POST", P + r"/modelGardenEula:(?P<verb>accept)", eula, API, QuotaKind.WRITE, mutating=True
    ),
    Route("POST", CHAT, chat_completions, API),
]

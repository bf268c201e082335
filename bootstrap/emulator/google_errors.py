"""Google's JSON error envelope: the one exception the backend raises, and its builders.

Each builder copies a real error shape from the reference (status, `status` name, message,
`details[]` with ErrorInfo / PreconditionFailure / QuotaFailure / RetryInfo), so handlers never
invent error bodies of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_BY_HTTP = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
    503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}  # fmt: skip
RPC_CODE = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12,
    "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}  # fmt: skip
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


@dataclass(slots=True)
class ApiError(Exception):
    """An error answer: HTTP status, google.rpc status name, message and typed details."""

    http: int
    status: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.http, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def rpc_status(self) -> dict[str, Any]:
        """The google.rpc.Status form used inside a failed operation (integer code)."""
        status: dict[str, Any] = {"code": RPC_CODE[self.status], "message": self.message}
        if self.details:
            status["details"] = self.details
        return status


def error_info(reason: str, domain: str, **metadata: str) -> dict[str, Any]:
    info: dict[str, Any] = {"@type": ERROR_INFO, "reason": reason, "domain": domain}
    if metadata:
        info["metadata"] = metadata
    return info


def invalid_argument(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


def failed_precondition(message: str, *details: dict[str, Any]) -> ApiError:
    return ApiError(400, "FAILED_PRECONDITION", message, list(details))


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        [error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", "googleapis.com")],
    )


def access_token_expired(service: str) -> ApiError:
    """A token past its expiry (reported: googleapis/python-api-core#384): the 401 of an unusable
    token, with ErrorInfo ACCESS_TOKEN_EXPIRED naming the service."""
    info = error_info("ACCESS_TOKEN_EXPIRED", "googleapis.com", service=service)
    return ApiError(401, "UNAUTHENTICATED", unauthenticated().message, [info])


def token_creation_denied() -> ApiError:
    """generateAccessToken without iam.serviceAccounts.getAccessToken on the account, or for an
    account that does not exist (reported: google-github-actions/auth#340, DataDog/stratus-red-
    team#299): the message names no resource."""
    permission = "iam.serviceAccounts.getAccessToken"
    return ApiError(
        403,
        "PERMISSION_DENIED",
        f"Permission '{permission}' denied on resource (or it may not exist).",
        [error_info("IAM_PERMISSION_DENIED", "iam.googleapis.com", permission=permission)],
    )


def permission_denied(permission: str, resource: str, *, domain: str) -> ApiError:
    """The message names the resource as given (with any `//host/` prefix); ErrorInfo's
    `resource` never carries that prefix (rows 2 and 17: captured bodies)."""
    bare = resource.split("/", 3)[3] if resource.startswith("//") else resource
    return ApiError(
        403,
        "PERMISSION_DENIED",
        f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).",
        [error_info("IAM_PERMISSION_DENIED", domain, permission=permission, resource=bare)],
    )


def consumer_invalid(project: str, *, service: str) -> ApiError:
    """A missing or deleted project seen from a non-CRM API (inferred shape)."""
    return ApiError(
        403,
        "PERMISSION_DENIED",
        f"Permission denied on resource project {project}.",
        [
            error_info(
                "CONSUMER_INVALID",
                "googleapis.com",
                consumer=f"projects/{project}",
                service=service,
                containerInfo=project,
            )
        ],
    )


def service_disabled(service: str, title: str, number: str) -> ApiError:
    url = f"https://console.developers.google.com/apis/api/{service}/overview?project={number}"
    message = (
        f"{title} has not been used in project {number} before or it is disabled. Enable it by "
        f"visiting {url} then retry. If you enabled this API recently, wait a few minutes for "
        "the action to propagate to our systems and retry."
    )
    return ApiError(
        403,
        "PERMISSION_DENIED",
        message,
        [
            error_info(
                "SERVICE_DISABLED",
                "googleapis.com",
                service=service,
                consumer=f"projects/{number}",
                serviceTitle=title,
                containerInfo=number,
                activationUrl=url,
            ),
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Google developers console API activation", "url": url}],
            },
        ],
    )


def billing_disabled(number: str, service: str) -> ApiError:
    url = f"https://console.developers.google.com/billing/enable?project={number}"
    return ApiError(
        403,
        "PERMISSION_DENIED",
        f"This API method requires billing to be enabled. Please enable billing on project "
        f"#{number} by visiting {url} then retry. If you enabled billing for this project "
        "recently, wait a few minutes for the action to propagate to our systems and retry.",
        [
            error_info(
                "BILLING_DISABLED",
                "googleapis.com",
                consumer=f"projects/{number}",
                service=service,
                containerInfo=number,
            ),
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Google developer console API billing", "url": url}],
            },
        ],
    )


def billing_required_for_enable(number: str, services: list[str]) -> ApiError:
    """Row 5 (captured body): the subject repeats `&services=` once per service."""
    joined = ",".join(services)
    repeated = "".join(f"&services={s}" for s in services)
    return failed_precondition(
        f"Billing account for project '{number}' is not found. Billing must be enabled for "
        f"activation of service(s) '{joined}' to proceed.",
        {
            "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
            "violations": [
                {
                    "type": "googleapis.com/billing-enabled",
                    "subject": f"?error_code=390001&project={number}{repeated}",
                }
            ],
        },
        error_info(
            "UREQ_PROJECT_BILLING_NOT_FOUND",
            "serviceusage.googleapis.com/billing-enabled",
            project=number,
            services=joined,
        ),
    )


_QUOTA_HELP = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [
        {
            "description": "Request a higher quota limit.",
            "url": "https://cloud.google.com/docs/quotas/help/request_increase",
        }
    ],
}


def rate_limited(
    *,
    service: str,
    metric: str,
    limit: str,
    value: int,
    consumer: str,
    retry_s: int | None,
    metric_title: str = "",
    limit_title: str = "",
) -> ApiError:
    """Row 21 (captured bodies): the message names the consumer `project_number:N` and the
    metric and limit by their display names; ErrorInfo says `projects/N`. Google sends no
    RetryInfo; `retry_s` adds one only when the world asks for it."""
    number = consumer.removeprefix("projects/")
    named = f"project_number:{number}" if consumer.startswith("projects/") else consumer
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_s}s"}
    retry = [] if retry_s is None else [retry_info]
    return ApiError(
        429,
        "RESOURCE_EXHAUSTED",
        f"Quota exceeded for quota metric '{metric_title or metric}' and limit "
        f"'{limit_title or limit}' of service '{service}' for consumer '{named}'.",
        [
            error_info(
                "RATE_LIMIT_EXCEEDED",
                "googleapis.com",
                consumer=consumer,
                quota_limit=limit,
                quota_limit_value=str(value),
                quota_location="global",
                quota_metric=f"{service}/{metric}",
                service=service,
            ),
            *retry,
            _QUOTA_HELP,
        ],
    )


def not_servable(publisher_model: str, location: str) -> ApiError:
    """Row 13: a model not offered in the region is a 400, not a 404."""
    return failed_precondition(
        f"Publisher Model `{publisher_model}` is not servable in region {location}."
    )


def model_not_found(publisher_model: str) -> ApiError:
    """Row 14: an unknown (or retired) model id."""
    return not_found(
        f"Publisher Model `{publisher_model}` was not found or your project does not have access "
        "to it. Please ensure you are using a valid model version. For more information, see: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
    )


def not_allowed_to_use(number: str, project_key: str, location: str, model: str) -> ApiError:
    """Row 12: the first identifier is the project NUMBER, the resource echoes the caller's."""
    return failed_precondition(
        f"Project `{number}` is not allowed to use Publisher Model "
        f"`projects/{project_key}/locations/{location}/{model}`"
    )

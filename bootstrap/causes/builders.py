"""One `Failure` builder per cause, with the message and the remedy a person acts on.

`bootstrap.causes.classify` decides which cause an error answer is; this module owns what each cause then
says: the wording, the remedy (gcloud commands, console links, the role that grants a missing
permission, the catalog's view of a missing model) and the disposition, for the call described by
a `bootstrap.causes.context.CallContext`; `make_failure` is the common assembly. Builders read an
`ErrorBody` that was redacted as it was read, so nothing here redacts.
"""

from __future__ import annotations

import re

from bootstrap import catalog, remedies
from bootstrap.causes.bodies import ErrorBody
from bootstrap.causes.context import CallContext
from bootstrap.errors import Cause, Disposition, Failure

CRM_API = "cloudresourcemanager.googleapis.com"
QUOTA_CONSOLE = "https://console.cloud.google.com/iam-admin/quotas"
MAX_SERVER_TEXT = 300
_PERMISSION_IN_TEXT = re.compile(r"[Pp]ermission '?([a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+){2,})'?")
_PUBLISHER_MODEL_IN_TEXT = re.compile(r"publishers/([\w.-]+)/models/([\w.@-]+)")
_REGION_IN_TEXT = re.compile(r"not servable in region ([\w-]+)")
_DAILY = re.compile(r"(?i)per[ _-]?day|perday|daily")
_ZERO_LIMIT = re.compile(r"(?i)\blimit(?:\s*:|\s+of|\s+is)\s*0(?![\d.])")
_BASE_MODEL_IN_TEXT = re.compile(r"base model: ([\w.@-]+?)\.?(?:\s|$)")
_MODEL_ACTION_IN_TEXT = re.compile(r"publishers/[\w.-]+/models/[\w.@-]+:\w+")
ALLOWED_MODELS = "constraints/vertexai.allowedModels"
ORG_POLICY_ADMIN = "Organization Policy Administrator (roles/orgpolicy.policyAdmin)"


def service_disabled(p: ErrorBody, ctx: CallContext) -> Failure:
    service = p.metadata.get("service") or "the API"
    url = p.metadata.get("activationUrl", "")
    consumer = p.metadata.get("consumer", "").removeprefix("projects/")
    target = ctx.project_id or consumer or "PROJECT_ID"
    link = f" Activation link: {url}" if url else ""
    if consumer and _is_other_project(consumer, ctx):
        message = (
            f"{service} is disabled in project {consumer}, the quota (caller) project this "
            f"call was billed to, not in {ctx.project_id} itself.{link}"
        )
        return make_failure(
            Cause.SERVICE_DISABLED,
            ctx,
            message,
            remedies.enable_api(consumer, service) + " (or pass another --quota-project)",
            Disposition.HUMAN_ACTION,
        )
    return make_failure(
        Cause.SERVICE_DISABLED,
        ctx,
        f"{service} is disabled.{link}",
        remedies.enable_api(target, service),
        Disposition.HUMAN_ACTION,
    )


def _is_other_project(consumer: str, ctx: CallContext) -> bool:
    """True only when the consumer is certainly not the target project.

    Servers name the consumer by number; without the target's number a numeric consumer cannot
    be compared with a project id, so it counts as the same project (the common case).
    """
    if ctx.project_id is None or consumer == ctx.project_id:
        return False
    if consumer.isdigit():
        return ctx.project_number is not None and consumer != ctx.project_number
    return True


def permission_denied(p: ErrorBody, ctx: CallContext) -> Failure:
    permission = p.metadata.get("permission") or _permission_from_text(p.message)
    if p.reason == "USER_PROJECT_DENIED":
        permission = permission or "serviceusage.services.use"
    if permission == "resourcemanager.projects.get" or (
        ctx.api == CRM_API and permission in {None, "resourcemanager.projects.get"}
    ):
        return project_missing(ctx)
    if permission == TOKEN_CREATOR_PERMISSION:
        return impersonation_denied(ctx)
    resource = _grant_resource(p.metadata.get("resource", ""), ctx)
    if permission:
        role = remedies.role_for(permission)
        who = ctx.principal or "the caller"
        what = f"{who} lacks {permission} (granted by {role}) on {resource}."
        remedy = remedies.grant_permission(permission, resource, ctx.principal or "YOUR_PRINCIPAL")
    else:
        what = f"permission denied on {resource}: {server_text(p)}"
        remedy = f"Ask an owner of {resource} for the role the call needs."
    return make_failure(Cause.PERMISSION_DENIED, ctx, what, remedy, Disposition.HUMAN_ACTION)


TOKEN_CREATOR_PERMISSION = "iam.serviceAccounts.getAccessToken"


def impersonation_denied(ctx: CallContext) -> Failure:
    """No token for the service account: the caller lacks Token Creator on it (or the account
    does not exist: IAM Credentials answers both alike). Not a failure of the model."""
    account = (ctx.principal or "").removeprefix("serviceAccount:") or "the service account"
    return make_failure(
        Cause.IMPERSONATION_DENIED,
        ctx,
        f"the caller may not mint tokens for {account}: it lacks {TOKEN_CREATOR_PERMISSION} "
        "(roles/iam.serviceAccountTokenCreator) on it, or the account does not exist.",
        remedies.allow_token_creation(account),
        Disposition.HUMAN_ACTION,
    )


def _grant_resource(resource: str, ctx: CallContext) -> str:
    """The resource to grant on: the project (or folder/org/billing account) a path starts with."""
    resource = resource.removeprefix("//cloudresourcemanager.googleapis.com/")
    match = re.match(r"(projects|folders|organizations|billingAccounts)/([^/\s]+)", resource)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return f"projects/{ctx.project_id}" if ctx.project_id else "projects/PROJECT_ID"


def _permission_from_text(text: str) -> str | None:
    match = _PERMISSION_IN_TEXT.search(text)
    return match.group(1) if match else None


def billing_disabled(p: ErrorBody, ctx: CallContext) -> Failure:
    return make_failure(
        Cause.BILLING_DISABLED,
        ctx,
        "billing is disabled, so the API refuses calls.",
        remedies.link_billing(project_ref(ctx, p), None),
        Disposition.HUMAN_ACTION,
    )


def forbidden(p: ErrorBody, ctx: CallContext) -> Failure:
    lowered = p.message.lower()
    if "billing" in lowered and "enable" in lowered:
        return billing_disabled(p, ctx)
    if ctx.api == CRM_API or "or it may not exist" in lowered:
        return project_missing(ctx)
    return permission_denied(p, ctx)


def not_found(p: ErrorBody, ctx: CallContext) -> Failure:
    model = ctx.publisher_model or _model_from_text(p.message)
    if model is not None or ctx.location is not None:
        return _model_not_found(model, ctx)
    if ctx.api == CRM_API:
        return project_missing(ctx)
    return unknown(p, ctx)


def _model_not_found(model: str | None, ctx: CallContext) -> Failure:
    """A 404 for a model (evidence row 14): unknown id or no access. Google says "not servable
    in region" (a 400, `model_not_servable`) for a location that does not offer it, so a 404
    says nothing about the location; only a date the catalog knows makes it "retired"."""
    entry = catalog.lookup(model) if model else None
    name = model or "the model"
    where = ctx.location or "this location"
    as_of = ctx.as_of or catalog.today_utc()
    if entry is not None and entry.lifecycle(as_of) is catalog.Lifecycle.RETIRED:
        return make_failure(
            Cause.MODEL_RETIRED,
            ctx,
            f"{entry.lifecycle_note(as_of)}.",
            f"Remove {entry.alias} from the manifest or switch to another model.",
            Disposition.FIX_INPUT,
        )
    return make_failure(
        Cause.MODEL_NOT_FOUND_OR_NO_ACCESS,
        ctx,
        f"{name} was not found in {where}, or the project has no access to it.",
        _model_console(model, ctx.project_id),
        Disposition.HUMAN_ACTION,
    )


def model_not_servable(p: ErrorBody, ctx: CallContext) -> Failure:
    """400 "Publisher Model `...` is not servable in region L." (evidence row 13): the offer
    does not exist here, so enabling cannot help; the remedy names the catalog's locations."""
    model = ctx.publisher_model or _model_from_text(p.message)
    entry = catalog.lookup(model) if model else None
    name = entry.alias if entry is not None else (model or "the model")
    found = _REGION_IN_TEXT.search(p.message)
    region = ctx.location or (found.group(1) if found else "this location")
    others = [loc for loc in entry.locations if loc != region] if entry is not None else []
    remedy = (
        f"Use one of these locations for {name}: {', '.join(others)}."
        if others
        else f"Remove {region} from {name}'s locations in the manifest."
    )
    return make_failure(
        Cause.MODEL_NOT_OFFERED_IN_LOCATION,
        ctx,
        f"{name} is not offered in {region} (Vertex AI: not servable in region {region}).",
        remedy,
        Disposition.FIX_INPUT,
    )


def model_enablement_failed(ctx: CallContext) -> Failure:
    """enableModel answered 200 with ENABLEMENT_STATE_FAILED (evidence row 18): Google refused
    to enable the model because a prerequisite is unmet; it is a failed change, never enabled."""
    model = ctx.publisher_model or "publishers/PUBLISHER/models/MODEL"
    project = ctx.project_id or "PROJECT_ID"
    prerequisites = " and ".join(catalog.MAAS_REQUIRED_SERVICES)
    return make_failure(
        Cause.MODEL_ENABLEMENT_FAILED,
        ctx,
        f"enableModel for {model} answered ENABLEMENT_STATE_FAILED: Vertex AI refused to enable "
        "it because a prerequisite is unmet.",
        f"Check that billing is linked and {prerequisites} are enabled on {project}, that the "
        "caller holds Consumer Procurement Entitlement Manager "
        "(roles/consumerprocurement.entitlementManager), then enable it at "
        f"{_model_console(model, ctx.project_id)}",
        Disposition.HUMAN_ACTION,
    )


def model_not_enabled(p: ErrorBody, ctx: CallContext) -> Failure:
    model = (
        ctx.publisher_model or _model_from_text(p.message) or "publishers/PUBLISHER/models/MODEL"
    )
    project = ctx.project_id or "PROJECT_ID"
    remedy = (
        f"{_model_console(model, ctx.project_id)} or {remedies.enable_model_rest(project, model)}"
    )
    where = f" in {ctx.location}" if ctx.location else ""
    return make_failure(
        Cause.MODEL_NOT_ENABLED,
        ctx,
        f"{model} is not enabled for this project{where} (Model Garden 'Enable' was never done).",
        remedy,
        Disposition.HUMAN_ACTION,
    )


def _model_from_text(text: str) -> str | None:
    match = _PUBLISHER_MODEL_IN_TEXT.search(text)
    return f"publishers/{match.group(1)}/models/{match.group(2)}" if match else None


def _model_console(model: str | None, project_id: str | None) -> str:
    match = _PUBLISHER_MODEL_IN_TEXT.search(model or "")
    if match is None:
        return "https://console.cloud.google.com/vertex-ai/model-garden"
    return catalog.model_garden_console_url(match.group(1), match.group(2), project_id)


def org_policy_denied(p: ErrorBody, ctx: CallContext) -> Failure:
    """400 FAILED_PRECONDITION naming constraints/vertexai.allowedModels (evidence row 23): the
    organization policy leaves the model out; enabling it cannot help, a policy admin must."""
    found = _MODEL_ACTION_IN_TEXT.search(p.message)
    model = ctx.publisher_model or _model_from_text(p.message)
    value = found.group(0) if found else f"{model or 'publishers/PUBLISHER/models/MODEL'}:predict"
    project = ctx.project_id or "PROJECT_ID"
    return make_failure(
        Cause.ORG_POLICY_DENIED,
        ctx,
        f"the organization policy {ALLOWED_MODELS} does not allow {value}.",
        f"Ask an {ORG_POLICY_ADMIN} to add {value} to the allowed values of {ALLOWED_MODELS} "
        f"on projects/{project} or its folder or organization: "
        f"https://console.cloud.google.com/iam-admin/orgpolicies/vertexai-allowedModels?project={project}",
        Disposition.HUMAN_ACTION,
    )


def vpc_sc_blocked(p: ErrorBody, ctx: CallContext) -> Failure:
    """403 with PreconditionFailure VPC_SERVICE_CONTROLS or ErrorInfo SECURITY_POLICY_VIOLATED
    (evidence row 24): a service perimeter refused the caller; no IAM role fixes it."""
    uid = p.metadata.get("uid") or _vpc_sc_id(p.message)
    said = f" (vpcServiceControlsUniqueIdentifier {uid})" if uid else ""
    return make_failure(
        Cause.VPC_SC_BLOCKED,
        ctx,
        f"a VPC Service Controls perimeter blocked the call to aiplatform.googleapis.com{said}.",
        "Ask the perimeter's administrator to add an ingress rule for this caller (identity and "
        "aiplatform.googleapis.com), or call from inside the perimeter; note that Google lists "
        "the global endpoint as unsupported under VPC Service Controls, so use a regional "
        "location there.",
        Disposition.HUMAN_ACTION,
    )


def _vpc_sc_id(text: str) -> str:
    match = re.search(r"vpcServiceControlsUniqueIdentifier:\s*([\w-]+)", text)
    return match.group(1) if match else ""


def is_zero_quota(p: ErrorBody) -> bool:
    """A 429 whose quota limit is 0 (a new project's MaaS quota in a region, row 22)."""
    if p.metadata.get("quota_limit_value", "").strip() == "0":
        return True
    return any(_ZERO_LIMIT.search(text) for text in (p.message, *p.quota_violations))


def quota_zero(p: ErrorBody, ctx: CallContext) -> Failure:
    """The quota is 0, not busy: retrying cannot help; a person must request a limit."""
    metric = p.metadata.get("quota_metric") or p.metadata.get("quota_limit") or ""
    found = _BASE_MODEL_IN_TEXT.search(p.message)
    model = p.metadata.get("base_model") or (found.group(1) if found else "")
    model = model or (ctx.publisher_model or "").rsplit("/", 1)[-1]
    where = f" in {ctx.location}" if ctx.location else ""
    named = f" ({metric})" if metric else ""
    page = QUOTA_CONSOLE + (f"?project={ctx.project_id}" if ctx.project_id else "")
    return make_failure(
        Cause.QUOTA_ZERO,
        ctx,
        f"the project's quota for {model or 'the model'}{where} is 0{named}, so every call is "
        "refused; this is not a transient rate limit.",
        f"Request a limit above 0 at {page} (filter: aiplatform.googleapis.com, base_model "
        f"{model or 'MODEL'}, region {ctx.location or 'LOCATION'}), or send a QuotaPreference "
        "with the Cloud Quotas API (gcloud beta quotas preferences create "
        "--service=aiplatform.googleapis.com).",
        Disposition.HUMAN_ACTION,
    )


def too_many(p: ErrorBody, ctx: CallContext) -> Failure:
    quota_text = " ".join(
        [
            p.metadata.get("quota_metric", ""),
            p.metadata.get("quota_limit", ""),
            p.message,
            *p.quota_violations,
        ]
    )
    if is_zero_quota(p):
        return quota_zero(p, ctx)
    limit = p.metadata.get("quota_limit") or p.metadata.get("quota_metric") or ""
    named = f" ({limit})" if limit else ""
    if _DAILY.search(quota_text):
        return make_failure(
            Cause.QUOTA_EXHAUSTED,
            ctx,
            f"a quota that resets daily is used up{named}; retrying now will not help.",
            f"Request a higher quota at {QUOTA_CONSOLE}"
            + (f"?project={ctx.project_id}" if ctx.project_id else ""),
            Disposition.HUMAN_ACTION,
        )
    return make_failure(
        Cause.RATE_LIMITED,
        ctx,
        f"rate limited{named}.",
        "Lower --concurrency or --rate-limit, or request a higher quota at " + QUOTA_CONSOLE,
        Disposition.RETRY,
    )


def billing_quota(ctx: CallContext) -> Failure:
    return make_failure(
        Cause.BILLING_QUOTA_EXCEEDED,
        ctx,
        "the billing account already has as many projects linked as its quota allows.",
        remedies.BILLING_QUOTA_INCREASE,
        Disposition.HUMAN_ACTION,
    )


def unauthenticated(ctx: CallContext, detail: str | None = None) -> Failure:
    """Credentials missing, expired or rejected: the one remedy is to log in again.

    Without `detail` the server rejected them (a 401, an auth ErrorInfo reason). With it,
    google-auth could not produce them here (no ADC, a refresh that failed) and `detail`, already
    redacted, says why; only its first line is kept, so no traceback or file listing follows.
    """
    if detail is None:
        return make_failure(
            Cause.UNAUTHENTICATED,
            ctx,
            "the credentials were rejected (missing, expired or of the wrong type).",
            remedies.LOGIN,
            Disposition.HUMAN_ACTION,
        )
    text = "Google credentials are missing or expired"
    if detail:
        text += f" ({detail.splitlines()[0][:200]})"
    return Failure(
        cause=Cause.UNAUTHENTICATED,
        message=text + ".",
        remedy=remedies.LOGIN,
        disposition=Disposition.HUMAN_ACTION,
        http_status=401,
    )


def project_missing(ctx: CallContext) -> Failure:
    project = ctx.project_id or "PROJECT_ID"
    return make_failure(
        Cause.PROJECT_NOT_FOUND_OR_FORBIDDEN,
        ctx,
        "the project does not exist, or the caller may not see it (Google answers the same for both).",
        f"Check the project id, or grant roles/browser: {remedies.grant_permission('resourcemanager.projects.get', f'projects/{project}')}",
        Disposition.HUMAN_ACTION,
    )


def delete_requested(ctx: CallContext) -> Failure:
    project = ctx.project_id or "PROJECT_ID"
    return make_failure(
        Cause.PROJECT_DELETE_REQUESTED,
        ctx,
        "the project is scheduled for deletion (DELETE_REQUESTED).",
        remedies.undelete_project(project),
        Disposition.HUMAN_ACTION,
    )


def unknown(p: ErrorBody, ctx: CallContext) -> Failure:
    what = f"HTTP {p.http}" if p.http else "an error"
    return make_failure(
        Cause.UNKNOWN,
        ctx,
        f"the API answered {what}: {server_text(p)}",
        "Rerun with --verbose and report the answer if it persists.",
    )


# --- final failures after retries ------------------------------------------------------------

# Words that are true while retrying and false once the retries are over.
_STILL_RETRYING = re.compile(
    r"(?:[;,]\s*(?:waiting and )?retrying|\s*the tool retries[^.;]*)[.;]?", re.I
)
RERUN_REMEDY = (
    "Rerun later: a rerun re-reads the state and continues where this one stopped; if it "
    "persists, check https://status.cloud.google.com"
)


def after_retries(
    failure: Failure, ctx: CallContext, *, attempts: int, elapsed_s: float
) -> Failure:
    """The failure a retryable error became once the retries ran out: it says that it failed,
    after how many attempts over how long, and what to do, never that the tool is retrying."""
    took = f"{elapsed_s:.1f}" if elapsed_s < 10 else f"{elapsed_s:.0f}"
    if failure.http_status == 500:
        what = f"internal error (HTTP 500, retried {attempts - 1} times over {took} s)."
        return _final(failure, with_project(ctx.project_id, what), RERUN_REMEDY)
    said = _STILL_RETRYING.sub("", failure.message).rstrip(" .;")
    message = f"{said}; failed after {attempts} attempts over {took} s."
    remedy = _STILL_RETRYING.sub("", failure.remedy).strip(" ;")
    if not remedy or remedy.lower().startswith("rerun later"):
        remedy = RERUN_REMEDY
    return _final(failure, message, remedy)


def _final(failure: Failure, message: str, remedy: str) -> Failure:
    return Failure(
        cause=failure.cause,
        message=message,
        remedy=remedy,
        disposition=failure.disposition,
        http_status=failure.http_status,
        reason=failure.reason,
        metadata=failure.metadata,
        retry_after_s=failure.retry_after_s,
    )


# --- assembly --------------------------------------------------------------------------------


def make_failure(
    cause: Cause,
    ctx: CallContext,
    what: str,
    remedy: str,
    disposition: Disposition = Disposition.FAIL,
) -> Failure:
    return Failure(
        cause=cause,
        message=with_project(ctx.project_id, what),
        remedy=remedy,
        disposition=disposition,
    )


def with_project(project_id: str | None, what: str) -> str:
    if not project_id:
        return what[:1].upper() + what[1:]
    return f"Project {project_id}: {what}"


def server_text(p: ErrorBody) -> str:
    text = one_line(p.message) or p.status or "no details"
    return text if len(text) <= MAX_SERVER_TEXT else text[: MAX_SERVER_TEXT - 1] + "…"


def one_line(text: str) -> str:
    return " ".join(text.split())


def project_ref(ctx: CallContext, p: ErrorBody) -> str:
    return (
        ctx.project_id
        or p.metadata.get("containerInfo")
        or p.metadata.get("project")
        or "PROJECT_ID"
    )

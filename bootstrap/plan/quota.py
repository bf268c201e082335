"""The planner's quota step: one `quota:<alias>@<location>` check per wanted model and location.

It reads the per-base-model limits observe found with Cloud Quotas (`Observed.quotas`) and
reports them in the check's metrics. A limit of 0 refuses every call (evidence row 22; a new
project may have one in a region): ACTION_REQUIRED, QUOTA_ZERO, and only a person can raise it
(the console's quota page or a QuotaPreference). With the manifest's `min_tokens_per_minute`, an
input-token limit below it is a finding too. A quota that could not be read is a WARNING naming
the permission or the API to fix: it never makes a project not ok by itself, because the probe
and the smoke test remain the proof. Nothing is planned: quotas are not the tool's to change.
Pure: no I/O.
"""

from __future__ import annotations

from bootstrap.checks import Check, CheckStatus, quota_check
from bootstrap.cloud.quota import (
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    QUOTA_READ,
    REQUESTS,
    UNLIMITED,
    ModelQuota,
    preference_command,
    quota_console,
    zero_quota_remedy,
)
from bootstrap.errors import Cause
from bootstrap.manifest.desired import DesiredModel
from bootstrap.plan.draft import Draft

QUOTA_PERMISSION = "cloudquotas.quotas.get"
QUOTA_VIEWER_ROLE = "roles/cloudquotas.viewer"
CLOUD_QUOTAS_API = "cloudquotas.googleapis.com"
_METRIC_NAMES = {
    REQUESTS: "requests_per_minute",
    INPUT_TOKENS: "input_tokens_per_minute",
    OUTPUT_TOKENS: "output_tokens_per_minute",
}


def plan_quota_step(d: Draft) -> None:
    """Add the quota checks; none when quotas were not read (turned off, or no project yet)."""
    quotas = d.observed.quotas
    failure = d.observed.failures.get(QUOTA_READ)
    if d.creating or (quotas is None and failure is None):
        return
    for model in d.desired.models:
        for location in model.locations:
            name = quota_check(model.alias, location)
            if quotas is not None and quotas.skipped:
                _add(
                    d, name, CheckStatus.SKIPPED, f"Project {d.pid}: quota not read (--skip quota)."
                )
                continue
            if quotas is None:
                _unreadable(d, name)
                continue
            found = quotas.find(model.publisher_model, location)
            empty = ModelQuota(publisher_model=model.publisher_model, location=location)
            _judge(d, name, model, location, found or empty)


def _metrics(quota: ModelQuota) -> dict[str, float | int | str]:
    metrics: dict[str, float | int | str] = {}
    for kind, key in _METRIC_NAMES.items():
        value = quota.lowest(kind)
        if value is not None:
            metrics[key] = "unlimited" if value == UNLIMITED else value
    base = next((limit.base_model for limit in quota.limits if limit.base_model), "")
    if base:
        metrics["base_model"] = base
    return metrics


def _describe(quota: ModelQuota) -> str:
    parts = [
        f"{value if value != UNLIMITED else 'unlimited'} {key.replace('_', ' ')}"
        for kind, key in _METRIC_NAMES.items()
        if (value := quota.lowest(kind)) is not None
    ]
    return ", ".join(parts)


def _judge(d: Draft, name: str, model: DesiredModel, location: str, quota: ModelQuota) -> None:
    model_id = model.publisher_model.rsplit("/", 1)[-1]
    metrics = _metrics(quota)
    if not quota.limits:
        _add(
            d,
            name,
            CheckStatus.OK,
            f"Project {d.pid}: Cloud Quotas lists no per-project limit for {model.alias} in "
            f"{location} (the model may be on dynamic shared quota); the probe and the smoke "
            "test are the proof.",
            metrics=metrics,
        )
        return
    zero = quota.zero
    if zero:
        ids = ", ".join(sorted({limit.quota_id for limit in zero}))
        _add(
            d,
            name,
            CheckStatus.ACTION_REQUIRED,
            f"Project {d.pid}: the quota for {model.alias} in {location} is 0 ({ids}), so every "
            "call is refused with 429; this is not a transient rate limit.",
            cause=Cause.QUOTA_ZERO,
            remedy=zero_quota_remedy(d.pid, zero[0], location, model_id),
            metrics=metrics,
        )
        return
    if _below_minimum(d, name, model, location, quota):
        return
    _add(
        d,
        name,
        CheckStatus.OK,
        f"Project {d.pid}: {model.alias} in {location} may use {_describe(quota)}.",
        metrics=metrics,
    )


def _below_minimum(
    d: Draft, name: str, model: DesiredModel, location: str, quota: ModelQuota
) -> bool:
    """A finding when the input-token limit is under the manifest's min_tokens_per_minute."""
    wanted = model.min_tokens_per_minute
    tokens = quota.tokens_per_minute
    if wanted is None or tokens is None or tokens == UNLIMITED or tokens >= wanted:
        return False
    low = min(
        (lim for lim in quota.limits if lim.kind == INPUT_TOKENS and lim.value != UNLIMITED),
        key=lambda lim: lim.value,
    )
    model_id = model.publisher_model.rsplit("/", 1)[-1]
    _add(
        d,
        name,
        CheckStatus.ACTION_REQUIRED,
        f"Project {d.pid}: {model.alias} in {location} may use {tokens} input tokens per "
        f"minute ({low.quota_id}), below the manifest's min_tokens_per_minute {wanted}.",
        remedy=f"Request at least {wanted} at {quota_console(d.pid)}, or: "
        + preference_command(d.pid, low, location, model_id, str(wanted)),
        metrics=_metrics(quota),
    )
    return True


def _unreadable(d: Draft, name: str) -> None:
    """A warning with what to fix: the permission, or the API on the caller's quota project."""
    failure = d.observed.failures[QUOTA_READ]
    if failure.cause is Cause.SERVICE_DISABLED:
        # Google names the project the API is off on (the caller's quota project) as consumer.
        consumer = failure.metadata.get("consumer", "").removeprefix("projects/")
        remedy = (
            f"enable the Cloud Quotas API on the project your credentials bill requests to "
            f"(their quota project): gcloud services enable {CLOUD_QUOTAS_API} "
            f"--project={consumer or 'QUOTA_PROJECT'}"
        )
    elif failure.cause is not Cause.PERMISSION_DENIED:
        remedy = failure.remedy or "rerun; the quota is read again"
    else:
        remedy = (
            f"grant {QUOTA_PERMISSION} on project {d.pid} (role {QUOTA_VIEWER_ROLE}): gcloud "
            f"projects add-iam-policy-binding {d.pid} --member=user:YOU "
            f"--role={QUOTA_VIEWER_ROLE}"
        )
    _add(
        d,
        name,
        CheckStatus.WARNING,
        f"{failure.message} The quota could not be read, so a limit of 0 cannot be ruled out "
        "before the first call; the smoke test is the proof.",
        cause=failure.cause,
        remedy=remedy,
    )


def _add(
    d: Draft,
    name: str,
    status: CheckStatus,
    detail: str,
    *,
    cause: Cause | None = None,
    remedy: str = "",
    metrics: dict[str, float | int | str] | None = None,
) -> None:
    d.checks.append(
        Check(
            name=name,
            status=status,
            cause=cause,
            remedy=remedy,
            detail=detail,
            metrics=metrics or {},
        )
    )

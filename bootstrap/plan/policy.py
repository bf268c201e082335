"""The planner's policy step: the `policy` check, judged from the effective org policies observe read.

Two list constraints can stop a Model Garden MaaS call before any other guard:
`constraints/vertexai.allowedModels` (the model) and `constraints/gcp.restrictServiceUsage` (the
APIs). Each effective policy is judged purely here: a denied value or `denyAll` forbids, then
`allowAll`, an allow list that names the value, or no allow list at all permits. Denials win,
as Google evaluates them. A model or API the policy forbids makes the check ACTION_REQUIRED
(ORG_POLICY_DENIED): only an Organization Policy Administrator can change it, so the services and
models steps plan nothing for it (`denied_services`, `denied_models`) and their checks wait on this
one. A policy that could not be read is a WARNING naming the permission or API to fix it: the
smoke test stays the proof, so an unreadable policy never makes the project not ok by itself.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.checks import POLICY, PROJECT, CheckStatus
from bootstrap.cloud.org_policy import (
    ALLOWED_MODELS,
    ORG_POLICY_READ,
    RESTRICT_SERVICE_USAGE,
    EffectivePolicy,
)
from bootstrap.errors import Cause, Failure
from bootstrap.plan.draft import Draft, not_run

ORG_POLICY_ADMIN = "Organization Policy Administrator (roles/orgpolicy.policyAdmin)"
VIEWER_ROLE = "roles/orgpolicy.policyViewer"
# The permission getEffectivePolicy checks, spelled as the IAM role index lists it for the
# Org Policy Viewer role (`orgpolicy.policy.get`, singular: there is no orgpolicy.policies.get).
READ_PERMISSION = "orgpolicy.policy.get"
ORG_POLICY_API = "orgpolicy.googleapis.com"


def model_values(publisher_model: str) -> tuple[str, ...]:
    """The values a policy may name for calling `publisher_model`.

    Google's "control model access" page and the 400 the chat route answers (evidence row 23)
    spell it `publishers/P/models/M:predict`: the model and the action. The bare
    `publishers/P/models/M` is accepted too, because the emulator (and older policies written
    by hand) use it; `is:` prefixes are stripped before matching, so they need no form here.
    """
    return (f"{publisher_model}:predict", publisher_model)


def matches(entry: str, value: str) -> bool:
    """Does a policy value (`is:X`, `under:X` or a plain `X`) cover `value`?

    `under:X` names a subtree: X itself or anything below it (`under:publishers/openai` covers
    `publishers/openai/models/M:predict`). Effective policies leave `under:` unexpanded, so it
    is matched here as a path prefix.
    """
    if entry.startswith("under:"):
        root = entry.removeprefix("under:").rstrip("/")
        return value == root or value.startswith(root + "/") or value.startswith(root + ":")
    return entry.removeprefix("is:") == value


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What a policy says about one wanted value."""

    allowed: bool
    why: str  # "denied values", "denyAll", "not in the allowed values", "allowAll", ...


def judge(policy: EffectivePolicy, values: tuple[str, ...]) -> Verdict:
    """Is any form in `values` (equivalent spellings of one thing) allowed by `policy`?

    Rules with a condition are left out: an effective policy carries none, and one that did
    could not be judged without the resource's tags.
    """
    rules = [rule for rule in policy.rules if not rule.conditional]
    if any(rule.deny_all for rule in rules):
        return Verdict(allowed=False, why="a denyAll rule")
    if any(matches(e, v) for rule in rules for e in rule.denied_values for v in values):
        return Verdict(allowed=False, why="its denied values")
    if any(rule.allow_all for rule in rules):
        return Verdict(allowed=True, why="allowAll")
    allow_lists = [rule.allowed_values for rule in rules if rule.allowed_values]
    if not allow_lists:
        return Verdict(allowed=True, why="no allow list")
    if any(matches(e, v) for allowed in allow_lists for e in allowed for v in values):
        return Verdict(allowed=True, why="its allowed values")
    return Verdict(allowed=False, why="not in its allowed values")


def _policy(d: Draft, constraint: str) -> EffectivePolicy | None:
    seen = d.observed.org_policy
    return None if seen is None or d.creating else seen.get(constraint)


def denied_models(d: Draft) -> dict[str, Verdict]:
    """publisher model -> verdict, for each wanted model the effective policy forbids."""
    policy = _policy(d, ALLOWED_MODELS)
    if policy is None:
        return {}
    verdicts = {
        m.publisher_model: judge(policy, model_values(m.publisher_model)) for m in d.desired.models
    }
    return {model: verdict for model, verdict in verdicts.items() if not verdict.allowed}


def denied_services(d: Draft) -> dict[str, Verdict]:
    """service -> verdict, for each required API the effective policy forbids."""
    policy = _policy(d, RESTRICT_SERVICE_USAGE)
    if policy is None:
        return {}
    verdicts = {s: judge(policy, (s,)) for s in d.desired.services}
    return {service: verdict for service, verdict in verdicts.items() if not verdict.allowed}


def console_url(constraint: str, project_id: str) -> str:
    """The console page of one constraint's policy on a project."""
    short = constraint.removeprefix("constraints/").replace(".", "-")
    return f"https://console.cloud.google.com/iam-admin/orgpolicies/{short}?project={project_id}"


def plan_policy_step(d: Draft) -> None:
    """Add the `policy` check (see the module doc); nothing when no constraint applies."""
    seen = d.observed.org_policy
    if d.creating:
        if d.desired.models or d.desired.services:
            not_run(d, POLICY, PROJECT)  # read on the next run, once the project exists
        return
    if seen is None:
        return
    if seen.skipped:
        d.check(
            POLICY,
            CheckStatus.SKIPPED,
            f"Project {d.pid}: org policies not read (--skip policy).",
        )
        return
    if _denied(d):
        return
    judged = _judged(d)
    failure = d.observed.failures.get(ORG_POLICY_READ)
    if failure is not None:
        unread = [c for c in seen.wanted if seen.get(c) is None]
        d.check(
            POLICY,
            CheckStatus.WARNING,
            f"Project {d.pid}: could not read the effective policy of {', '.join(unread)} "
            f"({failure.message.rstrip('.')}); the smoke test decides"
            + (f". {'; '.join(judged)}." if judged else "."),
            cause=failure.cause,
            remedy=_read_remedy(d, failure),
        )
        return
    d.check(POLICY, CheckStatus.OK, f"Project {d.pid}: {'; '.join(judged)}.")


def _denied(d: Draft) -> bool:
    """The ACTION_REQUIRED check when the policies forbid a wanted model or API; True if so."""
    forbidden = _forbidden(d)
    if not forbidden:
        return False
    values, remedies = zip(*forbidden, strict=True)
    denying = {ALLOWED_MODELS} if denied_models(d) else set()
    denying |= {RESTRICT_SERVICE_USAGE} if denied_services(d) else set()
    d.check(
        POLICY,
        CheckStatus.ACTION_REQUIRED,
        f"Project {d.pid}: {'; '.join([*values, *_judged(d, without=denying)])}.",
        cause=Cause.ORG_POLICY_DENIED,
        remedy=" ".join(remedies),
    )
    return True


def _forbidden(d: Draft) -> list[tuple[str, str]]:
    """(what is forbidden, its remedy) for each forbidden model and API."""
    found = []
    for model, verdict in denied_models(d).items():
        value = model_values(model)[0]
        found.append(
            (
                f"{ALLOWED_MODELS} forbids {model} ({verdict.why})",
                _admin_remedy(d, ALLOWED_MODELS, value, verdict),
            )
        )
    for service, verdict in denied_services(d).items():
        found.append(
            (
                f"{RESTRICT_SERVICE_USAGE} forbids {service} ({verdict.why})",
                _admin_remedy(d, RESTRICT_SERVICE_USAGE, service, verdict),
            )
        )
    return found


def _admin_remedy(d: Draft, constraint: str, value: str, verdict: Verdict) -> str:
    if verdict.why == "a denyAll rule":
        change = f"replace the denyAll rule of {constraint} with an allow list holding {value}"
    elif verdict.why == "its denied values":
        change = f"remove {value} from the denied values of {constraint}"
    else:
        change = f"add {value} to the allowed values of {constraint}"
    return (
        f"Ask an {ORG_POLICY_ADMIN} to {change} for project {d.pid} (or a folder or organization "
        f"above it): {console_url(constraint, d.pid)}"
    )


def _judged(d: Draft, without: set[str] | None = None) -> list[str]:
    """One phrase per constraint read (but those `without`): what it allows of what the manifest
    wants."""
    phrases = []
    models = None if ALLOWED_MODELS in (without or ()) else _policy(d, ALLOWED_MODELS)
    if models is not None:
        names = ", ".join(m.publisher_model for m in d.desired.models)
        phrases.append(f"{ALLOWED_MODELS} allows {names}")
    services = (
        None if RESTRICT_SERVICE_USAGE in (without or ()) else _policy(d, RESTRICT_SERVICE_USAGE)
    )
    if services is not None:
        phrases.append(f"{RESTRICT_SERVICE_USAGE} allows {', '.join(d.desired.services)}")
    return phrases


def _read_remedy(d: Draft, failure: Failure) -> str:
    if failure.cause is Cause.PERMISSION_DENIED:
        return (
            f"Grant {VIEWER_ROLE} (it holds {READ_PERMISSION}) on project {d.pid}: gcloud "
            f"projects add-iam-policy-binding {d.pid} --member=YOUR_PRINCIPAL "
            f"--role={VIEWER_ROLE} (an audit may leave the read out: --skip policy)"
        )
    if failure.cause is Cause.SERVICE_DISABLED:
        # The Org Policy API is billed to the caller's quota project, not to the project read:
        # the answer's consumer names it (by number), whatever the classifier could compare.
        consumer = failure.metadata.get("consumer", "").removeprefix("projects/")
        where = consumer or "QUOTA_PROJECT"
        return (
            f"Enable the Org Policy API on the project your credentials bill calls to: gcloud "
            f"services enable {ORG_POLICY_API} --project={where} (or pass another "
            "--quota-project; an audit may leave the read out: --skip policy)"
        )
    return failure.remedy or "Rerun the command; the policy read is read-only."

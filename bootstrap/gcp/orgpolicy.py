"""Org Policy v2: the effective policy of one list constraint on one project.

`projects.policies.getEffectivePolicy` (permission `orgpolicy.policy.get`, granted by
roles/orgpolicy.policyViewer) returns the policy merged down the hierarchy, without etag or
conditions, so one read per constraint is the whole answer. The GAPIC REST client returns a
`Policy` message; it leaves here as `bootstrap.cloud.org_policy` values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.cloud import orgpolicy_v2

from bootstrap.causes.context import CallContext
from bootstrap.cloud.org_policy import EffectivePolicy, PolicyRule
from bootstrap.gcp.calls import Caller

_READ = "orgpolicy.read"


def policy_name(project_id: str, constraint: str) -> str:
    """`projects/P/policies/vertexai.allowedModels`: the policy names the constraint without
    its `constraints/` prefix."""
    return f"projects/{project_id}/policies/{constraint.removeprefix('constraints/')}"


def effective_policy(constraint: str, policy: orgpolicy_v2.Policy) -> EffectivePolicy:
    """The rules of the policy's live spec (dry-run specs are not enforced, so not read)."""
    return EffectivePolicy(constraint=constraint, rules=policy_rules(policy.spec.rules))


def policy_rules(rules: Iterable[Any]) -> tuple[PolicyRule, ...]:
    """Rules of Org Policy v2 (`PolicySpec.PolicyRule`) or of Cloud Asset's analysis
    (`GoogleCloudAssetV1Rule`): the same fields under the same names."""
    return tuple(
        PolicyRule(
            allowed_values=tuple(rule.values.allowed_values),
            denied_values=tuple(rule.values.denied_values),
            allow_all=bool(rule.allow_all),
            deny_all=bool(rule.deny_all),
            conditional=bool(rule.condition.expression),
        )
        for rule in rules
    )


class OrgPolicies:
    def __init__(self, *, client: orgpolicy_v2.OrgPolicyClient, caller: Caller) -> None:
        self._client = client
        self._caller = caller

    def get_effective(self, project_id: str, constraint: str) -> EffectivePolicy:
        request = {"name": policy_name(project_id, constraint)}
        policy = self._caller.call(
            "orgpolicy.policies.getEffectivePolicy",
            lambda t: self._client.get_effective_policy(request=request, retry=None, timeout=t),
            bucket=_READ,
            context=CallContext(project_id=project_id),
        )
        return effective_policy(constraint, policy)

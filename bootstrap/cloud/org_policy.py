"""The effective organization policies of one project, as read: frozen values, no google types.

Org Policy v2 `projects.policies.getEffectivePolicy` answers one constraint at a time with the
policy already merged down the hierarchy (organization, folders, project); so these values hold
rules only, never the policies they came from. The planner (`bootstrap.plan.policy`) judges them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The two list constraints that can stop a Model Garden MaaS call (evidence row 23).
ALLOWED_MODELS = "constraints/vertexai.allowedModels"
RESTRICT_SERVICE_USAGE = "constraints/gcp.restrictServiceUsage"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRule:
    """One rule of a list constraint's policy: values, or allow all, or deny all.

    `conditional` marks a rule with a condition (tags): an effective policy should carry none,
    and a rule that does cannot be judged without the resource's tags.
    """

    allowed_values: tuple[str, ...] = ()
    denied_values: tuple[str, ...] = ()
    allow_all: bool = False
    deny_all: bool = False
    conditional: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectivePolicy:
    """The effective policy of one constraint on one project. No rules: the constraint's
    default applies (for both constraints above: everything allowed)."""

    constraint: str  # constraints/vertexai.allowedModels
    rules: tuple[PolicyRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedOrgPolicy:
    """The constraints read for one project; one missing from `policies` could not be read
    (its failure is in `Observed.failures` under `ORG_POLICY_READ`)."""

    policies: tuple[EffectivePolicy, ...] = ()
    wanted: tuple[str, ...] = ()  # the constraints observe tried to read
    skipped: bool = False  # the user turned the reads off (--skip policy)

    def get(self, constraint: str) -> EffectivePolicy | None:
        return next((p for p in self.policies if p.constraint == constraint), None)


# The name of the org-policy read in `Observed.failures`.
ORG_POLICY_READ = "org_policy"

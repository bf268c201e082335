"""One error tree for the whole tool: every failure has a named cause, a message and a remedy.

A `Failure` is a value (it goes into reports); `BootstrapError` carries one when it must travel as
an exception. Each cause says what the caller should do: retry, fix the input, or ask a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Cause(StrEnum):
    """Every way a project, a model or a call can fail, named once."""

    INVALID_INPUT = "INVALID_INPUT"
    PROJECT_NOT_FOUND_OR_FORBIDDEN = "PROJECT_NOT_FOUND_OR_FORBIDDEN"
    PROJECT_DELETE_REQUESTED = "PROJECT_DELETE_REQUESTED"
    PROJECT_ALREADY_EXISTS = "PROJECT_ALREADY_EXISTS"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    # The caller may not mint tokens for a service account (iam.serviceAccounts.getAccessToken).
    IMPERSONATION_DENIED = "IMPERSONATION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    BILLING_DISABLED = "BILLING_DISABLED"
    BILLING_ACCOUNT_CLOSED = "BILLING_ACCOUNT_CLOSED"
    BILLING_LINKED_ELSEWHERE = "BILLING_LINKED_ELSEWHERE"
    BILLING_REQUIRED_TO_ENABLE = "BILLING_REQUIRED_TO_ENABLE"
    BILLING_QUOTA_EXCEEDED = "BILLING_QUOTA_EXCEEDED"
    SERVICE_DISABLED = "SERVICE_DISABLED"
    MODEL_NOT_ENABLED = "MODEL_NOT_ENABLED"
    MODEL_NOT_OFFERED_IN_LOCATION = "MODEL_NOT_OFFERED_IN_LOCATION"
    MODEL_RETIRED = "MODEL_RETIRED"
    MODEL_NOT_FOUND_OR_NO_ACCESS = "MODEL_NOT_FOUND_OR_NO_ACCESS"
    MODEL_ENABLEMENT_FAILED = "MODEL_ENABLEMENT_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXHAUSTED = "QUOTA_EXHAUSTED"
    QUOTA_ZERO = "QUOTA_ZERO"  # the project's quota for the model is 0: a person must raise it
    ORG_POLICY_DENIED = "ORG_POLICY_DENIED"  # constraints/vertexai.allowedModels leaves it out
    VPC_SC_BLOCKED = "VPC_SC_BLOCKED"  # a VPC Service Controls perimeter refused the call
    OPERATION_TIMEOUT = "OPERATION_TIMEOUT"
    OPERATION_FAILED = "OPERATION_FAILED"
    UNAVAILABLE = "UNAVAILABLE"
    # Smoke test outcomes (see bootstrap/smoke/runner.py).
    STREAM_INCOMPLETE = "STREAM_INCOMPLETE"
    STREAM_INTERRUPTED = "STREAM_INTERRUPTED"
    EMPTY_COMPLETION = "EMPTY_COMPLETION"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"


# Failure.reason of a mutation whose answer was lost: it may or may not have been applied, so
# the caller must re-read before sending it again.
ANSWER_LOST = "ANSWER_LOST"


class Disposition(StrEnum):
    """What the caller should do about a failure."""

    RETRY = "retry"  # temporary: try again after a delay
    FIX_INPUT = "fix_input"  # the manifest or the command line is wrong
    HUMAN_ACTION = "human_action"  # a person must act (console, role, support request)
    FAIL = "fail"  # permanent for this run; reported


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A classified failure: what went wrong, where, and how to fix it.

    `message` names the project and what was wrong; `remedy` is one line with a command, a role
    or a console link. Neither ever holds a token or a credential path.
    """

    cause: Cause
    message: str
    remedy: str = ""
    disposition: Disposition = Disposition.FAIL
    http_status: int | None = None
    reason: str | None = None  # ErrorInfo.reason, when the server gave one
    metadata: dict[str, str] = field(default_factory=dict)
    retry_after_s: float | None = None  # RetryInfo.retryDelay or Retry-After, when given

    @property
    def retryable(self) -> bool:
        return self.disposition is Disposition.RETRY

    def sentence(self) -> str:
        """Message and remedy as one line for a terminal."""
        return f"{self.message} Fix: {self.remedy}" if self.remedy else self.message


class BootstrapError(Exception):
    """An expected failure carrying a classified `Failure`; the CLI prints it without a traceback."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.sentence())
        self.failure = failure

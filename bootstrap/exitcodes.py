"""Process exit codes, what each check status means for each command, and how they combine.

0 ok / converged, 1 error, 2 changes pending or audit findings, 3 a person must act,
130 interrupted. When a run has several outcomes the first of 1, 3, 2, 0 wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum

from bootstrap.checks import CheckStatus


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    ACTION_REQUIRED = 3
    INTERRUPTED = 130


_PRECEDENCE = (ExitCode.ERROR, ExitCode.ACTION_REQUIRED, ExitCode.CHANGES, ExitCode.OK)


def combine(codes: Iterable[ExitCode]) -> ExitCode:
    """The exit code of a run with these outcomes (precedence 1, 3, 2, 0)."""
    seen = set(codes)
    if ExitCode.INTERRUPTED in seen:
        return ExitCode.INTERRUPTED
    for code in _PRECEDENCE:
        if code in seen:
            return code
    return ExitCode.OK


class Command(StrEnum):
    PLAN = "plan"
    APPLY = "apply"
    AUDIT = "audit"
    SMOKE = "smoke"
    DEMO = "demo"


# Each check status's exit code, per command: (plan, apply and smoke, audit).
# Audit: 0 only when every wanted check passed, 2 for a finding, 1 when a check could not be
# read or verified. Plan: 2 pending, 3 a person, 1 error. Apply and smoke: anything not done is 1.
_CHECK_EXIT: dict[CheckStatus, tuple[ExitCode, ExitCode, ExitCode]] = {
    CheckStatus.OK: (ExitCode.OK, ExitCode.OK, ExitCode.OK),
    CheckStatus.CHANGED: (ExitCode.OK, ExitCode.OK, ExitCode.OK),
    CheckStatus.WARNING: (ExitCode.OK, ExitCode.OK, ExitCode.OK),
    CheckStatus.SKIPPED: (ExitCode.OK, ExitCode.OK, ExitCode.OK),
    CheckStatus.PENDING: (ExitCode.CHANGES, ExitCode.ERROR, ExitCode.CHANGES),
    CheckStatus.PROPAGATING: (ExitCode.CHANGES, ExitCode.ERROR, ExitCode.CHANGES),
    # Not run always names a check of the same project that is not ok: that check's code counts.
    CheckStatus.NOT_RUN: (ExitCode.OK, ExitCode.OK, ExitCode.OK),
    CheckStatus.UNKNOWN: (ExitCode.ERROR, ExitCode.ERROR, ExitCode.ERROR),
    CheckStatus.ACTION_REQUIRED: (
        ExitCode.ACTION_REQUIRED,
        ExitCode.ACTION_REQUIRED,
        ExitCode.CHANGES,
    ),
    CheckStatus.FAILED: (ExitCode.ERROR, ExitCode.ERROR, ExitCode.CHANGES),
}


def check_exit_code(command: Command, status: CheckStatus) -> ExitCode:
    plan, apply, audit = _CHECK_EXIT[status]
    if command is Command.PLAN:
        return plan
    return audit if command in (Command.AUDIT, Command.DEMO) else apply

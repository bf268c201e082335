"""Process exit codes and how several outcomes of one run combine into one.

0 ok / converged, 1 error, 2 changes pending or audit findings, 3 a person must act,
130 interrupted. When a run has several outcomes the first of 1, 3, 2, 0 wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


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

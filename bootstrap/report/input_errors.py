"""The one error the report package raises: input a person handed it is not usable.

It is a `BootstrapError` (one sentence with a remedy, no traceback) and also a `ValueError`, so a
caller that guards a report read or an `--output` list with `except ValueError` catches it too.
"""

from __future__ import annotations

from bootstrap.errors import BootstrapError, Cause, Disposition, Failure


class ReportInputError(BootstrapError, ValueError):
    """A report file, a shard set or an --output name that cannot be used as given."""

    def __init__(self, message: str, *, remedy: str) -> None:
        super().__init__(
            Failure(
                cause=Cause.INVALID_INPUT,
                message=message,
                remedy=remedy,
                disposition=Disposition.FIX_INPUT,
            )
        )

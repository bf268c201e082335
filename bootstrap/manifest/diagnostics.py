"""`Diagnostic` and `Severity`: one manifest problem at one file position, as every loading stage
reports it. The YAML reader, the shape check and the content rules all append these, and the CLI
renders them; this module owns only the record and its one-line rendering, so each stage can use
it without importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem at one place: what is wrong, and how to fix it."""

    file: str
    line: int
    col: int
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    def render(self) -> str:
        level = "warning: " if self.severity is Severity.WARNING else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.col}: {level}{self.message}{hint}"

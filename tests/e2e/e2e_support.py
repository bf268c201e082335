"""Values shared by the end-to-end tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bootstrap.emulator.inprocess import Emulator

DESTRUCTIVE = (":disable", "delete", "undelete")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def project(self, project_id: str) -> dict[str, Any]:
        assert self.report is not None, self.stderr
        return next(p for p in self.report["projects"] if p["project_id"] == project_id)

    def check(self, project_id: str, name: str) -> dict[str, Any]:
        return next(c for c in self.project(project_id)["checks"] if c["name"] == name)


Invoke = Callable[..., Run]


def mutations(emulator: Emulator) -> list[dict[str, Any]]:
    return [entry for entry in emulator.journal() if entry["mutating"]]

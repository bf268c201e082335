"""The demo: plan, apply and audit (with smoke tests) the demo manifest on the embedded emulator.

The emulator's default world is built to show every kind of outcome; `EXPECTED` says how each
project must end, so the demo can say whether the tool behaved as designed (and exit 0 only then).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bootstrap.report.model import ProjectStatus, RunReport

# The demo manifest, as the repository keeps it (the emulator's default world is built for it).
DEMO_MANIFEST = Path("manifests") / "demo.yaml"


def demo_manifest(cwd: Path | None = None) -> Path | None:
    """The demo manifest: ./manifests/demo.yaml, else the repository's copy next to this package
    (a checkout or an editable install), so `bootstrap demo` works from any directory; None when
    neither exists (an installed wheel carries no manifests)."""
    here = (cwd or Path.cwd()) / DEMO_MANIFEST
    if here.is_file():
        return here
    repository = Path(__file__).resolve().parents[2] / DEMO_MANIFEST
    return repository if repository.is_file() else None


# project id -> (final status after apply + audit, the cause that explains it, if any)
EXPECTED: dict[str, tuple[ProjectStatus, str | None]] = {
    "demo-ready": (ProjectStatus.OK, None),
    "demo-no-billing": (ProjectStatus.OK, None),
    "demo-api-disabled": (ProjectStatus.OK, None),
    "demo-model-off": (ProjectStatus.ACTION_REQUIRED, "MODEL_NOT_ENABLED"),
    "demo-closed-billing": (ProjectStatus.FAILED, "BILLING_ACCOUNT_CLOSED"),
    "demo-deleting": (ProjectStatus.FAILED, "PROJECT_DELETE_REQUESTED"),
    "demo-policy-blocked": (ProjectStatus.ACTION_REQUIRED, "ORG_POLICY_DENIED"),
    "demo-quota-zero": (ProjectStatus.ACTION_REQUIRED, "QUOTA_ZERO"),
    "demo-new": (ProjectStatus.OK, None),
    "demo-grant": (ProjectStatus.OK, None),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoRun:
    plan: RunReport
    apply: RunReport
    audit: RunReport


@contextmanager
def emulator_environment() -> Iterator[Callable[[float], None]]:
    """Start the emulator with its default world and point bootstrap at it.

    Yields the function that advances the emulator's clock.
    """
    from bootstrap.emulator.inprocess import Emulator

    saved = {
        key: os.environ.get(key) for key in ("BOOTSTRAP_EMULATOR_HOST", "BOOTSTRAP_EMULATOR_TOKEN")
    }
    with Emulator() as emulator:
        os.environ["BOOTSTRAP_EMULATOR_HOST"] = emulator.host
        os.environ["BOOTSTRAP_EMULATOR_TOKEN"] = "emulator-owner"
        try:
            yield emulator.advance
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def mismatches(report: RunReport) -> list[str]:
    """Projects that did not end as the demo world designed them, as sentences."""
    problems = []
    seen = {project.project_id: project for project in report.projects}
    for project_id, (status, cause) in EXPECTED.items():
        project = seen.get(project_id)
        if project is None:
            problems.append(f"{project_id} is missing from the report")
            continue
        causes = {check.cause for check in project.checks if check.cause}
        if project.status is not status or (cause is not None and cause not in causes):
            got = ", ".join(sorted(c for c in causes if c)) or "no cause"
            want = f"{status.value}" + (f" ({cause})" if cause else "")
            problems.append(f"{project_id} ended {project.status.value} ({got}), expected {want}")
    return problems


def expected_summary() -> Sequence[str]:
    return [
        f"{project_id}: {status.value}" + (f" ({cause})" if cause else "")
        for project_id, (status, cause) in EXPECTED.items()
    ]

"""Which smoke cases a run streams: one per project x model x location that is ready.

A case whose model check is not ready gets a skipped smoke check pointing at that model check;
the rest go to `bootstrap.smoke.runner` in one call (one HTTP client and one SDK client per run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from bootstrap.checks import Check, CheckStatus, depends_on, smoke_check, target_key
from bootstrap.cloud.protocol import Cloud
from bootstrap.manifest.desired import DesiredModel, DesiredProject, SmokeSettings
from bootstrap.smoke.case import SmokeCase


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeOptions:
    enabled: bool
    settings: SmokeSettings
    checks: frozenset[str] = frozenset()


def smoke_models(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    blocker: Callable[[str, str], tuple[str, CheckStatus] | None],
    *,
    smoke: SmokeOptions,
    concurrency: int,
    as_of: dt.date,
    sleep: Callable[[float], None],
    pool: Callable[[int], Executor] | None = None,
) -> dict[str, list[Check]]:
    """One streaming smoke test per project x model x location; a case for which
    `blocker(project, alias@loc)` names a check (and its status) is not run and says so."""
    # The openai SDK is imported only by runs that stream (plan and --no-smoke never pay for it).
    from bootstrap.smoke.runner import run_smoke

    work, by_project = _cases(projects, blocker)
    if not work:
        return by_project
    checks = run_smoke(
        work,
        settings=smoke.settings,
        tokens=cloud.tokens(),
        vertex_root=cloud.vertex_root,
        checks=smoke.checks,
        concurrency=concurrency,
        as_of=as_of,
        sleep=sleep,
        pool=pool,
    )
    per_case = len(checks) // len(work)  # run_smoke answers case by case, kinds in a fixed order
    for index, case in enumerate(work):
        by_project[case.project_id].extend(checks[index * per_case : (index + 1) * per_case])
    return by_project


def _cases(
    projects: Sequence[DesiredProject],
    blocker: Callable[[str, str], tuple[str, CheckStatus] | None],
) -> tuple[list[SmokeCase], dict[str, list[Check]]]:
    """The cases to stream, and per project the not-run smoke checks of the others."""
    by_project: dict[str, list[Check]] = {p.project_id: [] for p in projects}
    work: list[SmokeCase] = []
    for desired in projects:
        for model, location in _model_locations(desired):
            key = target_key(model.alias, location)
            waits_on = blocker(desired.project_id, key)
            if waits_on is None:
                work.append(_case(desired.project_id, model, location))
                continue
            by_project[desired.project_id].append(
                Check(
                    name=smoke_check(key), status=CheckStatus.NOT_RUN, detail=depends_on(*waits_on)
                )
            )
    return work, by_project


def _case(project_id: str, model: DesiredModel, location: str) -> SmokeCase:
    return SmokeCase(
        project_id=project_id,
        alias=model.alias,
        request_model=model.request_model,
        publisher_model=model.publisher_model,
        location=location,
    )


def _model_locations(desired: DesiredProject) -> list[tuple[DesiredModel, str]]:
    return [(model, location) for model in desired.models for location in model.locations]

"""The jobs behind the commands: plan, apply, audit and smoke, from desired state to a RunReport.

No printing here (the CLI owns the terminal); progress goes through the event sink. Smoke tests
run only for models the reconcile found ready; the others get a skipped smoke check that points
at the model check explaining why.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bootstrap.clock import Clock
from bootstrap.cloud import Cloud
from bootstrap.desired import DesiredModel, DesiredProject, SmokeSettings
from bootstrap.outcome import Command, project_report, run_report
from bootstrap.plan import Check, CheckStatus, ProjectPlan
from bootstrap.reconcile import Reconciler
from bootstrap.report.model import RunReport
from bootstrap.results import EventSink, ProjectResult, RunOptions

READY = (CheckStatus.OK, CheckStatus.CHANGED)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeOptions:
    enabled: bool
    settings: SmokeSettings
    checks: frozenset[str] = frozenset()


def run_job(
    command: Command,
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    *,
    options: RunOptions,
    smoke: SmokeOptions,
    clock: Clock,
    on_event: EventSink | None = None,
    warnings: Sequence[str] = (),
    cancel: threading.Event | None = None,
) -> RunReport:
    """Reconcile (observe, plan, and apply when options.apply), then smoke-test what is ready."""
    started_at = dt.datetime.now(dt.UTC)
    started = clock.now()
    reconciler = Reconciler(cloud, options=options, clock=clock, on_event=on_event, cancel=cancel)
    try:
        results = reconciler.run(projects)
    finally:
        reconciler.close()
    smoke_checks: dict[str, list[Check]] = {}
    if smoke.enabled:
        ready = {
            (result.project_id, check.name)
            for result in results
            for check in result.plan.checks
            if check.status in READY
        }
        smoke_checks = smoke_models(
            cloud,
            projects,
            lambda project_id, name: (project_id, f"model:{name}") in ready,
            smoke=smoke,
            concurrency=options.concurrency,
            as_of=options.as_of,
            sleep=clock.sleep,
        )
    reports = [project_report(r, smoke_checks.get(r.project_id, ())) for r in results]
    return run_report(
        command,
        reports,
        started_at=started_at,
        duration_s=clock.now() - started,
        warnings=warnings,
        metrics=_run_metrics(cloud),
    )


def run_smoke_job(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    *,
    smoke: SmokeOptions,
    concurrency: int,
    as_of: dt.date,
    clock: Clock,
) -> RunReport:
    """`bootstrap smoke`: only the streaming smoke tests, for every model and location."""
    started_at = dt.datetime.now(dt.UTC)
    started = clock.now()
    checks = smoke_models(
        cloud,
        projects,
        lambda _p, _n: True,
        smoke=smoke,
        concurrency=concurrency,
        as_of=as_of,
        sleep=clock.sleep,
    )
    reports = [
        project_report(
            ProjectResult(project_id=p.project_id, plan=ProjectPlan(project_id=p.project_id)),
            checks[p.project_id],
        )
        for p in projects
    ]
    return run_report(
        Command.SMOKE,
        reports,
        started_at=started_at,
        duration_s=clock.now() - started,
        metrics=_run_metrics(cloud),
    )


def smoke_models(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    ready: Callable[[str, str], bool],
    *,
    smoke: SmokeOptions,
    concurrency: int,
    as_of: dt.date,
    sleep: Callable[[float], None],
) -> dict[str, list[Check]]:
    """One streaming smoke test per project x model x location that `ready(project, alias@loc)`."""
    from bootstrap.smoke import SmokeCase, run_smoke

    by_project: dict[str, list[Check]] = {p.project_id: [] for p in projects}
    work: list[tuple[str, SmokeCase]] = []
    for desired in projects:
        for model, location in _model_locations(desired):
            name = f"{model.alias}@{location}"
            if ready(desired.project_id, name):
                case = SmokeCase(
                    project_id=desired.project_id,
                    alias=model.alias,
                    request_model=model.request_model,
                    publisher_model=model.publisher_model,
                    location=location,
                )
                work.append((desired.project_id, case))
            else:
                by_project[desired.project_id].append(
                    Check(
                        name=f"smoke:{name}",
                        status=CheckStatus.SKIPPED,
                        detail=f"not run: see check model:{name}",
                    )
                )
    if not work:
        return by_project
    # One call for every case: one HTTP client and one SDK client per base URL for the run.
    checks = run_smoke(
        [case for _, case in work],
        settings=smoke.settings,
        tokens=cloud.tokens(),
        vertex_root=cloud.vertex_root,
        checks=smoke.checks,
        concurrency=concurrency,
        as_of=as_of,
        sleep=sleep,
    )
    per_case = len(checks) // len(work)  # run_smoke answers case by case, kinds in a fixed order
    for index, (project_id, _) in enumerate(work):
        by_project[project_id].extend(checks[index * per_case : (index + 1) * per_case])
    return by_project


def _model_locations(desired: DesiredProject) -> list[tuple[DesiredModel, str]]:
    return [(model, location) for model in desired.models for location in model.locations]


def _run_metrics(cloud: Cloud) -> dict[str, float | int | str]:
    stats = cloud.stats
    return {
        "requests": sum(stats.requests.values()),
        "retries": stats.retries,
        "rate_limited": stats.rate_limited,
    }


def discover_projects(
    cloud: Cloud,
    *,
    parent: str,
    labels: dict[str, str],
    models: Sequence[DesiredModel],
) -> list[DesiredProject]:
    """The parent's direct child projects matching every label, with the readiness policy.

    projects.search matches ANY of several terms, so labels are filtered here as AND.
    """
    found = []
    for project in cloud.search_projects(parent=parent):
        if project.parent not in (None, parent):
            continue
        if all(project.labels.get(key) == value for key, value in labels.items()):
            found.append(
                DesiredProject(
                    project_id=project.project_id,
                    models=tuple(models),
                    source=f"{parent} (discovered)",
                )
            )
    return sorted(found, key=lambda p: p.project_id)

"""The jobs behind the commands: plan, apply, audit and smoke, from desired state to a RunReport.

No printing here (the CLI owns the terminal); progress goes through the event sink. Smoke tests
run only for models the reconcile found ready (`bootstrap.smoke.suite` schedules them).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from bootstrap.checks import MODEL_PREFIX, Check, CheckStatus
from bootstrap.clock import Clock
from bootstrap.cloud.protocol import Cloud
from bootstrap.jobs.status import Command, project_report, run_report
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import ProjectPlan
from bootstrap.reconcile.options import RunOptions
from bootstrap.reconcile.results import EventSink, ProjectResult
from bootstrap.reconcile.run import Reconciler
from bootstrap.report.model import RunReport
from bootstrap.smoke.suite import SmokeOptions, smoke_models

READY = (CheckStatus.OK, CheckStatus.CHANGED)


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
    smoke_checks = _smoke_ready(cloud, projects, results, smoke=smoke, options=options, clock=clock)
    reports = [project_report(r, smoke_checks.get(r.project_id, ())) for r in results]
    return run_report(
        command,
        reports,
        started_at=started_at,
        duration_s=clock.now() - started,
        warnings=warnings,
        metrics=_run_metrics(cloud),
    )


def _smoke_ready(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    results: Sequence[ProjectResult],
    *,
    smoke: SmokeOptions,
    options: RunOptions,
    clock: Clock,
) -> dict[str, list[Check]]:
    """Smoke-test the models whose model check the reconcile found ready."""
    if not smoke.enabled:
        return {}
    ready = {
        (result.project_id, check.name)
        for result in results
        for check in result.plan.checks
        if check.status in READY
    }
    return smoke_models(
        cloud,
        projects,
        lambda project_id, key: (project_id, MODEL_PREFIX + key) in ready,
        smoke=smoke,
        concurrency=options.concurrency,
        as_of=options.as_of,
        sleep=clock.sleep,
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


def _run_metrics(cloud: Cloud) -> dict[str, float | int | str]:
    stats = cloud.stats
    return {
        "requests": sum(stats.requests.values()),
        "retries": stats.retries,
        "rate_limited": stats.rate_limited,
    }

"""The jobs behind the commands: plan, apply, audit and smoke, from desired state to a RunReport.

No printing here (the CLI owns the terminal); progress goes through the event sink. Smoke tests
run only for models the reconcile found ready (`bootstrap.smoke.suite` schedules them).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from bootstrap.checks import (
    MODEL_PREFIX,
    PASSED,
    Check,
    CheckStatus,
    access_check,
    check_target,
    is_model_check,
    is_smoke,
)
from bootstrap.clock import Clock, is_virtual, worker_pool
from bootstrap.cloud.observed import ModelAccess
from bootstrap.cloud.protocol import Cloud
from bootstrap.errors import Cause
from bootstrap.exitcodes import Command
from bootstrap.jobs import inventory as bulk
from bootstrap.jobs.counting import counting
from bootstrap.jobs.smoke_state import explain_from_state
from bootstrap.jobs.status import project_report, run_report
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import ProjectPlan
from bootstrap.reconcile.events import Wait, Waited, Waiting
from bootstrap.reconcile.gates import wait_until
from bootstrap.reconcile.options import RunOptions
from bootstrap.reconcile.results import EventSink, ProjectResult
from bootstrap.reconcile.run import Reconciler
from bootstrap.report.model import ProjectReport, RunReport
from bootstrap.report.run import RunInfo
from bootstrap.smoke.case import SmokeCase
from bootstrap.smoke.suite import SmokeOptions, smoke_models


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
    run: RunInfo | None = None,
    prefetch: bulk.Prefetch | None = None,
) -> RunReport:
    """Reconcile (observe, plan, and apply when options.apply), then smoke-test what is ready.
    `prefetch`: the run's bulk inventory reads (jobs/inventory.py), if it made any."""
    started_at = dt.datetime.now(dt.UTC)
    elapsed = _Elapsed(clock)
    inventory = prefetch.inventory if prefetch else None
    reconciler = Reconciler(
        cloud, options=options, clock=clock, on_event=on_event, cancel=cancel, inventory=inventory
    )
    results, judged = _reconciled(reconciler, projects)
    split = {"processes": reconciler.processes} if reconciler.processes > 1 else {}
    warnings = [*(prefetch.warnings if prefetch else ()), *warnings]
    smoke_checks = _smoke_ready(
        cloud, projects, results, smoke=smoke, options=options, clock=clock, on_event=on_event
    )
    reports = [_with_smoke(r, smoke_checks.get(r.project_id, [])) for r in results]
    return run_report(
        command,
        reports,
        started_at=started_at,
        duration_s=elapsed.wall_s(),
        warnings=warnings,
        metrics=_run_metrics(cloud) | split | elapsed.virtual() | bulk.metrics(prefetch, judged),
        run=run,
    )


def _reconciled(
    reconciler: Reconciler, projects: Sequence[DesiredProject]
) -> tuple[list[ProjectResult], frozenset[str]]:
    """Every project's result, those judged from the inventory marked so, and which they are."""
    try:
        results = reconciler.run(projects)
        judged = reconciler.observer.inventory_judged()
    finally:
        reconciler.close()
    checks = bulk.judged_checks(reconciler.observer.inventory)
    return bulk.marked(results, judged, checks), judged


def _smoke_ready(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    results: Sequence[ProjectResult],
    *,
    smoke: SmokeOptions,
    options: RunOptions,
    clock: Clock,
    on_event: EventSink | None = None,
) -> dict[str, list[Check]]:
    """Smoke-test every model whose model check passed, or could not be verified otherwise."""
    if not smoke.enabled:
        return {}
    checks = {(r.project_id, c.name): c for r in results for c in r.plan.checks}
    not_ok = {r.project_id: [c for c in r.plan.checks if c.status not in PASSED] for r in results}

    def blocker(project_id: str, key: str) -> tuple[str, CheckStatus] | None:
        model = checks.get((project_id, MODEL_PREFIX + key))
        others = [c for c in not_ok.get(project_id, []) if c is not model]
        if model is not None and model.status in PASSED:
            return None
        if model is not None and model.status is CheckStatus.UNKNOWN and not others:
            return None  # nothing else is wrong: only the stream can tell (e.g. --no-probe)
        waits_on = model or others[0]
        return waits_on.name, waits_on.status

    return smoke_models(
        cloud,
        projects,
        blocker,
        smoke=smoke,
        concurrency=options.concurrency,
        as_of=options.as_of,
        sleep=clock.sleep,
        pool=counting(partial(worker_pool, clock, thread_name_prefix="smoke"), on_event),
        granted_now=lambda project_id, member: (
            (granted := checks.get((project_id, access_check(member)))) is not None
            and granted.status is CheckStatus.CHANGED
        ),
        on_wait=partial(_tell_grant_wait, on_event) if on_event else None,
    )


def _tell_grant_wait(
    on_event: EventSink, cases: Sequence[SmokeCase], waited_s: float | None
) -> None:
    """The smoke phase waiting out IAM propagation, told per project as a propagation wait."""
    for case in cases:
        subject = access_check(case.run_as or "")
        if waited_s is None:
            on_event(case.project_id, Waiting(wait=Wait.PROPAGATION, subject=subject))
        else:
            on_event(
                case.project_id, Waited(wait=Wait.PROPAGATION, subject=subject, waited_s=waited_s)
            )


def _verified_by_smoke(checks: Sequence[Check], smoke: Sequence[Check]) -> list[Check]:
    """A check nothing else could verify (unknown) is ok once a smoke test proved it: a model
    check by its model's stream, an `access:<member>` check by a stream run as that member."""
    passed = [c for c in smoke if c.status in PASSED and is_smoke(c.name)]
    targets = {check_target(c.name) for c in passed}
    members = {access_check(str(c.metrics.get("run_as"))): c.name for c in passed}

    def proof(check: Check) -> str | None:
        if check.status is not CheckStatus.UNKNOWN:
            return None
        if is_model_check(check.name) and check_target(check.name) in targets:
            return "Verified by the smoke test."
        if check.name in members:
            return f"Verified by {members[check.name]}, run as this principal."
        return None

    return [
        replace(c, status=CheckStatus.OK, cause=None, remedy="", detail=f"{c.detail} {why}")
        if (why := proof(c)) is not None
        else c
        for c in checks
    ]


def _with_smoke(result: ProjectResult, smoke: Sequence[Check]) -> ProjectReport:
    plan = replace(result.plan, checks=tuple(_verified_by_smoke(result.plan.checks, smoke)))
    return project_report(replace(result, plan=plan), smoke)


def run_smoke_job(
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    *,
    smoke: SmokeOptions,
    concurrency: int,
    as_of: dt.date,
    clock: Clock,
    wait_ready_s: float = 0.0,
    run: RunInfo | None = None,
    on_event: EventSink | None = None,
) -> RunReport:
    """`bootstrap smoke`: only the streaming smoke tests, for every model and location; with
    `wait_ready_s`, first wait (bounded) until each model's data plane stops answering as if
    billing or its APIs were off."""
    started_at = dt.datetime.now(dt.UTC)
    elapsed = _Elapsed(clock)
    if wait_ready_s > 0:
        _wait_until_servable(cloud, projects, clock=clock, deadline_s=wait_ready_s)
    checks = smoke_models(
        cloud,
        projects,
        lambda _project, _key: None,
        smoke=smoke,
        concurrency=concurrency,
        as_of=as_of,
        sleep=clock.sleep,
        pool=counting(partial(worker_pool, clock, thread_name_prefix="smoke"), on_event),
    )
    checks = explain_from_state(cloud, projects, checks)  # no plan here: read the state once
    reports = [_smoke_only(p.project_id, checks[p.project_id]) for p in projects]
    return run_report(
        Command.SMOKE,
        reports,
        started_at=started_at,
        duration_s=elapsed.wall_s(),
        metrics=_run_metrics(cloud) | elapsed.virtual(),
        run=run,
    )


def _smoke_only(project_id: str, checks: Sequence[Check]) -> ProjectReport:
    """A project's report of a smoke-only run: its smoke checks and nothing planned."""
    empty = ProjectResult(project_id=project_id, plan=ProjectPlan(project_id=project_id))
    return project_report(empty, checks)


def _wait_until_servable(
    cloud: Cloud, projects: Sequence[DesiredProject], *, clock: Clock, deadline_s: float
) -> None:
    """The readiness gate apply uses, on the model probe, one model and location at a time
    (the deadline is each one's: one lagging model must not starve the others)."""
    for desired in projects:
        for model in desired.models:
            for location in model.locations:
                wait_until(
                    partial(cloud.probe_model, desired.project_id, location, model.request_model),
                    lambda answer: answer.access is not ModelAccess.BLOCKED,
                    clock=clock,
                    deadline_s=deadline_s,
                    cause=Cause.SERVICE_DISABLED,
                    message="",
                    raise_on_timeout=False,
                )


def _run_metrics(cloud: Cloud) -> dict[str, float | int | str]:
    stats = cloud.stats
    return {
        "requests": sum(stats.requests.values()),
        "retries": stats.retries,
        "rate_limited": stats.rate_limited,
    }


class _Elapsed:
    """A run's duration. Reports show wall time; on a virtual clock (waits skipped, as on the
    emulator) the clock's duration is added as the `virtual_s` metric, labelled as such."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._wall = time.monotonic()
        self._virtual = clock.now()

    def wall_s(self) -> float:
        return time.monotonic() - self._wall

    def virtual(self) -> dict[str, float | int | str]:
        if not is_virtual(self._clock):
            return {}
        return {"virtual_s": round(self._clock.now() - self._virtual, 3)}

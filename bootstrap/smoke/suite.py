"""Which smoke cases a run streams: one per project x model x location that is ready.

A case whose model check is not ready gets a skipped smoke check pointing at that model check;
the rest go to `bootstrap.smoke.runner` in one call (one HTTP client and one SDK client per run).
A stream refused as rate limited is checked against the project's quota (one Cloud Quotas read
per project, only then): a limit of 0 makes it QUOTA_ZERO, since that 429 looks like a busy one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from bootstrap.causes.classify import known_zero_quota
from bootstrap.causes.context import CallContext
from bootstrap.checks import Check, CheckStatus, depends_on, smoke_check, target_key
from bootstrap.cloud.protocol import Cloud
from bootstrap.cloud.quota import ObservedQuotas, zero_quota_remedy
from bootstrap.errors import BootstrapError, Cause
from bootstrap.manifest.desired import DesiredModel, DesiredProject, SmokeSettings
from bootstrap.smoke.case import SmokeCase
from bootstrap.smoke.grants import OnWait, Stream, wait_out_grants


@dataclass(frozen=True, slots=True, kw_only=True)
class SmokeOptions:
    enabled: bool
    settings: SmokeSettings
    checks: frozenset[str] = frozenset()
    # `--smoke-as`: every project's streams run as this member, whatever its manifest says.
    smoke_as: str | None = None


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
    granted_now: Callable[[str, str], bool] | None = None,
    on_wait: OnWait | None = None,
) -> dict[str, list[Check]]:
    """One streaming smoke test per project x model x location; a case for which
    `blocker(project, alias@loc)` names a check (and its status) is not run and says so.
    `granted_now(project, member)`: this run granted the member its role, so a refusal of a
    stream run as that member may be IAM propagation (bootstrap.smoke.grants waits it out)."""
    work, by_project = _cases(projects, blocker, smoke.smoke_as)
    if not work:
        return by_project
    stream = _streamer(cloud, smoke, concurrency=concurrency, as_of=as_of, sleep=sleep, pool=pool)
    results = stream(work)
    if granted_now is not None:
        results = wait_out_grants(
            work, results, stream, granted_now=granted_now, sleep=sleep, on_wait=on_wait
        )
    quotas = _QuotaReads(cloud, work)
    for case, mine in zip(work, results, strict=True):
        by_project[case.project_id].extend(
            _ran_as(case, quotas.judge(case, check, as_of)) for check in mine
        )
    return by_project


def _streamer(
    cloud: Cloud,
    smoke: SmokeOptions,
    *,
    concurrency: int,
    as_of: dt.date,
    sleep: Callable[[float], None],
    pool: Callable[[int], Executor] | None,
) -> Stream:
    """Cases -> each case's checks, in the cases' order (run_smoke answers case by case)."""
    # The openai SDK is imported only by runs that stream (plan and --no-smoke never pay for it).
    from bootstrap.smoke.runner import run_smoke

    def stream(cases: Sequence[SmokeCase]) -> list[list[Check]]:
        checks = run_smoke(
            cases,
            settings=smoke.settings,
            tokens=cloud.tokens(),
            tokens_as=cloud.tokens_as,
            vertex_root=cloud.vertex_root,
            checks=smoke.checks,
            concurrency=concurrency,
            as_of=as_of,
            sleep=sleep,
            pool=pool,
        )
        per_case = len(checks) // len(cases)
        return [checks[i * per_case : (i + 1) * per_case] for i in range(len(cases))]

    return stream


def _ran_as(case: SmokeCase, check: Check) -> Check:
    """The report says whose token each stream carried: the member, or the run's own."""
    return replace(check, metrics={**check.metrics, "run_as": case.run_as or "caller"})


class _QuotaReads:
    """The projects' quotas, read only for a project whose stream was refused as rate limited."""

    def __init__(self, cloud: Cloud, work: Sequence[SmokeCase]) -> None:
        self._cloud = cloud
        self._work = work
        self._read: dict[str, ObservedQuotas | None] = {}

    def judge(self, case: SmokeCase, check: Check, as_of: dt.date) -> Check:
        """`check`, or QUOTA_ZERO when it is the rate-limited stream of a model whose quota is 0."""
        if check.cause is not Cause.RATE_LIMITED or check.name != smoke_check(case.key):
            return check
        quotas = self._quotas(case.project_id)
        found = quotas.find(case.publisher_model, case.location) if quotas else None
        zero = found.zero if found else ()
        if not zero:
            return check
        context = CallContext(
            project_id=case.project_id,
            location=case.location,
            publisher_model=case.publisher_model,
            as_of=as_of,
        )
        failure = known_zero_quota(
            context, quota_id=zero[0].quota_id, base_model=zero[0].base_model
        )
        model = case.publisher_model.rsplit("/", 1)[-1]
        remedy = zero_quota_remedy(case.project_id, zero[0], case.location, model)
        return replace(check, cause=failure.cause, detail=failure.message, remedy=remedy)

    def _quotas(self, project_id: str) -> ObservedQuotas | None:
        if project_id not in self._read:
            wanted = [
                (c.publisher_model, c.location) for c in self._work if c.project_id == project_id
            ]
            try:
                self._read[project_id] = self._cloud.get_model_quotas(project_id, wanted)
            except BootstrapError:
                self._read[project_id] = None  # unreadable: the 429 stays what it said
        return self._read[project_id]


def _cases(
    projects: Sequence[DesiredProject],
    blocker: Callable[[str, str], tuple[str, CheckStatus] | None],
    smoke_as: str | None,
) -> tuple[list[SmokeCase], dict[str, list[Check]]]:
    """The cases to stream, and per project the not-run smoke checks of the others."""
    by_project: dict[str, list[Check]] = {p.project_id: [] for p in projects}
    work: list[SmokeCase] = []
    for desired in projects:
        for model, location in _model_locations(desired):
            key = target_key(model.alias, location)
            waits_on = blocker(desired.project_id, key)
            if waits_on is None:
                run_as = smoke_as or desired.smoke_as
                work.append(_case(desired.project_id, model, location, run_as))
                continue
            by_project[desired.project_id].append(
                Check(
                    name=smoke_check(key), status=CheckStatus.NOT_RUN, detail=depends_on(*waits_on)
                )
            )
    return work, by_project


def _case(project_id: str, model: DesiredModel, location: str, run_as: str | None) -> SmokeCase:
    return SmokeCase(
        project_id=project_id,
        alias=model.alias,
        request_model=model.request_model,
        publisher_model=model.publisher_model,
        location=location,
        run_as=run_as,
    )


def _model_locations(desired: DesiredProject) -> list[tuple[DesiredModel, str]]:
    return [(model, location) for model in desired.models for location in model.locations]

"""`bootstrap plan`, `apply` and `audit`: the reconciling commands.

plan and audit never write (the emulator's journal proves it in tests); apply shows the plan,
asks on a TTY unless --yes, refuses without --yes when stdin is not a TTY, then applies.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import click

from bootstrap.cli import runtime
from bootstrap.cli.options import (
    CloudOptions,
    ShardRequest,
    as_of_option,
    cloud_options,
    parse_duration,
    parse_processes,
    report_options,
    shard_options,
    skip_option,
    smoke_as_option,
)
from bootstrap.cli.paths import ExistingPath
from bootstrap.cli.progress import RetryRelay, progress
from bootstrap.cli.runtime import guarded
from bootstrap.cli.wiring import (
    check_inputs,
    confirm_apply,
    connect,
    emit_report,
    load_desired,
    plan_summary,
    select_shard,
    stop_if_unreachable,
    today,
)

if TYPE_CHECKING:
    from bootstrap.clock import Clock
    from bootstrap.cloud.inventory import InventorySearch
    from bootstrap.cloud.protocol import Cloud
    from bootstrap.exitcodes import Command
    from bootstrap.jobs.discovery import Discovery
    from bootstrap.jobs.inventory import Prefetch
    from bootstrap.manifest.desired import DesiredModel, DesiredProject, SmokeSettings
    from bootstrap.reconcile.options import RunOptions
    from bootstrap.report.model import RunReport
    from bootstrap.report.run import RunInfo
    from bootstrap.smoke.suite import SmokeOptions

manifests_argument = click.argument("manifests", nargs=-1, type=ExistingPath())
no_probe_option = click.option(
    "--no-probe", is_flag=True, help="Skip the model probe: models are reported as unknown."
)
no_smoke_option = click.option(
    "--no-smoke", is_flag=True, help="Do not end with the streaming smoke test."
)
check_option = click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Choice(["tools", "json"]),
    help="Extra smoke checks: a tool-calling round trip, structured JSON output.",
)
inventory_option = click.option(
    "--inventory",
    type=click.Choice(["auto", "direct", "asset"]),
    default="auto",
    show_default=True,
    help="Where projects, billing links, enabled APIs, effective org policies and IAM policies "
    "are read: per project (direct), or in pages from Cloud Asset Inventory and Cloud Billing "
    "(asset; anything not compliant there is re-read directly); auto picks asset above 500 "
    "projects under one folder or organization.",
)
processes_option = click.option(
    "--processes",
    metavar="auto|N",
    callback=lambda _ctx, _param, value: parse_processes(value),
    default="auto",
    show_default=True,
    help="Worker processes for the per-project reads (plan and audit; apply runs in one). One "
    "process sends ~200-280 requests a second before its CPU is the limit; auto gives each "
    "core (up to 4) 500 projects or more on Linux.",
)
relink_option = click.option(
    "--allow-relink",
    is_flag=True,
    help="Move projects linked to another billing account (never done otherwise).",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRequest:
    """What one invocation asked for, whatever the command."""

    command: str
    manifests: tuple[str, ...]
    cloud: CloudOptions
    fmt: str
    outputs: tuple[str, ...]
    as_of: dt.date | None
    shard: str | None
    shard_count: int | None = None
    run_id: str | None = None
    apply: bool = False
    yes: bool = False
    smoke: bool = False
    checks: tuple[str, ...] = ()
    smoke_as: str | None = None
    skip: tuple[str, ...] = ()  # audit --skip: groups of reads left out
    allow_relink: bool = False
    no_probe: bool = False
    parent: str | None = None
    labels: tuple[str, ...] = ()
    models: tuple[str, ...] = field(default=())
    wait_ready: float = 0.0
    allow_empty: bool = False
    direct_only: bool = False
    inventory: str = "auto"  # plan and audit --inventory; apply always reads directly
    processes: int | None = 1  # plan and audit --processes (None: auto); apply runs in one


@click.command()
@manifests_argument
@relink_option
@no_probe_option
@inventory_option
@processes_option
@shard_options
@as_of_option
@cloud_options
@report_options
@guarded
def plan(manifests: tuple[str, ...], **options: Any) -> None:
    """Show what apply would change (read only).

    Exit 0 converged, 2 changes pending, 3 only a person's action remains, 1 errors.
    """
    _run(JobRequest(command="plan", manifests=manifests, **options))


@click.command()
@manifests_argument
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@relink_option
@no_probe_option
@no_smoke_option
@check_option
@smoke_as_option
@shard_options
@as_of_option
@cloud_options
@report_options
@guarded
def apply(manifests: tuple[str, ...], no_smoke: bool, **options: Any) -> None:
    """Make projects match their manifests, then prove each model answers.

    Never disables an API, unlinks billing or deletes anything. Shows the plan and a summary,
    then asks on a terminal (--yes to skip); declining changes nothing and exits 2 (changes
    pending). Exit 0 converged, 3 a person must act, 1 failures.
    """
    _check_smoke_options(no_smoke, options["checks"], options["smoke_as"])
    request = JobRequest(
        command="apply", manifests=manifests, apply=True, smoke=not no_smoke, **options
    )
    _run(request)


@click.command()
@manifests_argument
@click.option(
    "--parent",
    metavar="folders/N|organizations/N",
    help="Audit the projects under this parent (sub-folders included) instead of manifests.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="With --parent: only projects with this label (repeat: all must match).",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="ALIAS@LOCATION",
    help="With --parent: a model each project must be ready for (default gpt-oss-120b@global).",
)
@click.option(
    "--direct-only",
    is_flag=True,
    help="With --parent: only the parent's direct child projects (default: every folder below).",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="With --parent: finding no project is not an error (exit 0 instead of 1).",
)
@click.option(
    "--wait-ready",
    metavar="DURATION",
    callback=parse_duration,
    default="0",
    help="Wait up to DURATION (e.g. 90s, 10m) for changes still propagating to the data plane, "
    "re-reading with the readiness gates apply uses, then judge.",
)
@no_probe_option
@no_smoke_option
@check_option
@smoke_as_option
@skip_option
@inventory_option
@processes_option
@shard_options
@as_of_option
@cloud_options
@report_options
@guarded
def audit(manifests: tuple[str, ...], no_smoke: bool, **options: Any) -> None:
    """Report how far projects are from ready, smoke test included (read only).

    Exit 0 only when every wanted check passed; 2 findings (pending, propagating, failed,
    needing a person); 1 when something could not be read or verified, or nothing was found.
    """
    _check_smoke_options(no_smoke, options["checks"], options["smoke_as"])
    request = JobRequest(command="audit", manifests=manifests, smoke=not no_smoke, **options)
    _run(request)


def _check_smoke_options(no_smoke: bool, checks: Sequence[str], smoke_as: str | None) -> None:
    """--check and --smoke-as shape the smoke test; with --no-smoke they would be dropped
    without a word."""
    if no_smoke and checks:
        flags = " ".join(f"--check {check}" for check in checks)
        raise click.UsageError(f"{flags} runs in the smoke test; drop --no-smoke or {flags}")
    if no_smoke and smoke_as:
        raise click.UsageError("--smoke-as runs the smoke test; drop --no-smoke or --smoke-as")


def _run(request: JobRequest) -> None:
    from bootstrap.exitcodes import Command
    from bootstrap.smoke.suite import SmokeOptions

    check_inputs(request.outputs)  # before the first request: a lost report costs a run
    date = today(request.as_of)
    clock = runtime.cancellable_clock()
    relay = RetryRelay()
    projects, settings, cloud, partial, swept = _projects(request, date, clock, relay)
    shards = ShardRequest(
        shard=request.shard, shard_count=request.shard_count, run_id=request.run_id
    )
    projects, run = select_shard(projects, shards, os.environ, command=request.command, date=date)
    if partial:  # a folder could not be listed: what it holds was not judged
        run = replace(run, partial=True)
    options = _run_options(request, date)
    smoke = SmokeOptions(
        enabled=request.smoke and settings.enabled,
        settings=settings,
        checks=frozenset(request.checks),
        smoke_as=request.smoke_as,
    )
    if request.apply and not (request.yes and request.fmt != "table"):
        # The preview is shown (table) or asked about; with --yes and another format nobody
        # would see it, and observing every project twice doubles the reads of a large apply.
        plan = Command.PLAN
        preview = _job(plan, cloud, projects, options, clock, relay, replace(smoke, enabled=False))
        _review(preview, request)
    if request.apply:
        options = replace(options, apply=True)
    warnings = [*partial, *_smoke_warnings(request, settings)]
    command = Command(request.command)
    bulk = _prefetch(request, cloud, projects, swept)
    report = _job(command, cloud, projects, options, clock, relay, smoke, warnings, run, bulk)
    emit_report(report, request.fmt, request.outputs)
    sys.exit(report.exit_code)


def _run_options(request: JobRequest, date: dt.date) -> RunOptions:
    from bootstrap.reconcile.options import RunOptions

    return RunOptions(
        as_of=date,
        allow_relink=request.allow_relink,
        probe=not request.no_probe,
        org_policy="policy" not in request.skip,
        quota="quota" not in request.skip,
        # An audit reports findings; whether the auditor could fix them is not one of them.
        preflight=request.command != "audit",
        concurrency=request.cloud.concurrency,
        findings=request.command == "audit",
        wait_ready_s=request.wait_ready,
        processes=request.processes,
    )


def _review(preview: RunReport, request: JobRequest) -> None:
    """Show the plan (table), then its summary just above the prompt, then ask."""
    if request.fmt == "table":
        emit_report(preview, "table", ())
    change_count = sum(len(p.changes) for p in preview.projects)
    if change_count or request.fmt == "table":
        click.echo(plan_summary(preview), err=True, nl=False)
    confirm_apply(request.yes, change_count)


def _prefetch(
    request: JobRequest,
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    swept: InventorySearch | None,
) -> Prefetch | None:
    """plan and audit: the bulk inventory reads `--inventory` asks for (jobs/inventory.py)."""
    from bootstrap.cloud.inventory import InventoryMode
    from bootstrap.jobs import inventory

    if request.command not in ("plan", "audit"):
        return None
    scope = request.parent or inventory.common_scope(projects)
    mode = InventoryMode(request.inventory)
    return inventory.prefetch(
        cloud,
        projects,
        mode=mode,
        scope=scope,
        swept=swept,
        org_policy="policy" not in request.skip,
    )


def _swept_discovery(
    request: JobRequest, cloud: Cloud, parent: str, models: Sequence[DesiredModel]
) -> tuple[Discovery | None, InventorySearch | None, list[str]]:
    """--inventory asset with --parent: the Cloud Asset sweep is the discovery (None, and the
    fallback warning, when the caller may not search the parent: then the folder walk runs)."""
    from bootstrap.jobs import inventory
    from bootstrap.manifest.desired import DesiredProject

    if request.inventory != "asset":
        return None, None, []
    services = DesiredProject(project_id="-", models=tuple(models)).services
    swept, warning = inventory.search(cloud, parent, services)
    if swept is None:
        return None, None, [warning or ""]
    found = inventory.discover(
        swept,
        parent=parent,
        labels=_labels(request.labels),
        models=models,
        nested=not request.direct_only,
    )
    return found, swept, []


def _projects(
    request: JobRequest, date: dt.date, clock: Clock, relay: RetryRelay
) -> tuple[list[DesiredProject], SmokeSettings, Cloud, list[str], InventorySearch | None]:
    """The projects to work on, from manifests or discovered under --parent, the warnings of a
    partial discovery, and the Cloud Asset sweep when it was the discovery."""
    from bootstrap.jobs.discovery import NothingFound, discover_projects
    from bootstrap.manifest.desired import SmokeSettings

    if request.parent is None:
        if not request.manifests:
            also = ", or --parent folders/N" if request.command == "audit" else ""
            raise click.UsageError(f"give at least one manifest file or directory{also}")
        if request.labels or request.models:
            raise click.UsageError("--label and --model only apply with --parent")
        desired = load_desired(request.manifests, date)
        cloud = connect(request.cloud, as_of=date, clock=clock, on_retry_event=relay)
        return list(desired.projects), desired.smoke, cloud, [], None
    if request.manifests:
        raise click.UsageError("give either manifests or --parent, not both")
    models = _policy_models(request.models)
    cloud = connect(request.cloud, as_of=date, clock=clock, on_retry_event=relay)
    try:
        found, swept, fallback = _swept_discovery(request, cloud, _parent(request.parent), models)
        if found is None:
            found = discover_projects(
                cloud,
                parent=_parent(request.parent),
                labels=_labels(request.labels),
                models=models,
                nested=not request.direct_only,
                concurrency=request.cloud.concurrency,
            )
    except NothingFound:
        if not request.allow_empty:
            raise
        return [], SmokeSettings(), cloud, [], None
    return found.projects, SmokeSettings(), cloud, [*fallback, *found.warnings()], swept


def _job(
    command: Command,
    cloud: Cloud,
    projects: Sequence[DesiredProject],
    options: RunOptions,
    clock: Clock,
    relay: RetryRelay,
    smoke: SmokeOptions,
    warnings: Sequence[str] = (),
    run: RunInfo | None = None,
    bulk: Prefetch | None = None,
) -> RunReport:
    from bootstrap.clock import is_virtual
    from bootstrap.jobs.pipelines import run_job

    ids = [p.project_id for p in projects]
    with progress(ids, label=command.value, relay=relay, virtual=is_virtual(clock)) as on_event:
        report = run_job(
            command,
            cloud,
            projects,
            options=options,
            smoke=smoke,
            clock=clock,
            on_event=on_event,
            warnings=warnings,
            cancel=runtime.CANCEL,
            run=run,
            prefetch=bulk,
        )
    stop_if_unreachable(cloud)
    return report


def _smoke_warnings(request: JobRequest, settings: SmokeSettings) -> list[str]:
    """Say when a smoke test that would prove readiness was turned off."""
    if request.command == "plan":
        return []
    if not request.smoke:
        return ["smoke tests turned off (--no-smoke): nothing proved that a model answers"]
    if not settings.enabled:
        return ["smoke tests turned off (smoke_test.enabled: false in the manifest)"]
    return []


def _parent(value: str) -> str:
    kind, _, ident = value.partition("/")
    if kind not in ("folders", "organizations") or not ident.isdigit():
        raise click.BadParameter("must be folders/N or organizations/N", param_hint="--parent")
    return value


def _labels(values: Sequence[str]) -> dict[str, str]:
    labels = {}
    for value in values:
        key, sep, label_value = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} must be KEY=VALUE", param_hint="--label")
        labels[key] = label_value
    return labels


def _policy_models(values: Sequence[str]) -> tuple[DesiredModel, ...]:
    from bootstrap.catalog import lookup
    from bootstrap.manifest.desired import DesiredModel

    models = []
    for value in values or ("gpt-oss-120b@global",):
        alias, sep, location = value.partition("@")
        entry = lookup(alias)
        if entry is None or not sep:
            raise click.BadParameter(
                f"{value!r} must be ALIAS@LOCATION, e.g. gpt-oss-120b@global", param_hint="--model"
            )
        if location not in entry.locations:
            raise click.BadParameter(
                f"{entry.alias} is offered in {', '.join(entry.locations)}, not {location}",
                param_hint="--model",
            )
        models.append(
            DesiredModel(
                ref=alias,
                alias=entry.alias,
                publisher_model=entry.publisher_model,
                request_model=entry.request_model,
                locations=(location,),
            )
        )
    return tuple(models)

"""The steps the commands share between options and output: load, shard, connect, report, confirm.

Heavy modules (rich, the gcp layer, the loader) are imported inside the functions that use them
so that importing this module costs little.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import click

from bootstrap.cli.options import CloudOptions, ShardRequest
from bootstrap.cli.runtime import fail, watch
from bootstrap.exitcodes import ExitCode

if TYPE_CHECKING:
    from bootstrap.clock import Clock
    from bootstrap.cloud.protocol import Cloud
    from bootstrap.gcp.retry import RetryEvent
    from bootstrap.manifest.desired import Desired, DesiredProject
    from bootstrap.report.model import RunReport
    from bootstrap.report.run import RunInfo


def today(as_of: dt.date | None) -> dt.date:
    from bootstrap.catalog import today_utc

    return as_of or today_utc()


def load_desired(paths: Sequence[str], as_of: dt.date) -> Desired:
    """Load and validate manifests; print every diagnostic; exit 1 when any is an error."""
    from bootstrap.manifest.loader import load_manifests

    result = load_manifests(paths, as_of=as_of)
    for diagnostic in result.diagnostics:
        click.echo(diagnostic.render(), err=True)
    if result.desired is None:
        fail("the manifests above have errors; nothing was read or changed in the cloud")
    assert result.desired is not None
    return result.desired


def select_shard(
    projects: Sequence[DesiredProject],
    request: ShardRequest,
    env: Mapping[str, str],
    *,
    command: str,
    date: dt.date,
) -> tuple[list[DesiredProject], RunInfo]:
    """This task's shard of the projects (all of them when unsharded) and the run it belongs to.

    The population is the whole list before sharding, so every shard of one run records the
    same count and digest, and `report merge` can tell a missing shard.
    """
    from bootstrap.jobs.shard import population_digest, run_id, select, shard_from
    from bootstrap.report.run import RunInfo

    try:
        shard = shard_from(request.shard, env, shard_count=request.shard_count)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    ids = [p.project_id for p in projects]
    digest = population_digest(ids)
    run = RunInfo(
        id=run_id(request.run_id, env, command=command, digest=digest, today=date),
        started_at=dt.datetime.now(dt.UTC),
        shard_index=shard.index + 1 if shard else None,
        shard_count=shard.count if shard else None,
        population_count=len(ids),
        population_digest=digest,
    )
    if shard is None:
        return list(projects), run
    chosen = select(ids, shard)
    return [p for p in projects if p.project_id in chosen], run


def connect(
    options: CloudOptions,
    *,
    as_of: dt.date,
    clock: Clock | None = None,
    on_retry_event: Callable[[RetryEvent], None] | None = None,
) -> Cloud:
    """The cloud connection; `on_retry_event` is told every retry and wait of every call (the
    progress view's RetryRelay)."""
    from bootstrap.clock import SystemClock
    from bootstrap.gcp.client import connect as gcp_connect
    from bootstrap.gcp.ratelimit import parse_rate_limit_window
    from bootstrap.gcp.settings import settings_from_env

    rate_limits: dict[str, float] | None = None
    capacities: dict[str, float] = {}
    if options.no_rate_limit:
        rate_limits = {}
    elif options.rate_limits:
        try:
            parsed = [parse_rate_limit_window(spec) for spec in options.rate_limits]
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--rate-limit") from None
        rate_limits = {key: rate for key, rate, _ in parsed}
        capacities = {key: size for key, _, size in parsed if size is not None}
    settings = settings_from_env(
        concurrency=options.concurrency,
        rate_limits=rate_limits,
        rate_capacities=capacities or None,
        impersonate_service_account=options.impersonate_service_account,
        quota_project=options.quota_project,
        clock=clock or SystemClock(),
        as_of=as_of,
        on_retry_event=on_retry_event,
    )
    cloud = gcp_connect(settings)
    watch(cloud.in_flight)
    return cloud


def check_inputs(
    outputs: Sequence[str], *, cloud: bool = True, summary: bool = True, env_file: bool = False
) -> None:
    """Everything a run will need besides the cloud, checked before its first request: the
    emulator address (for a `cloud` command), each --output, $GITHUB_STEP_SUMMARY (for a
    `summary`) and $GITHUB_ENV (for `env_file`). Raises BootstrapError naming the first that is
    not usable."""
    from bootstrap.gcp.settings import EMULATOR_HOST_ENV, check_emulator_host
    from bootstrap.report.outputs import STEP_SUMMARY_VARIABLE, check_appendable, check_outputs

    host = os.environ.get(EMULATOR_HOST_ENV)
    if host and cloud:
        check_emulator_host(host)
    check_outputs(outputs)
    if summary:
        check_appendable(STEP_SUMMARY_VARIABLE, os.environ)
    if env_file:
        check_appendable("GITHUB_ENV", os.environ)


def stop_if_unreachable(cloud: Cloud) -> None:
    """End the command with one line when the endpoint refused the run's first requests: the
    per-project failures behind it would all say the same thing, and nothing was checked."""
    from bootstrap.errors import BootstrapError, Failure

    failure = getattr(cloud, "unreachable", None)
    if isinstance(failure, Failure):
        raise BootstrapError(failure)


def emit_report(report: RunReport, fmt: str, outputs: Sequence[str]) -> None:
    """Print the report in `fmt`, write each --output, append to $GITHUB_STEP_SUMMARY if set."""
    from bootstrap.report.outputs import append_step_summary, parse_outputs, write_outputs
    from bootstrap.report.render import Format, render, write_report
    from bootstrap.report.table import UNWRAPPED

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    # The terminal's width, 60 at least; piped, lines as long as their content (no wrapping).
    width = UNWRAPPED
    if fmt == "table" and sys.stdout.isatty():
        width = max(60, os.get_terminal_size().columns)
    # Checked before the run (check_inputs); this catches what changed since, in one line.
    try:
        files = parse_outputs(outputs, None)
        write_outputs(report, files)
        problem = None
    except (OSError, ValueError) as error:
        files, problem = [], error
    # A file in the printed format is copied, not encoded again: a fleet's JSON takes seconds to
    # encode. The table is always rendered (its width and colour are the terminal's).
    written = next((path for path, kind in files if kind == fmt != Format.TABLE), None)
    if written is not None:
        with written.open(encoding="utf-8") as text:
            shutil.copyfileobj(text, sys.stdout)
        sys.stdout.flush()
    elif fmt == Format.JSON:  # written as it is encoded: a fleet's report is never held whole
        write_report(report, Format.JSON, sys.stdout)
        sys.stdout.flush()
    else:
        click.echo(render(report, Format(fmt), width=width, color=color), nl=False)
    if problem is not None:
        fail(f"could not write the report: {problem}")
    try:
        append_step_summary(report, os.environ)
    except OSError as error:
        fail(f"could not append to $GITHUB_STEP_SUMMARY: {error.strerror or error}")


def plan_summary(report: RunReport, *, most: int = 5) -> str:
    """What the preview holds, in a few lines above the prompt: each kind of change with how many
    changes and projects it touches, then the projects needing a person and those failing."""
    from bootstrap.report.model import ProjectStatus

    kinds: dict[str, tuple[int, set[str]]] = {}
    for project in report.projects:
        for change in project.changes:
            count, ids = kinds.get(change.action, (0, set()))
            kinds[change.action] = (count + 1, ids | {project.project_id})
    total = sum(count for count, _ in kinds.values())
    touched = len({project_id for _, ids in kinds.values() for project_id in ids})
    lines = [f"Plan: {total} change(s) in {touched} of {len(report.projects)} project(s)"]
    width = max((len(kind) for kind in kinds), default=0) + 2
    for kind, (count, ids) in kinds.items():
        label = kind.replace("_", " ")
        lines.append(f"  {label:<{width}}{count} change(s) in {len(ids)} project(s)")
    for label, status in (
        ("needing a person", ProjectStatus.ACTION_REQUIRED),
        ("failing", ProjectStatus.FAILED),
        ("could not be read", ProjectStatus.UNKNOWN),
    ):
        found = [p.project_id for p in report.projects if p.status is status]
        if found or status is not ProjectStatus.UNKNOWN:
            lines.append(f"  {label}: {_some(found, most)}")
    return "\n".join(lines) + "\n"


def _some(ids: Sequence[str], most: int) -> str:
    if not ids:
        return "none"
    more = f", and {len(ids) - most} more" if len(ids) > most else ""
    return f"{len(ids)} project(s): {', '.join(ids[:most])}{more}"


def confirm_apply(yes: bool, change_count: int) -> None:
    """Ask before writing, on a TTY; refuse without --yes when nobody can answer."""
    if yes or change_count == 0:
        return
    if not sys.stdin.isatty():
        fail("apply changes the cloud and stdin is not a terminal; rerun with --yes to confirm")
    if not click.confirm(f"Apply {change_count} change(s)?", default=False, err=True):
        click.echo("Nothing changed.", err=True)
        sys.exit(int(ExitCode.CHANGES))
